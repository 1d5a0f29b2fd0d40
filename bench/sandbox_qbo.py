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

import json
import time
from collections.abc import Sequence
from typing import Any

import requests
from harness import (
    SandboxBench,
    client_time_line,
    sandbox_bench,
    sandbox_main,
    sandbox_parser,
    seed_line,
    timed,
)

COMPANY_NAME = "Bench Company_US"
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


def seed(options: Any, customers: int, bench: SandboxBench) -> None:
    started = time.perf_counter()
    script = SEED.format(name=COMPANY_NAME, customers=customers, invoices=options.invoices, seed=options.seed)
    report = bench.shell_json(script, options.timeout)
    wall = time.perf_counter() - started
    seconds = float(report["seconds"])
    counts: dict[str, int] = report["counts"]
    print(
        seed_line(
            invoices=options.invoices, parties=customers, party_name="customers", seconds=seconds, wall=wall
        )
    )
    documents = sum(n for entity, n in counts.items() if " " not in entity)
    print(f"  {documents:,} entities written through the engine ({documents / seconds:,.0f}/s):")
    for entity, n in sorted(counts.items(), key=lambda pair: -pair[1]):
        print(f"    {entity}: {n:,}")


def run(options: Any) -> None:
    customers = options.customers or max(1, options.invoices // 20)
    with sandbox_bench(options, "ledgerlink-bench-qbo-") as bench:
        seed(options, customers, bench)
        bench.database_size_print()
        info = bench.shell_json(APP_SETUP.format(name=COMPANY_NAME, scopes=SCOPES), 120)

        headers = {"Authorization": f"Bearer {info['token']['access_token']}", "Accept": "application/json"}
        company_path = f"/sandbox/qbo/v3/company/{info['realm_id']}"
        root = bench.serve(
            lambda root: f"{root}{company_path}/companyinfo/{info['realm_id']}?minorversion={MINOR_VERSION}",
            headers,
        )
        qbo_url = f"{root}/sandbox/qbo"
        company_url = f"{root}{company_path}"

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

        deadline = bench.deadline
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
        print(client_time_line("python-quickbooks' own building of 1,000 Invoice objects", sdk, transport))


def main(argv: Sequence[str] | None = None) -> None:
    description = __doc__.splitlines()[0] if __doc__ else None
    sandbox_main(sandbox_parser(description, parties="customers", points="positions"), "positions", run, argv)


if __name__ == "__main__":
    main()
