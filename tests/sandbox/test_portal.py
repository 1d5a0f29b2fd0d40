"""The developer portal over real HTTP (forms with CSRF, as a browser submits them), the management
commands that do the same for scripts, and the sandbox served on its own by `sandbox_serve`."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import CommandError, call_command

from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant, WebhookItrCheck
from tests.sandbox.test_webhooks import receiver_running

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def portal(live_server) -> str:
    return f"{live_server.url}/sandbox/"


@pytest.fixture
def browser(portal) -> requests.Session:
    """A session holding the CSRF cookie the portal page sets, as a browser would."""
    session = requests.Session()
    session.get(portal, timeout=10).raise_for_status()
    return session


def csrf_post(session: requests.Session, url: str, data: dict[str, Any]) -> requests.Response:
    return session.post(
        url,
        data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=30,
        allow_redirects=True,
    )


def test_portal_lists_apps_and_organisations(portal, xero_app, xero_org):
    page = requests.get(portal, timeout=10)

    assert page.status_code == 200
    html = page.text
    assert "Developer portal" in html
    assert xero_app.name in html
    assert xero_app.client_id in html
    assert xero_org.name in html
    assert xero_org.tenant_id in html
    # Secrets stay off the list; they are on the app's own page.
    assert xero_app.client_secret not in html


def test_register_an_app_and_see_its_credentials(portal, browser):
    answer = csrf_post(
        browser,
        f"{portal}portal/apps",
        {
            "provider": "xero",
            "name": "Bookkeeping Bot",
            "redirect_uris": "http://127.0.0.1:8000/callback\nhttp://localhost:8000/callback\n",
            "webhook_url": "http://127.0.0.1:8000/webhooks/xero",
            "webhook_format": "legacy",
        },
    )

    assert answer.status_code == 200
    app = SandboxApp.objects.get(name="Bookkeeping Bot")
    assert app.provider == SandboxProviderChoices.XERO
    assert app.redirect_uris == ["http://127.0.0.1:8000/callback", "http://localhost:8000/callback"]
    assert app.webhook_url == "http://127.0.0.1:8000/webhooks/xero"
    assert answer.url.endswith(f"/sandbox/portal/apps/{app.client_id}?created=1")
    for credential in (app.client_id, app.client_secret, app.webhook_key):
        assert credential in answer.text
    assert "App registered" in answer.text


def test_invalid_app_registration_is_shown_and_not_saved(portal, browser):
    answer = csrf_post(
        browser,
        f"{portal}portal/apps",
        {"provider": "xero", "name": "Broken", "redirect_uris": "not-a-url", "webhook_format": "legacy"},
    )

    assert answer.status_code == 400
    assert "Enter a valid URL." in answer.text
    assert not SandboxApp.objects.filter(name="Broken").exists()


def test_create_an_organisation(portal, browser):
    answer = csrf_post(
        browser,
        f"{portal}portal/organisations",
        {
            "provider": "xero",
            "name": "Kiwi Traders",
            "base_currency": "nzd",
            "country": "nz",
            "short_code": "!kW1",
        },
    )

    assert answer.status_code == 200
    tenant = Tenant.objects.get(name="Kiwi Traders")
    assert (tenant.provider, tenant.base_currency, tenant.country, tenant.short_code) == (
        "xero",
        "NZD",
        "NZ",
        "!kW1",
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", tenant.tenant_id)
    assert tenant.tenant_id in answer.text


def test_app_page_runs_the_intent_to_receive_check(portal, browser, xero_app):
    with receiver_running() as receiver:
        receiver.verify_with = xero_app.webhook_key
        SandboxApp.objects.filter(pk=xero_app.pk).update(webhook_url=receiver.url)

        answer = csrf_post(browser, f"{portal}portal/apps/{xero_app.client_id}/intent-to-receive", {})

    assert answer.status_code == 200
    assert "passed" in answer.text
    assert WebhookItrCheck.objects.get().passed is True
    assert requests.get(f"{portal}portal/apps/UNKNOWN", timeout=10).status_code == 404


def run_command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sandbox_app_command_creates_lists_and_is_idempotent(xero_org):
    created = json.loads(
        run_command(
            "sandbox_app",
            "create",
            "--provider=xero",
            "--name=Demo",
            "--redirect-uri=http://127.0.0.1:8000/callback",
            "--webhook-url=http://127.0.0.1:8000/webhooks/xero",
            "--json",
        )
    )
    again = json.loads(
        run_command("sandbox_app", "create", "--provider=xero", "--name=Demo", "--if-missing", "--json")
    )
    custom = json.loads(
        run_command(
            "sandbox_app",
            "create",
            "--provider=xero",
            "--name=Custom",
            f"--custom-connection-tenant={xero_org.name}",
            "--json",
        )
    )

    app = SandboxApp.objects.get(name="Demo")
    assert created == again
    assert created["client_id"] == app.client_id
    assert created["client_secret"] == app.client_secret
    assert created["webhook_key"] == app.webhook_key
    assert app.redirect_uris == ["http://127.0.0.1:8000/callback"]
    assert custom["custom_connection_tenant"] == xero_org.tenant_id
    assert SandboxApp.objects.count() == 2
    listed = run_command("sandbox_app", "list")
    assert f"client_id: {app.client_id}" in listed
    assert "Custom (xero)" in listed
    with pytest.raises(CommandError, match="needs --provider and --name"):
        run_command("sandbox_app", "create", "--name=Nameless")
    with pytest.raises(CommandError, match="Not an http"):
        run_command("sandbox_app", "create", "--provider=xero", "--name=Bad", "--webhook-url=ftp://x")


def test_sandbox_org_command_creates_lists_and_is_idempotent():
    created = json.loads(
        run_command(
            "sandbox_org", "create", "--provider=xero", "--name=Demo Org", "--short-code=!d3M", "--json"
        )
    )
    again = json.loads(
        run_command("sandbox_org", "create", "--provider=xero", "--name=Demo Org", "--if-missing", "--json")
    )
    company = json.loads(run_command("sandbox_org", "create", "--provider=qbo", "--name=Demo Co", "--json"))
    fast = json.loads(
        run_command(
            "sandbox_org",
            "create",
            "--provider=xero",
            "--name=Fast",
            "--limit-minute=3",
            "--time-scale=60",
            "--json",
        )
    )

    assert created == again
    assert (created["base_currency"], created["country"], created["short_code"]) == ("GBP", "GB", "!d3M")
    assert (company["base_currency"], company["limit_concurrent"], company["limit_minute"]) == (
        "USD",
        10,
        500,
    )
    assert company["tenant_id"].isdigit()
    assert (fast["limit_minute"], fast["time_scale"]) == (3, 60.0)
    assert Tenant.objects.count() == 3
    assert "Demo Org (xero) tenant_id: " in run_command("sandbox_org", "list", "--provider=xero")
    with pytest.raises(CommandError, match="time_scale"):
        run_command("sandbox_org", "create", "--provider=xero", "--name=Frozen", "--time-scale=0")


# --- the standalone sandbox process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def standalone(tmp_path_factory) -> Iterator[dict[str, Any]]:
    var_dir = tmp_path_factory.mktemp("sandbox-var")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SANDBOX_DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.sandbox_server",
        LEDGERLINK_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    log_path = var_dir / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "sandbox_serve",
                "--port",
                str(port),
                "--control-token",
                "standalone-token",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "Sandbox serving on" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGTERM)
                pytest.fail(f"sandbox_serve did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        try:
            yield {"base": f"http://127.0.0.1:{port}", "env": env}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def manage_json(standalone: dict[str, Any], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "manage.py", *args, "--json"],
        cwd=ROOT,
        env=standalone["env"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(done.stdout))


@pytest.mark.server
def test_standalone_server_serves_the_api_with_limits_and_faults(standalone):
    base = standalone["base"]
    assert requests.get(f"{base}/sandbox/", timeout=10).status_code == 200
    assert requests.get(f"{base}/admin/", timeout=10).status_code == 404
    assert requests.get(f"{base}/sandbox/control/tenants", timeout=10).status_code == 401

    org = manage_json(
        standalone, "sandbox_org", "create", "--provider=xero", "--name=Bench Org", "--if-missing"
    )
    app = manage_json(
        standalone,
        "sandbox_app",
        "create",
        "--provider=xero",
        "--name=Bench",
        "--custom-connection-tenant=Bench Org",
        "--if-missing",
    )
    token = requests.post(
        f"{base}/sandbox/xero/identity/connect/token",
        data={"grant_type": "client_credentials", "scope": "accounting.settings"},
        auth=(app["client_id"], app["client_secret"]),
        timeout=10,
    ).json()["access_token"]
    api = requests.Session()
    api.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    answer = api.get(f"{base}/sandbox/xero/api/api.xro/2.0/Organisation", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["Organisations"][0]["Name"] == "Bench Org"
    assert int(answer.headers["X-MinLimit-Remaining"]) < 60

    # Drop the next call's connection through the control API: this server hands the socket over itself.
    control = requests.patch(
        f"{base}/sandbox/control/tenants/{org['tenant_id']}",
        json={"fault_next_count": 1, "fault_next_kind": "drop"},
        headers={"Authorization": "Bearer standalone-token"},
        timeout=10,
    )
    assert control.status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError, match="without response"):
        api.get(f"{base}/sandbox/xero/api/api.xro/2.0/Organisation", timeout=10)
    assert api.get(f"{base}/sandbox/xero/api/api.xro/2.0/Organisation", timeout=10).status_code == 200


def test_new_qbo_companies_get_intuits_limits_and_keep_stored_ones(transactional_db):
    from sandbox.models import Tenant

    company = Tenant.objects.create(provider="qbo", name="Limits Co")
    assert (company.limit_concurrent, company.limit_minute, company.limit_day) == (10, 500, 1_000_000)
    Tenant.objects.filter(pk=company.pk).update(limit_minute=7)
    assert Tenant.objects.get(pk=company.pk).limit_minute == 7
    explicit = Tenant.objects.create(provider="qbo", name="Strict Co", limit_minute=3)
    assert (explicit.limit_minute, explicit.limit_concurrent) == (3, 10)
    organisation = Tenant.objects.create(provider="xero", name="Xero Org")
    assert (organisation.limit_concurrent, organisation.limit_minute, organisation.limit_day) == (5, 60, 5000)
