"""Single-flight token refresh across processes: many workers, one expired access token, one refresh.

    .venv/bin/python bench/token_race.py [--workers 8] [--rounds 20] [--database-url postgres://...]

The test suite proves the same with 20 threads on PostgreSQL (tests/integrations/test_tokens_race.py).
This script covers what a test cannot: separate worker *processes*, as a django-q cluster runs them, and
SQLite, where there is no row lock and the refresh is serialised by the database's write lock (Ledgerlink
opens SQLite transactions with BEGIN IMMEDIATE).

1. two fresh databases in a temporary directory (SQLite by default, or --database-url for Ledgerlink's;
   the sandbox stays on SQLite), migrated;
2. a sandbox Xero app and organisation (limits lifted), an admin and an API token;
3. `manage.py runserver` serves Ledgerlink and the sandbox, with the app's credentials in its environment;
4. the real OAuth flow connects the organisation (authorize API, sandbox consent, callback);
5. --rounds times: the stored access token is marked expired, then --workers processes released together
   each test the connection (a real Organisation call through the token service);
6. prints, per round and in all, refreshes seen by the sandbox, successes, failures, needs_reauth.

Exits non-zero if any round saw other than exactly one refresh, or any call failed."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

# Ledgerlink's own modules are imported after django.setup(): the repository root must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import (
    HOST,
    Deadline,
    django_setup,
    finish,
    free_port,
    manage,
    migrate,
    sandbox_environment,
    server_start,
    wait_until_serving,
)


def worker(
    environment: dict[str, str], connection_id: int, rounds: int, start: Any, done: Any, results: Any
) -> None:
    """One worker process: each round, wait for the start signal, test the connection, report."""
    django_setup(environment)
    from integrations.models import Connection
    from integrations.services import connection_test

    for _round in range(rounds):
        start.wait()
        try:
            outcome = connection_test(connection=Connection.objects.get(pk=connection_id))
            results.put((outcome.ok, outcome.error))
        except Exception as exc:
            results.put((False, f"{type(exc).__name__}: {exc}"))
        done.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default="", help="Ledgerlink's database (default: SQLite file)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    deadline = Deadline(options.timeout)
    work = Path(tempfile.mkdtemp(prefix="ledgerlink-token-race-"))
    port = free_port()
    base = f"http://{HOST}:{port}"
    environment = {
        **sandbox_environment(work, debug=False),
        "DEMO_HOST": HOST,
        "DEMO_PORT": str(port),
        "LEDGERLINK_VAR_DIR": str(work),
        "LOG_LEVEL": "WARNING",
    }
    if options.database_url:
        environment["DATABASE_URL"] = options.database_url
    server = None
    try:
        migrate(environment, deadline)
        manage(["createcachetable"], environment, deadline, 60)
        app = json.loads(
            manage(
                [
                    "sandbox_app",
                    "create",
                    "--provider",
                    "xero",
                    "--name",
                    "Race",
                    "--json",
                    "--redirect-uri",
                    f"{base}/api/v1/connections/callback/",
                ],
                environment,
                deadline,
                60,
            ).stdout
        )
        django_setup(environment)
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from core.roles import INTEGRATION_ADMIN
        from core.services import api_token_issue
        from integrations.models import Connection, Credential
        from sandbox.models import SandboxApp, Tenant

        org = Tenant.objects.create(
            provider="xero",
            name="Race Org",
            limit_concurrent=1000,
            limit_minute=1_000_000,
            limit_day=10_000_000,
        )
        user = get_user_model().objects.create_user("racer", is_staff=True)
        user.groups.add(Group.objects.get(name=INTEGRATION_ADMIN.name))  # connects and tests connections
        headers = {"Authorization": f"Token {api_token_issue(user=user)}"}
        environment |= {"XERO_CLIENT_ID": app["client_id"], "XERO_CLIENT_SECRET": app["client_secret"]}
        server, _port = server_start(environment, work, port)
        wait_until_serving(f"{base}/healthz", {}, server, deadline)

        started = requests.post(
            f"{base}/api/v1/connections/authorize/", json={"provider": "xero"}, headers=headers, timeout=30
        )
        started.raise_for_status()
        location = manage(
            ["sandbox_consent", started.json()["authorize_url"], "--tenant", org.tenant_id],
            environment,
            deadline,
            60,
        ).stdout.strip()
        # The browser that started the authorisation brings its nonce cookie back to the callback.
        callback = requests.get(
            location, headers={"Accept": "application/json"}, cookies=started.cookies, timeout=30
        )
        callback.raise_for_status()
        connection_id = callback.json()["connections"][0]["id"]
        credential = Connection.objects.get(pk=connection_id).credential
        if credential is None:
            raise SystemExit("The callback left the connection without a credential.")

        context = multiprocessing.get_context("spawn")
        start, done = context.Barrier(options.workers + 1), context.Barrier(options.workers + 1)
        results = context.Queue()
        processes = [
            context.Process(
                target=worker, args=(environment, connection_id, options.rounds, start, done, results)
            )
            for _ in range(options.workers)
        ]
        for process in processes:
            process.start()
        refresh_counts, failures, round_ms = [], [], []
        for number in range(options.rounds):
            credential = Credential.objects.get(pk=credential.pk)
            credential.tokens = {**credential.tokens, "access_expires_at": time.time() - 60}
            credential.save(update_fields=["tokens"])
            before = SandboxApp.objects.get(client_id=app["client_id"]).token_refresh_count
            began = time.perf_counter()
            start.wait(timeout=deadline.left(120))
            done.wait(timeout=deadline.left(120))
            round_ms.append((time.perf_counter() - began) * 1000)
            outcomes = [results.get(timeout=30) for _ in processes]
            refreshes = SandboxApp.objects.get(client_id=app["client_id"]).token_refresh_count - before
            refresh_counts.append(refreshes)
            failures += [error for ok, error in outcomes if not ok]
            print(
                f"round {number + 1:>3}: {refreshes} refresh(es) at the sandbox, "
                f"{sum(ok for ok, _ in outcomes)}/{len(outcomes)} calls ok, {round_ms[-1]:.0f} ms"
            )
        for process in processes:
            process.join(timeout=30)
        status = Connection.objects.get(pk=connection_id).status
        vendor = "PostgreSQL" if options.database_url.startswith("postgres") else "SQLite"
        print(
            f"\n{vendor}, {options.workers} worker processes x {options.rounds} rounds: "
            f"refreshes per round min {min(refresh_counts)} / max {max(refresh_counts)} "
            f"(target exactly 1), failed calls {len(failures)}, connection status {status}, "
            f"round time median {statistics.median(round_ms):.0f} ms"
        )
        for error in sorted(set(failures))[:5]:
            print(f"  failure: {error}")
        clean = set(refresh_counts) == {1} and not failures and status == "active"
        print("OK" if clean else "FAILED")
        return 0 if clean else 1
    finally:
        finish(server, work, keep=options.keep)


if __name__ == "__main__":
    sys.exit(main())
