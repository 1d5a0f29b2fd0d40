"""Benchmark of the emulated Xero Accounting API: seeding an organisation, then serving 1,000-invoice pages.

    .venv/bin/python bench/sandbox_xero.py [--invoices 100000] [--requests 25] [--pages 5]

Everything runs on loopback, in a temporary directory that is removed afterwards:

1. two fresh SQLite databases (the sandbox's and the default one), migrated;
2. `manage.py sandbox_seed xero` fills an organisation (timed: the target is 100,000 invoices in under
   two minutes);
3. a developer app, a consent to the organisation and an access token are made with the sandbox's own
   services (`sandbox.xero.tokens`), and the organisation's rate limits are lifted: this measures serving,
   not throttling;
4. `manage.py runserver --noreload` serves the sandbox on a free loopback port, as a separate process
   (config.settings.dev with DEBUG off);
5. GET /Invoices?page=N&pageSize=1000 is timed over raw HTTP and through the unmodified xero-python SDK
   (`AccountingApi.get_invoices`), on several pages spread over the whole list, against the 200 ms
   target;
6. the server is stopped.

Every step has a time limit; the whole run stops after --timeout seconds."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import requests
import urllib3
from harness import (
    SandboxBench,
    client_time_line,
    manage,
    sandbox_bench,
    sandbox_main,
    sandbox_parser,
    seed_line,
    timed,
)

ORG_NAME = "Bench Org"
PAGE_SIZE = 1000
SCOPES = "offline_access accounting.transactions accounting.contacts accounting.settings"

# Run by `manage.py shell -c` once the organisation is seeded: an app, a consent and a token, printed as
# the last line of output.
APP_SETUP = """
import json
from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant
from sandbox.xero import tokens
tenant = Tenant.objects.get(provider=SandboxProviderChoices.XERO, name={org!r})
Tenant.objects.filter(pk=tenant.pk).update(limit_concurrent=100, limit_minute=1_000_000, limit_day=10_000_000)
app = SandboxApp.objects.create(
    provider=SandboxProviderChoices.XERO,
    name="Sandbox benchmark",
    redirect_uris=["http://127.0.0.1:9/callback"],
    limit_app_minute=1_000_000,
)
grant = tokens.grant_create(app=app, scopes={scopes!r}, tenants=[tenant])
token = tokens.tokens_issue(grant=grant)
print(json.dumps({{"tenant_id": tenant.tenant_id, "client_id": app.client_id,
                  "client_secret": app.client_secret, "token": token}}))
"""


def spread_pages(page_count: int, wanted: int) -> list[int]:
    """`wanted` pages from first to last, evenly spread."""
    if page_count <= wanted:
        return list(range(1, page_count + 1))
    if wanted == 1:
        return [1]
    step = (page_count - 1) / (wanted - 1)
    return sorted({1 + round(index * step) for index in range(wanted)})


def sdk_api(info: dict[str, Any], base_url: str) -> Any:
    """The unmodified SDK, set up as Ledgerlink sets it up (no hidden urllib3 retries)."""
    from xero_python.accounting import AccountingApi
    from xero_python.api_client import ApiClient
    from xero_python.api_client.configuration import Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=info["client_id"], client_secret=info["client_secret"])
    client = ApiClient(configuration, pool_threads=1)
    state = {"token": {**info["token"], "scope": info["token"]["scope"].split()}}
    client.oauth2_token_getter(lambda: state["token"])
    client.oauth2_token_saver(lambda new: state.update(token=new))
    client.set_oauth2_token(state["token"])
    client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
        total=0, respect_retry_after_header=False
    )
    return AccountingApi(client, base_url=base_url)


def seed(options: Any, contacts: int, bench: SandboxBench) -> None:
    started = time.perf_counter()
    arguments = ["sandbox_seed", "xero", "--org", ORG_NAME, "--create", "--contacts", str(contacts)]
    arguments += ["--invoices", str(options.invoices), "--seed", str(options.seed)]
    seeded = manage(arguments, bench.environment, bench.deadline, options.timeout)
    wall = time.perf_counter() - started
    reported = re.search(r" in ([0-9.]+)s \(", seeded.stdout)
    seconds = float(reported.group(1)) if reported else wall
    print(
        seed_line(
            invoices=options.invoices, parties=contacts, party_name="contacts", seconds=seconds, wall=wall
        )
    )
    for line in seeded.stdout.splitlines():
        if re.match(r"  [A-Z]", line):
            print(f"  {line.strip()}")


def run(options: Any) -> None:
    contacts = options.contacts or max(1, options.invoices // 20)
    with sandbox_bench(options, "ledgerlink-bench-") as bench:
        seed(options, contacts, bench)
        bench.database_size_print()
        info = bench.shell_json(APP_SETUP.format(org=ORG_NAME, scopes=SCOPES), 120)

        headers = {
            "Authorization": f"Bearer {info['token']['access_token']}",
            "xero-tenant-id": info["tenant_id"],
            "Accept": "application/json",
        }
        api_path = "/sandbox/xero/api/api.xro/2.0"
        base_url = bench.serve(lambda root: f"{root}{api_path}/Organisation", headers) + api_path

        session = requests.Session()
        session.headers.update(headers)
        first = session.get(f"{base_url}/Invoices", params={"page": 1, "pageSize": PAGE_SIZE}, timeout=60)
        first.raise_for_status()
        pagination = first.json()["pagination"]
        pages = spread_pages(pagination["pageCount"], options.pages)
        print(
            f"invoices listed: {pagination['itemCount']:,} in {pagination['pageCount']:,} pages of {PAGE_SIZE}"
        )

        def raw_page(page: int) -> int:
            response = session.get(
                f"{base_url}/Invoices", params={"page": page, "pageSize": PAGE_SIZE}, timeout=60
            )
            if response.status_code != 200:
                raise SystemExit(f"GET /Invoices?page={page} answered {response.status_code}")
            return len(response.content)

        deadline = bench.deadline
        raw = timed(
            "raw HTTP  GET /Invoices?page=N&pageSize=1000", raw_page, pages, options.requests, deadline
        )

        api = sdk_api(info, base_url)

        def sdk_page(page: int) -> int:
            listed = api.get_invoices(info["tenant_id"], page=page, page_size=PAGE_SIZE)
            if len(listed.invoices) != min(PAGE_SIZE, pagination["itemCount"] - (page - 1) * PAGE_SIZE):
                raise SystemExit(f"The SDK read {len(listed.invoices)} invoices from page {page}.")
            return 0

        def sdk_transport(page: int) -> int:
            response = api.get_invoices(
                info["tenant_id"], page=page, page_size=PAGE_SIZE, _preload_content=False
            )
            return len(response.data)

        transport = timed(
            "SDK       get_invoices(..., _preload_content=False): the request only",
            sdk_transport,
            pages,
            options.requests,
            deadline,
        )
        sdk = timed(
            "SDK       get_invoices(page=N, page_size=1000): request and the SDK's models",
            sdk_page,
            pages,
            options.requests,
            deadline,
        )
        print(raw.line())
        print(transport.line())
        print(sdk.line())
        print(
            client_time_line(
                "the SDK's own deserialisation of 1,000 invoices into its models", sdk, transport
            )
        )


def main(argv: Sequence[str] | None = None) -> None:
    description = __doc__.splitlines()[0] if __doc__ else None
    sandbox_main(sandbox_parser(description, parties="contacts", points="pages"), "pages", run, argv)


if __name__ == "__main__":
    main()
