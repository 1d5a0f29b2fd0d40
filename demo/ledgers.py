"""The demo's ledgers: the sandbox's emulated Xero and QBO, prepared and consented to from outside.

The demo imports no sandbox module. The apps, organisations and seed data are made before Ledgerlink's
server starts (its environment needs the apps' credentials), so by the sandbox's own management commands,
each in its own `manage.py` process as bench/ runs them; consent is given over HTTP on the sandbox's
consent pages, as a browser gives it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import requests
from django.conf import settings

CALLBACK_PATH = "/api/v1/connections/callback/"
COMMAND_TIMEOUT_SECONDS = 300
CONSENT_TIMEOUT_SECONDS = 30
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class DemoTenant(NamedTuple):
    """A sandbox organisation or company the demo creates and fills, and whether it connects it to
    Ledgerlink. `ledger` is the sandbox's name for the ledger, upper-cased also the prefix of Ledgerlink's
    settings for that ledger's app (XERO_CLIENT_ID, QBO_CLIENT_ID)."""

    ledger: str
    name: str
    country: str
    currency: str
    seed: int
    connect: bool


DEMO_TENANTS = (
    DemoTenant("xero", "Demo Company (UK)", "GB", "GBP", seed=1, connect=True),
    DemoTenant("xero", "Demo Company (NZ)", "NZ", "NZD", seed=2, connect=False),
    DemoTenant("qbo", "Sandbox Company_US_1", "US", "USD", seed=3, connect=True),
)


@dataclass
class SandboxSetup:
    """What `sandbox_prepare` made: banner lines, the apps' credentials as Ledgerlink's environment
    variables, and the (tenant, tenant id) pairs to connect once the server runs."""

    lines: list[str] = field(default_factory=list)
    app_env: dict[str, str] = field(default_factory=dict)
    to_connect: list[tuple[DemoTenant, str]] = field(default_factory=list)


class DemoStepFailed(Exception):
    """One step of the demo's set-up failed; the message says which and why."""


def sandbox_command_run(*arguments: str) -> str:
    """One sandbox management command in its own process (this one's settings and environment); its
    output."""
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py, fixed arguments
            [*manage, *arguments],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DemoStepFailed(f"manage.py {arguments[0]} took over {COMMAND_TIMEOUT_SECONDS}s") from None
    if done.returncode != 0:
        raise DemoStepFailed(f"manage.py {arguments[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def sandbox_json_run(*arguments: str) -> dict[str, Any]:
    return json.loads(sandbox_command_run(*arguments, "--json"))


def sandbox_prepare(*, base_url: str) -> SandboxSetup:
    """The emulated ledgers the demo talks to: a Xero app with two seeded organisations, a QBO app with
    one seeded company. Idempotent: what exists is reused, and each organisation is seeded once."""
    setup = SandboxSetup()
    apps = {}
    for ledger in dict.fromkeys(tenant.ledger for tenant in DEMO_TENANTS):
        app = sandbox_json_run(
            "sandbox_app",
            "create",
            f"--provider={ledger}",
            "--name=Ledgerlink demo",
            f"--redirect-uri={base_url}{CALLBACK_PATH}",
            "--if-missing",
        )
        apps[ledger] = app["client_id"]
        setup.app_env[f"{ledger.upper()}_CLIENT_ID"] = app["client_id"]
        setup.app_env[f"{ledger.upper()}_CLIENT_SECRET"] = app["client_secret"]
    app_list = ", ".join(f"{ledger} app {client_id}" for ledger, client_id in apps.items())
    setup.lines.append(f"  Sandbox:     {base_url}/sandbox/  ({app_list})")
    marker = Path(settings.VAR_DIR) / "demo-sandbox-seeded.txt"
    for tenant in DEMO_TENANTS:
        org = sandbox_json_run(
            "sandbox_org",
            "create",
            f"--provider={tenant.ledger}",
            f"--name={tenant.name}",
            f"--country={tenant.country}",
            f"--currency={tenant.currency}",
            "--if-missing",
        )
        seeded = marker.read_text().splitlines() if marker.exists() else []
        if org["tenant_id"] not in seeded:
            sandbox_command_run(
                "sandbox_seed",
                tenant.ledger,
                f"--org={org['tenant_id']}",
                "--contacts=200",
                "--invoices=1500",
                f"--seed={tenant.seed}",
            )
            marker.write_text("\n".join([*seeded, org["tenant_id"]]))
        setup.lines.append(f"               {tenant.name} ({tenant.currency}), tenant {org['tenant_id']}")
        if tenant.connect:
            setup.to_connect.append((tenant, org["tenant_id"]))
    return setup


def consent_give(*, authorize_url: str, tenant_id: str) -> str:
    """Allow the authorisation at the sandbox's consent page as its user would, for one organisation or
    company; the location the browser is sent to next."""
    session = requests.Session()
    try:
        page = session.get(authorize_url, allow_redirects=False, timeout=CONSENT_TIMEOUT_SECONDS)
        if page.is_redirect:
            return page.headers["Location"]  # an error the sandbox reports straight to the app
        if page.status_code != 200:
            raise DemoStepFailed(f"The consent screen answered HTTP {page.status_code}.")
        parts = urllib.parse.urlsplit(authorize_url)
        fields = [*urllib.parse.parse_qsl(parts.query), ("decision", "allow")]
        token = _CSRF_INPUT.search(page.text)
        if token:
            fields.append(("csrfmiddlewaretoken", token.group(1)))
        # Xero's form names the organisations `tenant`, QBO's names the company `realm`.
        fields += [("tenant", tenant_id), ("realm", tenant_id)]
        answer = session.post(
            urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            data=fields,
            headers={"Referer": authorize_url},
            allow_redirects=False,
            timeout=CONSENT_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise DemoStepFailed(f"The consent screen failed: {exc}") from None
    if not answer.is_redirect:
        raise DemoStepFailed(
            f"The consent screen answered HTTP {answer.status_code} instead of redirecting: {answer.text[:300]}"
        )
    return answer.headers["Location"]
