"""`manage.py demo`: everything the demo needs, in one command (run by `python3 dev.py demo`).

Lives in `integrations` (not `core`) because it connects the sandbox's ledgers through the provider
registry; `core` imports nothing but Django."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.services import admin_user_bootstrap, api_token_issue
from integrations.choices import ConnectionStatusChoices
from integrations.providers import get_provider, providers
from integrations.providers.base import Provider

READY_TIMEOUT_SECONDS = 90
API_TIMEOUT_SECONDS = 60
CALLBACK_PATH = "/api/v1/connections/callback/"
# How long the banner waits for a new connection's first sync before printing what it has.
SYNC_WAIT_SECONDS = 180


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
    """What `_sandbox_prepare` made: banner lines, the apps' credentials as Ledgerlink's environment
    variables, and the (tenant, tenant id) pairs to connect once the server runs."""

    lines: list[str] = field(default_factory=list)
    app_env: dict[str, str] = field(default_factory=dict)
    to_connect: list[tuple[DemoTenant, str]] = field(default_factory=list)


class DemoStepFailed(Exception):
    """One step of connecting a demo tenant failed; the message says which and why."""


class LedgerlinkApi:
    """Ledgerlink's own API over HTTP, as the staff user whose token this is (as any client would)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

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
            with urllib.request.urlopen(request, timeout=API_TIMEOUT_SECONDS) as response:  # noqa: S310
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


class Command(BaseCommand):
    help = (
        "Prepare the database (migrations, cache table, admin user) and the sandbox ledgers, run the web "
        "server and the task cluster, connect two sandbox tenants through OAuth, and keep running until "
        "interrupted, printing the URLs, the login and the connections."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("DEMO_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8000")))

    def handle(self, *args: Any, **options: Any) -> None:
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        for alias in settings.DATABASES:
            call_command("migrate", database=alias, interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        login = self._admin_login()

        base_url = f"http://{options['host']}:{options['port']}"
        sandbox = self._sandbox_prepare(base_url) if settings.LEDGERLINK_SANDBOX_ENABLED else SandboxSetup()
        env = self._server_env(options["host"], options["port"], sandbox.app_env)
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        # Each child in its own process group, so that only this command signals it, and only once: Ctrl-C
        # (or a signal to our group) would otherwise reach the task cluster a second time as it stops, and
        # django-q's cluster then hangs until killed.
        processes = {
            "web server": subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py, no shell
                [*manage, "runserver", "--noreload", f"{options['host']}:{options['port']}"],
                env=env,
                process_group=0,
            ),
            "task cluster": subprocess.Popen(  # noqa: S603 - as above
                [*manage, "qcluster"], env=env, process_group=0
            ),
        }

        def stop(*_args: object) -> None:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self._wait_until_ready(base_url, processes)
            connection_lines = self._connections_prepare(base_url, login[0], sandbox)
            self._print_banner(base_url, login, [*sandbox.lines, *connection_lines])
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        raise CommandError(f"The {name} stopped (exit code {process.returncode}).")
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping ...")
        finally:
            stop()

    def _admin_login(self) -> tuple[str, str]:
        """The demo's staff login. A generated password is kept in the var directory so that every run
        of the demo can show it, not only the first."""
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

    def _server_env(self, host: str, port: int, app_env: dict[str, str]) -> dict[str, str]:
        """The environment of the web server and the task cluster: the sandbox apps' credentials, unless
        the environment names other apps, and this run's address (the dev settings point the ledger URLs
        at the sandbox there)."""
        env = {**os.environ, "DEMO_HOST": host, "DEMO_PORT": str(port)}
        for key, value in app_env.items():
            if not os.environ.get(key):
                env[key] = value
        return env

    def _wait_until_ready(self, base_url: str, processes: dict[str, subprocess.Popen]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise CommandError(f"The {name} failed to start (exit code {process.returncode}).")
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise CommandError(
            f"The web server did not answer {base_url}/healthz within {READY_TIMEOUT_SECONDS}s."
        )

    def _sandbox_prepare(self, base_url: str) -> SandboxSetup:
        """The emulated ledgers the demo talks to: a Xero app with two seeded organisations, a QBO app with
        one seeded company.

        Driven through the sandbox's own management commands: Ledgerlink code never imports the sandbox."""

        def run(*args: str) -> dict:
            out = io.StringIO()
            call_command(*args, "--json", stdout=out)
            return json.loads(out.getvalue())

        setup = SandboxSetup()
        apps = {}
        for ledger in dict.fromkeys(tenant.ledger for tenant in DEMO_TENANTS):
            app = run(
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
            org = run(
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
                call_command(
                    "sandbox_seed",
                    tenant.ledger,
                    f"--org={org['tenant_id']}",
                    "--contacts=200",
                    "--invoices=1500",
                    f"--seed={tenant.seed}",
                    stdout=io.StringIO(),
                )
                marker.write_text("\n".join([*seeded, org["tenant_id"]]))
            setup.lines.append(f"               {tenant.name} ({tenant.currency}), tenant {org['tenant_id']}")
            if tenant.connect:
                setup.to_connect.append((tenant, org["tenant_id"]))
        return setup

    def _connections_prepare(self, base_url: str, username: str, sandbox: SandboxSetup) -> list[str]:
        """Connect each demo tenant to Ledgerlink as a newcomer would, over HTTP: start the authorisation
        through the API, give consent at the sandbox, follow the redirect to Ledgerlink's callback; then
        test the connection. Idempotent: a tenant already connected and healthy is only tested. A failure
        is reported in the banner and the demo runs on."""
        if not sandbox.to_connect:
            return []
        api = LedgerlinkApi(base_url, api_token_issue(user=get_user_model().objects.get(username=username)))
        lines = []
        for tenant, tenant_id in sandbox.to_connect:
            provider = self._provider(tenant)
            try:
                lines.append(self._connection_ensure(api, base_url, provider.key, tenant_id, sandbox.app_env))
            except Exception as exc:  # the demo must keep running whatever went wrong here
                reason = str(exc) if isinstance(exc, DemoStepFailed) else repr(exc)
                lines.append(f"{tenant.name} ({provider.label}): NOT CONNECTED: {reason}")
                self.stderr.write(
                    f"The demo could not connect {tenant.name} ({provider.label}, tenant {tenant_id}): {reason}"
                )
        return [f"  {'Connections:' if i == 0 else '':<13}{line}" for i, line in enumerate(lines)]

    def _connection_ensure(
        self, api: LedgerlinkApi, base_url: str, provider: str, tenant_id: str, app_env: dict[str, str]
    ) -> str:
        """One demo tenant connected and tested; its banner line."""
        prefix = get_provider(provider).settings_prefix
        for key in (f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"):
            if os.environ.get(key) and os.environ[key] != app_env.get(key):
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
                return self._connection_line(api, connection["id"], "already connected")
        connection_id = self._oauth_connect(api, base_url, provider, tenant_id)
        api.call("POST", f"/api/v1/connections/{connection_id}/test/")
        return self._connection_line(api, connection_id, "connected now")

    def _provider(self, tenant: DemoTenant) -> Provider:
        """Ledgerlink's provider for a sandbox ledger: the one whose settings the ledger's name prefixes."""
        for provider in providers():
            if provider.settings_prefix == tenant.ledger.upper():
                return provider
        raise CommandError(f"Ledgerlink has no provider configured by {tenant.ledger.upper()}_* settings.")

    def _oauth_connect(self, api: LedgerlinkApi, base_url: str, provider: str, tenant_id: str) -> int:
        """The OAuth flow end to end; the id of the connection it made."""
        start = api.call("POST", "/api/v1/connections/authorize/", {"provider": provider})
        try:
            location = call_command(
                "sandbox_consent", start["authorize_url"], tenant=[tenant_id], stdout=io.StringIO()
            )
        except CommandError as exc:
            raise DemoStepFailed(
                f"Consent at the sandbox failed: {exc} (is {base_url}{CALLBACK_PATH} the redirect URI "
                "Ledgerlink sends? LEDGERLINK_PUBLIC_URL changes it.)"
            ) from None
        if not str(location).startswith(f"{base_url}{CALLBACK_PATH}"):
            raise DemoStepFailed(
                f"The sandbox sent the browser elsewhere than Ledgerlink's callback: {location}"
            )
        # The callback is where a browser lands: no token, as a browser has none.
        connections = api.call("GET", location, anonymous=True)["connections"]
        if len(connections) != 1:
            raise DemoStepFailed(f"The callback made {len(connections)} connections instead of one.")
        return connections[0]["id"]

    def _connection_line(self, api: LedgerlinkApi, connection_id: int, how: str) -> str:
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
        return f"{line} ({how}); {self._sync_summary(api, connection_id)}"

    def _sync_summary(self, api: LedgerlinkApi, connection_id: int) -> str:
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

    def _print_banner(self, base_url: str, login: tuple[str, str], extra_lines: list[str]) -> None:
        lines = [
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
            f"  Database:    {settings.DATABASES['default']['NAME']} ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
