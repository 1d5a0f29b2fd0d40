"""Production settings refuse to start without their secrets, and pass Django's deploy checks when set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "Q2lPbmx5VGVzdEtleS0tMzItYnl0ZXMtbG9uZy0tLS0="
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "prod-test-" + "k" * 60,
    "ALLOWED_HOSTS": "ledgerlink.example.com",
    "LEDGERLINK_ENCRYPTION_KEYS": GOOD_KEY,
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV and not k.startswith(("XERO_", "QBO_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **{k: v for k, v in env.items() if v is not None}},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_secrets():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set. Production needs a long random secret key."),
        (
            "LEDGERLINK_ENCRYPTION_KEYS",
            "LEDGERLINK_ENCRYPTION_KEYS is not set. Production needs at least one",
        ),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set."),
    ],
)
def test_prod_refuses_to_start_without(missing, message):
    env = {**PROD_ENV, missing: ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


# What a settings module installs, as JSON on the last line of `manage.py shell -c`.
INSTALLED_REPORT = (
    "import json\n"
    "from django.apps import apps\n"
    "from django.conf import settings\n"
    "from django.urls import get_resolver\n"
    "print(json.dumps({'installed': apps.is_installed('sandbox'), 'databases': sorted(settings.DATABASES),"
    " 'routers': settings.DATABASE_ROUTERS,"
    " 'routes': [str(p.pattern) for p in get_resolver().url_patterns]}))\n"
)


def test_prod_does_not_install_the_sandbox():
    result = manage(
        "shell", "--no-imports", "-c", INSTALLED_REPORT, **PROD_ENV, LEDGERLINK_SANDBOX_ENABLED="true"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["installed"] is False
    assert report["databases"] == ["default"]
    assert report["routers"] == []
    assert not [route for route in report["routes"] if route.startswith("sandbox")]


@pytest.mark.parametrize("module", ["config.settings.dev", "config.settings.test"])
def test_dev_and_test_install_and_mount_the_sandbox(module):
    result = manage("shell", "--no-imports", "-c", INSTALLED_REPORT, DJANGO_SETTINGS_MODULE=module)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["installed"] is True
    assert report["databases"] == ["default", "sandbox"]
    assert report["routers"] == ["sandbox.routers.SandboxRouter"]
    assert "sandbox/" in report["routes"]


def test_invalid_encryption_key_is_named():
    result = manage("check", **{**PROD_ENV, "LEDGERLINK_ENCRYPTION_KEYS": f"{GOOD_KEY},not-a-key"})
    assert result.returncode != 0
    assert "LEDGERLINK_ENCRYPTION_KEYS: key #2 is not a valid Fernet key" in result.stderr


def test_plain_http_ledger_url_is_refused_in_prod_unless_allowed():
    refused = manage("check", **{**PROD_ENV, "XERO_API_URL": "http://127.0.0.1:8000/sandbox/xero/api"})
    assert "XERO_API_URL='http://127.0.0.1:8000/sandbox/xero/api' is not https" in refused.stderr
    allowed = manage(
        "check",
        **{
            **PROD_ENV,
            "XERO_API_URL": "http://127.0.0.1:8000/sandbox/xero/api",
            "LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS": "true",
        },
    )
    assert allowed.returncode == 0, allowed.stderr


def test_env_example_documents_every_variable_settings_read():
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("##")
    }
    read = set()
    for path in (ROOT / "config").rglob("*.py"):
        text = path.read_text()
        for function in ("env_str", "env_bool", "env_int", "env_list"):
            for chunk in text.split(f'{function}("')[1:]:
                read.add(chunk.split('"', 1)[0])
    assert read - documented == set()
