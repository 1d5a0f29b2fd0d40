"""`manage.py demo`: everything the demo needs, in one command (run by `python3 dev.py demo`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.ledgers import DemoStepFailed, SandboxSetup, sandbox_prepare
from demo.services import (
    DemoFailed,
    banner_lines,
    connections_prepare,
    demo_login_ensure,
    server_env_build,
    server_ready_wait,
)


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
        try:
            self._run(options["host"], options["port"])
        except (DemoFailed, DemoStepFailed) as exc:
            raise CommandError(str(exc)) from None

    def _run(self, host: str, port: int) -> None:
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        for alias in settings.DATABASES:
            call_command("migrate", database=alias, interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        login = demo_login_ensure()

        base_url = f"http://{host}:{port}"
        sandbox = (
            sandbox_prepare(base_url=base_url) if settings.LEDGERLINK_SANDBOX_ENABLED else SandboxSetup()
        )
        env = server_env_build(host=host, port=port, app_env=sandbox.app_env)
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        # Each child in its own process group, so that only this command signals it, and only once: Ctrl-C
        # (or a signal to our group) would otherwise reach the task cluster a second time as it stops, and
        # django-q's cluster then hangs until killed.
        processes = {
            "web server": subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py, no shell
                [*manage, "runserver", "--noreload", f"{host}:{port}"], env=env, process_group=0
            ),
            "task cluster": subprocess.Popen(  # noqa: S603 - as above
                [*manage, "qcluster"], env=env, process_group=0
            ),
        }

        def stop() -> None:
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
            server_ready_wait(base_url=base_url, processes=processes)
            errors: list[str] = []
            connection_lines = connections_prepare(
                base_url=base_url, username=login[0], sandbox=sandbox, errors=errors
            )
            for error in errors:
                self.stderr.write(error)
            self.stdout.write(
                "\n".join(
                    banner_lines(
                        base_url=base_url,
                        login=login,
                        extra_lines=[
                            *sandbox.lines,
                            f"  Sandbox control API: {base_url}/sandbox/control/ "
                            f"(Authorization: Bearer {env['SANDBOX_CONTROL_TOKEN']})",
                            *connection_lines,
                        ],
                    )
                )
            )
            self.stdout.flush()
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        raise DemoFailed(f"The {name} stopped (exit code {process.returncode}).")
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping ...")
        finally:
            stop()
