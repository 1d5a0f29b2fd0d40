from __future__ import annotations

import socket
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from sandbox import webhooks
from sandbox.faults import SOCKET_ENVIRON_KEY
from sandbox.routers import SANDBOX_ALIAS


class SandboxRequestHandler(WSGIRequestHandler):
    """Django's development request handler, quiet unless asked, and handing the app its client socket
    so a fault can close the connection without an answer."""

    verbose = False
    # wsgiref writes the headers and the body in separate sends; with Nagle's algorithm on, a small answer
    # on a kept-alive connection then waits for the client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        environ[SOCKET_ENVIRON_KEY] = self.connection
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)


class SandboxServer(ThreadedWSGIServer):
    # Benchmarks open many connections at once; the development server's backlog of 10 refuses them.
    request_queue_size = 256


class Command(BaseCommand):
    help = (
        "Serve the sandbox alone, as its own process: migrates the sandbox database, then serves with a "
        "threaded WSGI server. Use with --settings=config.settings.sandbox_server (sandbox routes only): "
        "`manage.py sandbox_serve --port 8100 --settings=config.settings.sandbox_server`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100, help="0 picks a free port (printed).")
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrating the sandbox database.")
        parser.add_argument(
            "--control-token",
            default=None,
            help="Require this bearer token on the control API (default: the SANDBOX_CONTROL_TOKEN setting).",
        )
        parser.add_argument(
            "--public-url",
            default=None,
            help="Base URL of this server for webhook resource URLs built outside a request "
            "(default: the SANDBOX_PUBLIC_URL setting, else http://<host>:<port>).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", database=SANDBOX_ALIAS, interactive=False, verbosity=0)
        SandboxRequestHandler.verbose = options["verbosity"] >= 2
        server = SandboxServer((options["host"], options["port"]), SandboxRequestHandler)
        host, port = str(server.server_address[0]), server.server_address[1]
        shown_host = f"[{host}]" if server.address_family == socket.AF_INET6 else host
        # This process is the whole server: its command line is where its configuration comes from.
        if options["control_token"] is not None:
            settings.SANDBOX_CONTROL_TOKEN = options["control_token"]
        if options["public_url"] is not None or not getattr(settings, "SANDBOX_PUBLIC_URL", ""):
            settings.SANDBOX_PUBLIC_URL = options["public_url"] or f"http://{shown_host}:{port}"
        server.set_app(get_wsgi_application())
        # Retries left by an earlier run resume without waiting for the first API call.
        webhooks.sender_ensure()
        self.stdout.write(f"Sandbox serving on http://{shown_host}:{port}/sandbox/", ending="\n")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()
