"""Benchmark of the emulated QuickBooks Online API: seeding a company, then serving 1,000-invoice query pages.

    .venv/bin/python bench/sandbox_qbo.py [--invoices 100000] [--requests 25] [--positions 5]

Everything runs on loopback, in a temporary directory that is removed afterwards:

1. two fresh SQLite databases (the sandbox's and the default one), migrated;
2. `manage.py shell -c` creates a QBO company and fills it with `sandbox.qbo.seed.company_seed` (timed:
   the target is 100,000 invoices in under two minutes);
3. a developer app, a grant to the company and an access token are made with the sandbox's own services
   (`sandbox.qbo.tokens`), and the rate limits are lifted: this measures serving, not throttling;
4. `manage.py runserver --noreload` serves the sandbox on a free loopback port, as a separate process
   (config.settings.dev with DEBUG off);
5. `SELECT * FROM Invoice STARTPOSITION n MAXRESULTS 1000` is timed over raw HTTP (GET /query) and
   through the unmodified python-quickbooks SDK (`Invoice.filter(max_results=1000, start_position=n)`,
   which POSTs the query and builds its objects), at several positions spread over the whole list,
   against the 200 ms target;
6. the server is stopped (its own process only).

Every step has a time limit; the whole run stops after --timeout seconds."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from harness import (
    HOST,
    Deadline,
    finish,
    manage,
    migrate,
    sandbox_environment,
    server_start,
    timed,
    wait_until_serving,
)

COMPANY_NAME = "Bench Company_US"
SEED_TARGET_SECONDS = 120.0
PAGE_SIZE = 1000
SCOPES = "com.intuit.quickbooks.accounting openid profile email"
MINOR_VERSION = "75"

# Run by `manage.py shell -c`: a company, seeded; the report is printed as the last line of output.
SEED = """
import json
from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.qbo.seed import company_seed
tenant = Tenant.objects.create(
    provider=SandboxProviderChoices.QBO, name={name!r}, base_currency="USD", country="US",
    limit_concurrent=100, limit_minute=1_000_000, limit_day=10_000_000,
)
report = company_seed(tenant=tenant, customers={customers}, invoices={invoices}, seed={seed})
print(json.dumps({{"seconds": report.seconds, "counts": report.counts}}))
"""

# Run by `manage.py shell -c` once the company is seeded: an app, a grant and a token.
APP_SETUP = """
import json
from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant
from sandbox.qbo import tokens
tenant = Tenant.objects.get(provider=SandboxProviderChoices.QBO, name={name!r})
app = SandboxApp.objects.create(
    provider=SandboxProviderChoices.QBO,
    name="Sandbox benchmark",
    redirect_uris=["http://127.0.0.1:9/qbo/callback"],
    limit_app_minute=1_000_000,
)
grant = tokens.grant_create(app=app, scopes={scopes!r}, tenant=tenant, user_email="bench@example.com")
token = tokens.tokens_issue(grant=grant)
print(json.dumps({{"realm_id": tenant.tenant_id, "client_id": app.client_id,
                  "client_secret": app.client_secret, "redirect_uri": app.redirect_uris[0], "token": token}}))
"""


def last_json_line(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout.strip().splitlines()[-1])


def spread_positions(count: int, wanted: int) -> list[int]:
    """STARTPOSITIONs (1-based) of `wanted` full pages from the first to the last, evenly spread."""
    last = max(1, count - PAGE_SIZE + 1)
    if wanted == 1 or last == 1:
        return [1]
    step = (last - 1) / (wanted - 1)
    return sorted({1 + round(index * step) for index in range(wanted)})


def page_query(position: int) -> str:
    """A 1,000-invoice page in QBO's query language (not SQL: the position is an integer)."""
    return f"SELECT * FROM Invoice STARTPOSITION {position} MAXRESULTS {PAGE_SIZE}"  # noqa: S608


def sdk_client(info: dict[str, Any], qbo_url: str) -> Any:
    """The unmodified python-quickbooks client, set up as Ledgerlink sets it up: an AuthClient built from
    the sandbox's discovery document, the v3 base URL overridden on the instance."""
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks

    auth_client = AuthClient(
        info["client_id"],
        info["client_secret"],
        info["redirect_uri"],
        f"{qbo_url}/.well-known/openid_configuration",
        access_token=info["token"]["access_token"],
        refresh_token=info["token"]["refresh_token"],
        realm_id=info["realm_id"],
    )
    client = QuickBooks(
        auth_client=auth_client,
        refresh_token=info["token"]["refresh_token"],
        company_id=info["realm_id"],
        minorversion=int(MINOR_VERSION),
    )
    client.api_url_v3 = f"{qbo_url}/v3"
    return client


def seed(
    options: argparse.Namespace, customers: int, environment: dict[str, str], deadline: Deadline
) -> None:
    started = time.perf_counter()
    seeded = manage(
        [
            "shell",
            "--no-imports",
            "-c",
            SEED.format(name=COMPANY_NAME, customers=customers, invoices=options.invoices, seed=options.seed),
        ],
        environment,
        deadline,
        options.timeout,
    )
    wall = time.perf_counter() - started
    report = last_json_line(seeded)
    seconds = float(report["seconds"])
    verdict = "OK" if seconds < SEED_TARGET_SECONDS else "OVER"
    counts: dict[str, int] = report["counts"]
    print(
        f"seed: {options.invoices:,} invoices, {customers:,} customers in {seconds:.1f} s "
        f"({options.invoices / seconds:,.0f} invoices/s; {wall:.1f} s with the command's start-up)  "
        f"[target {SEED_TARGET_SECONDS:.0f} s: {verdict}]"
    )
    documents = sum(n for entity, n in counts.items() if " " not in entity)
    print(f"  {documents:,} entities written through the engine ({documents / seconds:,.0f}/s):")
    for entity, n in sorted(counts.items(), key=lambda pair: -pair[1]):
        print(f"    {entity}: {n:,}")


def run(options: argparse.Namespace) -> None:
    deadline = Deadline(options.timeout)
    customers = options.customers or max(1, options.invoices // 20)
    work = Path(tempfile.mkdtemp(prefix="ledgerlink-bench-qbo-"))
    environment = sandbox_environment(work, debug=options.debug)
    server: subprocess.Popen[bytes] | None = None
    try:
        print(f"work directory: {work}")
        migrate(environment, deadline)
        seed(options, customers, environment, deadline)
        size = (work / "sandbox.sqlite3").stat().st_size
        print(f"  sandbox database: {size / 1_048_576:,.0f} MB")

        setup = manage(
            ["shell", "--no-imports", "-c", APP_SETUP.format(name=COMPANY_NAME, scopes=SCOPES)],
            environment,
            deadline,
            120,
        )
        info = last_json_line(setup)

        server, port = server_start(environment, work)
        qbo_url = f"http://{HOST}:{port}/sandbox/qbo"
        company_url = f"{qbo_url}/v3/company/{info['realm_id']}"
        headers = {"Authorization": f"Bearer {info['token']['access_token']}", "Accept": "application/json"}
        wait_until_serving(
            f"{company_url}/companyinfo/{info['realm_id']}?minorversion={MINOR_VERSION}",
            headers,
            server,
            deadline,
        )
        print(f"server: manage.py runserver --noreload on {HOST}:{port} (pid {server.pid})")

        session = requests.Session()
        session.headers.update(headers)

        def query(text: str) -> requests.Response:
            response = session.get(
                f"{company_url}/query", params={"query": text, "minorversion": MINOR_VERSION}, timeout=60
            )
            if response.status_code != 200:
                raise SystemExit(f"{text!r} answered {response.status_code}: {response.text[:300]}")
            return response

        count = int(query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"])
        positions = spread_positions(count, options.positions)
        print(f"invoices served: {count:,}; pages of {PAGE_SIZE} at STARTPOSITION {positions}")

        def raw_page(position: int) -> int:
            response = query(page_query(position))
            served = len(response.json()["QueryResponse"].get("Invoice", []))
            if served != min(PAGE_SIZE, count - position + 1):
                raise SystemExit(f"STARTPOSITION {position} served {served} invoices.")
            return len(response.content)

        raw = timed(
            "raw HTTP   GET /query SELECT * FROM Invoice STARTPOSITION n MAXRESULTS 1000",
            raw_page,
            positions,
            options.requests,
            deadline,
            point_name="STARTPOSITION",
        )

        from quickbooks.objects.invoice import Invoice

        client = sdk_client(info, qbo_url)

        def sdk_page(position: int) -> int:
            page = Invoice.filter(max_results=PAGE_SIZE, start_position=position, qb=client)
            if len(page) != min(PAGE_SIZE, count - position + 1):
                raise SystemExit(f"The SDK read {len(page)} invoices at STARTPOSITION {position}.")
            return 0

        def sdk_transport(position: int) -> int:
            result = client.query(page_query(position))
            return len(json.dumps(result))

        transport = timed(
            "SDK        QuickBooks.query(select): the request and its JSON",
            sdk_transport,
            positions,
            options.requests,
            deadline,
            point_name="STARTPOSITION",
        )
        sdk = timed(
            "SDK        Invoice.filter(max_results=1000, start_position=n): request and the SDK's objects",
            sdk_page,
            positions,
            options.requests,
            deadline,
            point_name="STARTPOSITION",
        )
        print(raw.line())
        print(transport.line())
        print(sdk.line())
        print(
            "  (python-quickbooks' own building of 1,000 Invoice objects takes the difference: "
            f"~{statistics.median(sdk.milliseconds) - statistics.median(transport.milliseconds):.0f} ms "
            "of client time)"
        )
    finally:
        finish(server, work, keep=options.keep)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices to seed (default 100,000)")
    parser.add_argument("--customers", type=int, default=0, help="customers to seed (default: invoices / 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=25, help="timed requests per measurement (>= 20)")
    parser.add_argument("--positions", type=int, default=5, help="pages measured, spread over the list")
    parser.add_argument("--timeout", type=float, default=900.0, help="stop the whole run after this many s")
    parser.add_argument("--debug", action="store_true", help="run the server with DEBUG on")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases and server log")
    options = parser.parse_args(argv)
    if options.invoices < 1 or options.requests < 1 or options.positions < 1:
        parser.error("--invoices, --requests and --positions must be at least 1")
    # The sandbox speaks plain http on loopback; oauthlib (under intuit-oauth) refuses that unless told.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    run(options)


if __name__ == "__main__":
    main()
