"""`manage.py demo`: everything the demo needs, in one command (run by `python3 dev.py demo`)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.services import admin_user_bootstrap

READY_TIMEOUT_SECONDS = 90
# (ledger, name, country, base currency, seed) of the sandbox tenants the demo creates and fills.
DEMO_TENANTS = (
    ("xero", "Demo Company (UK)", "GB", "GBP", 1),
    ("xero", "Demo Company (NZ)", "NZ", "NZD", 2),
    ("qbo", "Sandbox Company_US_1", "US", "USD", 3),
)


class Command(BaseCommand):
    help = (
        "Prepare the database (migrations, cache table, admin user) and run the web server and the task "
        "cluster until interrupted, printing the URLs and the login."
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
        sandbox_lines = self._sandbox_prepare(base_url) if settings.LEDGERLINK_SANDBOX_ENABLED else []
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        processes = {
            "web server": subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py, no shell
                [*manage, "runserver", "--noreload", f"{options['host']}:{options['port']}"]
            ),
            "task cluster": subprocess.Popen([*manage, "qcluster"]),  # noqa: S603 - as above
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
            self._print_banner(base_url, login, sandbox_lines)
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

    def _sandbox_prepare(self, base_url: str) -> list[str]:
        """The emulated ledgers the demo talks to: a Xero app with two seeded organisations, a QBO app with
        one seeded company.

        Driven through the sandbox's own management commands: Ledgerlink code never imports the sandbox."""

        def run(*args: str) -> dict:
            out = io.StringIO()
            call_command(*args, "--json", stdout=out)
            return json.loads(out.getvalue())

        app = run(
            "sandbox_app",
            "create",
            "--provider=xero",
            "--name=Ledgerlink demo",
            f"--redirect-uri={base_url}/api/v1/connections/callback/",
            "--if-missing",
        )
        qbo_app = run(
            "sandbox_app",
            "create",
            "--provider=qbo",
            "--name=Ledgerlink demo",
            f"--redirect-uri={base_url}/api/v1/connections/callback/",
            "--if-missing",
        )
        lines = [
            f"  Sandbox:     {base_url}/sandbox/  (Xero app {app['client_id']}, QBO app {qbo_app['client_id']})",
        ]
        marker = Path(settings.VAR_DIR) / "demo-sandbox-seeded.txt"
        for provider, name, country, currency, seed in DEMO_TENANTS:
            org = run(
                "sandbox_org",
                "create",
                f"--provider={provider}",
                f"--name={name}",
                f"--country={country}",
                f"--currency={currency}",
                "--if-missing",
            )
            seeded = marker.read_text().splitlines() if marker.exists() else []
            if org["tenant_id"] not in seeded:
                call_command(
                    "sandbox_seed",
                    provider,
                    f"--org={org['tenant_id']}",
                    "--contacts=60",
                    "--invoices=600",
                    f"--seed={seed}",
                    stdout=io.StringIO(),
                )
                marker.write_text("\n".join([*seeded, org["tenant_id"]]))
            lines.append(f"               {name} ({currency}), tenant {org['tenant_id']}")
        return lines

    def _print_banner(self, base_url: str, login: tuple[str, str], sandbox_lines: list[str]) -> None:
        lines = [
            "",
            "Ledgerlink demo is running (Ctrl-C stops it).",
            f"  Admin:       {base_url}/admin/",
            f"  API docs:    {base_url}/api/docs/",
            f"  API schema:  {base_url}/api/schema/",
            f"  API:         {base_url}/api/v1/",
            f"  Health:      {base_url}/healthz",
            f"  Login:       {login[0]} / {login[1]}",
            *sandbox_lines,
            f"  Database:    {settings.DATABASES['default']['NAME']} ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
