"""The demo's steps: its staff login, the servers' environment, and connecting the sandbox's tenants to
Ledgerlink over HTTP (Ledgerlink's API and the sandbox's consent pages), as a newcomer would."""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from core.services import admin_user_bootstrap, api_token_issue
from demo.ledgers import CALLBACK_PATH, DemoStepFailed, DemoTenant, SandboxSetup, consent_give
from integrations.choices import ConnectionStatusChoices
from integrations.providers import get_provider, providers
from integrations.providers.base import Provider

READY_TIMEOUT_SECONDS = 90
API_TIMEOUT_SECONDS = 60
# How long the banner waits for a new connection's first sync before printing what it has.
SYNC_WAIT_SECONDS = 180


class DemoFailed(Exception):
    """The demo cannot go on (a server did not start or stopped); the message says why."""


class LedgerlinkApi:
    """Ledgerlink's own API over HTTP, as the staff user whose token this is (as any client would)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        # Cookies kept as a browser keeps them: an authorisation's callback must bring back the nonce
        # cookie its start set.
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, anonymous: bool = False
    ) -> Any:
        """`path` (or a full URL) on this server; `anonymous`: without the token, as a browser calls."""
        url = path if path.startswith(f"{self.base_url}/") else f"{self.base_url}{path}"
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if not anonymous:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(  # noqa: S310 - our own server's http URL
            url, data=None if body is None else json.dumps(body).encode(), method=method, headers=headers
        )
        shown = url.removeprefix(self.base_url).split("?", 1)[0]
        try:
            with self.opener.open(request, timeout=API_TIMEOUT_SECONDS) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise DemoStepFailed(f"{method} {shown} answered {exc.code}: {_error_message(exc)}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DemoStepFailed(f"{method} {shown} failed: {exc}") from None


def _error_message(exc: urllib.error.HTTPError) -> str:
    raw = exc.read()
    try:
        error = json.loads(raw)["error"]
    except (ValueError, KeyError, TypeError):
        return raw[:300].decode("utf-8", "replace") or exc.reason
    fields = "; ".join(
        f"{name}: {' '.join(map(str, msgs))}" for name, msgs in error.get("fields", {}).items()
    )
    return f"{error.get('message', '')} {fields}".strip() + f" ({error.get('code', '?')})"


def demo_login_ensure() -> tuple[str, str]:
    """The demo's staff login. A generated password is kept in the var directory so that every run of
    the demo can show it, not only the first."""
    password_file = Path(settings.VAR_DIR) / "demo-admin-password.txt"
    result = admin_user_bootstrap(
        username=settings.LEDGERLINK_ADMIN_USERNAME,
        email=settings.LEDGERLINK_ADMIN_EMAIL,
        password=os.environ.get("LEDGERLINK_ADMIN_PASSWORD") or None,
    )
    if result.generated_password:
        password_file.write_text(result.generated_password)
        password_file.chmod(0o600)
    if os.environ.get("LEDGERLINK_ADMIN_PASSWORD"):
        shown = "(the one in LEDGERLINK_ADMIN_PASSWORD)"
    elif password_file.exists():
        shown = password_file.read_text().strip()
    else:
        shown = f"(set earlier; reset with `manage.py changepassword {result.username}`)"
    return result.username, shown


def server_env_build(*, host: str, port: int, app_env: dict[str, str]) -> dict[str, str]:
    """The environment of the web server and the task cluster: the sandbox apps' credentials, unless the
    environment names other apps, and this run's address (the dev settings point the ledger URLs at the
    sandbox there)."""
    env = {**os.environ, "DEMO_HOST": host, "DEMO_PORT": str(port)}
    for key, value in app_env.items():
        if not os.environ.get(key):
            env[key] = value
    # The sandbox's control API hands out the apps' secrets: it answers only to this run's token.
    if not env.get("SANDBOX_CONTROL_TOKEN"):
        env["SANDBOX_CONTROL_TOKEN"] = secrets.token_urlsafe(24)
    return env


def server_ready_wait(*, base_url: str, processes: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise DemoFailed(f"The {name} failed to start (exit code {process.returncode}).")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise DemoFailed(f"The web server did not answer {base_url}/healthz within {READY_TIMEOUT_SECONDS}s.")


def connections_prepare(
    *, base_url: str, username: str, sandbox: SandboxSetup, errors: list[str]
) -> list[str]:
    """Connect each demo tenant to Ledgerlink as a newcomer would, over HTTP: start the authorisation
    through the API, give consent at the sandbox, follow the redirect to Ledgerlink's callback; then test
    the connection. Idempotent: a tenant already connected and healthy is only tested. A failure is
    reported in the banner (and in `errors`) and the demo runs on."""
    if not sandbox.to_connect:
        return []
    api = LedgerlinkApi(base_url, api_token_issue(user=get_user_model().objects.get(username=username)))
    lines = []
    for tenant, tenant_id in sandbox.to_connect:
        provider = tenant_provider(tenant)
        try:
            lines.append(
                connection_ensure(api=api, provider=provider.key, tenant_id=tenant_id, sandbox=sandbox)
            )
        except Exception as exc:  # the demo must keep running whatever went wrong here
            reason = str(exc) if isinstance(exc, DemoStepFailed) else repr(exc)
            lines.append(f"{tenant.name} ({provider.label}): NOT CONNECTED: {reason}")
            errors.append(
                f"The demo could not connect {tenant.name} ({provider.label}, tenant {tenant_id}): {reason}"
            )
    return [f"  {'Connections:' if i == 0 else '':<13}{line}" for i, line in enumerate(lines)]


def connection_ensure(*, api: LedgerlinkApi, provider: str, tenant_id: str, sandbox: SandboxSetup) -> str:
    """One demo tenant connected and tested; its banner line."""
    prefix = get_provider(provider).settings_prefix
    for key in (f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"):
        if os.environ.get(key) and os.environ[key] != sandbox.app_env.get(key):
            raise DemoStepFailed(
                f"{key} in your environment names another app than the sandbox's; "
                "connect it yourself (POST /api/v1/connections/authorize/)."
            )
    query = urllib.parse.urlencode({"provider": provider, "tenant_id": tenant_id})
    found = api.call("GET", f"/api/v1/connections/?{query}")["results"]
    connection = found[0] if found else None
    if connection is not None and connection["status"] == ConnectionStatusChoices.ACTIVE:
        result = api.call("POST", f"/api/v1/connections/{connection['id']}/test/")
        if result["ok"]:
            return connection_line(api=api, connection_id=connection["id"], how="already connected")
    connection_id = oauth_connect(api=api, provider=provider, tenant_id=tenant_id)
    api.call("POST", f"/api/v1/connections/{connection_id}/test/")
    return connection_line(api=api, connection_id=connection_id, how="connected now")


def tenant_provider(tenant: DemoTenant) -> Provider:
    """Ledgerlink's provider for a sandbox ledger: the one whose settings the ledger's name prefixes."""
    for provider in providers():
        if provider.settings_prefix == tenant.ledger.upper():
            return provider
    raise DemoFailed(f"Ledgerlink has no provider configured by {tenant.ledger.upper()}_* settings.")


def oauth_connect(*, api: LedgerlinkApi, provider: str, tenant_id: str) -> int:
    """The OAuth flow end to end; the id of the connection it made."""
    callback = f"{api.base_url}{CALLBACK_PATH}"
    start = api.call("POST", "/api/v1/connections/authorize/", {"provider": provider})
    try:
        location = consent_give(authorize_url=start["authorize_url"], tenant_id=tenant_id)
    except DemoStepFailed as exc:
        raise DemoStepFailed(
            f"Consent at the sandbox failed: {exc} (is {callback} the redirect URI Ledgerlink sends? "
            "LEDGERLINK_PUBLIC_URL changes it.)"
        ) from None
    if not location.startswith(callback):
        raise DemoStepFailed(f"The sandbox sent the browser elsewhere than Ledgerlink's callback: {location}")
    # The callback is where a browser lands: no token, as a browser has none.
    connections = api.call("GET", location, anonymous=True)["connections"]
    if len(connections) != 1:
        raise DemoStepFailed(f"The callback made {len(connections)} connections instead of one.")
    return connections[0]["id"]


def connection_line(*, api: LedgerlinkApi, connection_id: int, how: str) -> str:
    connection = api.call("GET", f"/api/v1/connections/{connection_id}/")
    health = connection["health"]
    line = (
        f"{connection['display_name']} ({connection['provider_label']}, id {connection['id']}): "
        f"{connection['status']}, health {health['status']}"
    )
    if health["latency_ms"] is not None:
        line += f", {health['latency_ms']} ms"
    if health["error"]:
        line += f": {health['error']}"
    return f"{line} ({how}); {sync_summary(api=api, connection_id=connection_id)}"


def sync_summary(*, api: LedgerlinkApi, connection_id: int) -> str:
    """Wait (a bounded while) for the connection's first sync, and say what it mirrored."""
    deadline = time.monotonic() + SYNC_WAIT_SECONDS
    while True:
        states = api.call("GET", f"/api/v1/connections/{connection_id}/sync-states/")
        busy = [s for s in states if s["state"] in ("never", "syncing")]
        if states and not busy:
            break
        if time.monotonic() > deadline:
            return f"first sync still running ({len(busy)} families left): see Sync runs in the admin"
        time.sleep(1)
    records = sum(state["records"] for state in states)
    failed = [state["entity"] for state in states if state["state"] not in ("synced",)]
    summary = f"{records:,} records synced in {len(states)} families"
    return summary + (f", FAILED: {', '.join(failed)}" if failed else "")


def banner_lines(*, base_url: str, login: tuple[str, str], extra_lines: list[str]) -> list[str]:
    database = settings.DATABASES["default"]
    return [
        "",
        "Ledgerlink demo is running (Ctrl-C stops it).",
        f"  Admin:       {base_url}/admin/",
        f"  Invoices:    {base_url}/admin/accounting/invoice/ (select rows, then Export for CSV or XLSX)",
        f"  Dashboard:   {base_url}/admin/integrations/connection/dashboard/",
        f"  API docs:    {base_url}/api/docs/",
        f"  API schema:  {base_url}/api/schema/",
        f"  API:         {base_url}/api/v1/",
        f"  Health:      {base_url}/healthz",
        f"  Login:       {login[0]} / {login[1]}",
        *extra_lines,
        f"  Database:    {database['NAME']} ({database['ENGINE'].rsplit('.', 1)[-1]})",
        "",
    ]
