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

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
import urllib3
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

ORG_NAME = "Bench Org"
SEED_TARGET_SECONDS = 120.0
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


def run(options: argparse.Namespace) -> None:
    deadline = Deadline(options.timeout)
    contacts = options.contacts or max(1, options.invoices // 20)
    work = Path(tempfile.mkdtemp(prefix="ledgerlink-bench-"))
    environment = sandbox_environment(work, debug=options.debug)
    server: subprocess.Popen[bytes] | None = None
    try:
        print(f"work directory: {work}")
        migrate(environment, deadline)

        started = time.perf_counter()
        seeded = manage(
            [
                "sandbox_seed",
                "xero",
                "--org",
                ORG_NAME,
                "--create",
                "--contacts",
                str(contacts),
                "--invoices",
                str(options.invoices),
                "--seed",
                str(options.seed),
            ],
            environment,
            deadline,
            options.timeout,
        )
        wall = time.perf_counter() - started
        reported = re.search(r" in ([0-9.]+)s \(", seeded.stdout)
        seconds = float(reported.group(1)) if reported else wall
        verdict = "OK" if seconds < SEED_TARGET_SECONDS else "OVER"
        print(
            f"seed: {options.invoices:,} invoices, {contacts:,} contacts in {seconds:.1f} s "
            f"({options.invoices / seconds:,.0f} invoices/s; {wall:.1f} s with the command's start-up)  "
            f"[target {SEED_TARGET_SECONDS:.0f} s: {verdict}]"
        )
        for line in seeded.stdout.splitlines():
            if re.match(r"  [A-Z]", line):
                print(f"  {line.strip()}")
        size = (work / "sandbox.sqlite3").stat().st_size
        print(f"  sandbox database: {size / 1_048_576:,.0f} MB")

        setup = manage(
            ["shell", "--no-imports", "-c", APP_SETUP.format(org=ORG_NAME, scopes=SCOPES)],
            environment,
            deadline,
            120,
        )
        info = json.loads(setup.stdout.strip().splitlines()[-1])

        server, port = server_start(environment, work)
        base_url = f"http://{HOST}:{port}/sandbox/xero/api/api.xro/2.0"
        headers = {
            "Authorization": f"Bearer {info['token']['access_token']}",
            "xero-tenant-id": info["tenant_id"],
            "Accept": "application/json",
        }
        wait_until_serving(f"{base_url}/Organisation", headers, server, deadline)
        print(f"server: manage.py runserver --noreload on {HOST}:{port} (pid {server.pid})")

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
            "  (the SDK's own deserialisation of 1,000 invoices into its models takes the difference: "
            f"~{statistics.median(sdk.milliseconds) - statistics.median(transport.milliseconds):.0f} ms "
            "of client time)"
        )
    finally:
        finish(server, work, keep=options.keep)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices to seed (default 100,000)")
    parser.add_argument("--contacts", type=int, default=0, help="contacts to seed (default: invoices / 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=25, help="timed requests per measurement")
    parser.add_argument("--pages", type=int, default=5, help="pages measured, spread over the list")
    parser.add_argument("--timeout", type=float, default=900.0, help="stop the whole run after this many s")
    parser.add_argument("--debug", action="store_true", help="run the server with DEBUG on")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases and server log")
    options = parser.parse_args(argv)
    if options.invoices < 1 or options.requests < 1 or options.pages < 1:
        parser.error("--invoices, --requests and --pages must be at least 1")
    # The sandbox speaks plain http on loopback; oauthlib (under the SDK) refuses that unless told.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    run(options)


if __name__ == "__main__":
    main()
