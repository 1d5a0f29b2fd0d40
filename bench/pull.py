"""Benchmark of the pull engine (`accounting.pull`): a full mirror of a seeded ledger, then an incremental
round after 100 changes, with API calls against the minimum, wall time, Ledgerlink's CPU and memory.

    .venv/bin/python bench/pull.py [--invoices 50000] [--contacts 10000] [--providers xero,quickbooks]

Everything runs on loopback, in a temporary directory and a temporary PostgreSQL database, both removed
at the end (--keep keeps them):

1. a fresh PostgreSQL database for Ledgerlink (127.0.0.1:5432, user postgres) and a SQLite file for the
   sandbox, migrated;
2. per provider, an app registered at the sandbox (`manage.py sandbox_app create`) and an organisation
   seeded with `manage.py sandbox_seed <xero|qbo> --create --contacts N --invoices N --seed S`, its rate
   limits lifted (the point is the engine, not throttling);
3. `manage.py sandbox_serve` serves the sandbox alone, as its own process;
4. Ledgerlink connects the organisation through the real OAuth flow, run in this process against the
   sandbox server (`oauth_authorize_start`, the sandbox's consent form, `oauth_callback_complete`), with
   the ledger URLs (XERO_API_URL ...) in the environment;
5. a child process (this script, `child` mode) pulls every family in full through
   `accounting.services.connection_pull_now`, one family after the other, reporting per family its wall
   time, its own CPU and the CPU of its PostgreSQL backend (from /proc); this process reads the
   child's resource usage (`os.wait4`: CPU, peak RSS) and the SyncRun rows, and compares the calls with
   the minimum: ceil(records / 1000) per paged remote entity type, one per unpaged list, with the
   records counted by the sandbox's own listing service;
6. 100 invoices are changed through the sandbox's HTTP API, and a second child pulls every family
   incrementally;
7. the sandbox server is stopped, the database dropped.

Ledgerlink's own per-connection call budget is lifted too (RATE_LIMIT_TIME_SCALE), so that waits for it
do not hide the engine's time; real Xero allows 60 calls a minute, which a first mirror of 50,000
invoices exceeds anyway. A provider whose pull is not implemented yet is skipped, saying so. Every step
has a time limit; the whole run stops after --timeout seconds."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from harness import (
    HOST,
    REPOSITORY,
    Deadline,
    django_setup,
    finish,
    free_port,
    manage,
    migrate,
    postgres_database,
    sandbox_environment,
    server_start,
    wait_until_serving,
)

PAGE_SIZE = 1000
CPU_TARGET = 0.33  # CPU seconds of Ledgerlink per 1,000 invoices with their lines
MEMORY_TARGET_MB = 300.0
INCREMENTAL_CALLS_TARGET = 1
INCREMENTAL_WALL_TARGET = 2.0
REDIRECT_URI = f"http://{HOST}:9/api/v1/connections/callback/"
TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU from /proc ---------------------------------------------------------------------------------------
def proc_cpu(pid: int, *, children: bool = False) -> float | None:
    """CPU seconds (user + system) of a process, and of its reaped children if asked; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def postgres_server_cpu() -> float:
    """CPU seconds of every PostgreSQL process, backends that ended included (the postmaster's reaped
    children): the whole server, other sessions included."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        total += proc_cpu(int(entry.name), children=True) or 0.0
    return total


# --- the child: pulls in its own process ------------------------------------------------------------------
def child(arguments: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="pull.py child")
    parser.add_argument("--connection", type=int, required=True)
    parser.add_argument("--entity", action="append", dest="entities", default=[])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--profile", default="", help="write cProfile stats of the pull to this file")
    options = parser.parse_args(arguments)
    django_setup(dict(os.environ))
    from django.db import connection as database

    from accounting.services import connection_pull_now
    from integrations.models import Connection

    connection = Connection.objects.get(pk=options.connection)
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    profiler = cProfile.Profile() if options.profile else None
    began = time.perf_counter()
    for entity in options.entities:
        wall, usage, pg = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF), proc_cpu(backend)
        if profiler is not None:
            profiler.enable()
        (run,) = connection_pull_now(connection=connection, entities=[entity], full=options.full)
        if profiler is not None:
            profiler.disable()
        after, pg_after = resource.getrusage(resource.RUSAGE_SELF), proc_cpu(backend)
        report = {
            "entity": entity,
            "run": run.pk,
            "wall": time.perf_counter() - wall,
            "cpu": after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime,
            "pg_cpu": None if pg is None or pg_after is None else pg_after - pg,
            "maxrss_kb": after.ru_maxrss,
        }
        print("FAMILY " + json.dumps(report), flush=True)
    print("LOOP " + json.dumps({"wall": time.perf_counter() - began}), flush=True)
    if profiler is not None:
        profiler.dump_stats(options.profile)
    return 0


@dataclass
class ChildResult:
    families: dict[str, dict[str, Any]]
    loop_wall: float
    wall: float
    cpu: float
    maxrss_mb: float
    postgres_cpu: float
    sandbox_cpu: float | None


def child_run(
    *,
    connection_id: int,
    entities: Sequence[str],
    full: bool,
    environment: dict[str, str],
    work: Path,
    server: subprocess.Popen[bytes],
    deadline: Deadline,
    profile: str = "",
) -> ChildResult:
    """Run the child, wait for it with wait4 (its own CPU and peak RSS, not the sandbox's), and collect
    its per-family reports."""
    command = [sys.executable, str(Path(__file__).resolve()), "child", "--connection", str(connection_id)]
    command += [part for entity in entities for part in ("--entity", entity)]
    command += ["--full"] if full else []
    command += ["--profile", profile] if profile else []
    name = f"child-{'full' if full else 'incremental'}"
    out, err = work / f"{name}.out", work / f"{name}.err"
    postgres_before, sandbox_before = postgres_server_cpu(), proc_cpu(server.pid)
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and this script
            command, cwd=REPOSITORY, env=environment, stdout=stdout, stderr=stderr
        )
    until = time.monotonic() + deadline.left()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > until:
            process.kill()
            os.wait4(process.pid, 0)
            process.returncode = -9
            raise TimeoutError("The pulling process ran out of time (--timeout).")
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    postgres_cpu = postgres_server_cpu() - postgres_before
    sandbox_after = proc_cpu(server.pid)
    text = out.read_text()
    if process.returncode != 0:
        sys.stderr.write(text + err.read_text()[-5000:])
        raise SystemExit(f"The pulling process exited with code {process.returncode}.")
    families = {}
    loop_wall = 0.0
    for line in text.splitlines():
        if line.startswith("FAMILY "):
            report = json.loads(line.removeprefix("FAMILY "))
            families[report["entity"]] = report
        elif line.startswith("LOOP "):
            loop_wall = json.loads(line.removeprefix("LOOP "))["wall"]
    return ChildResult(
        families=families,
        loop_wall=loop_wall,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,
        postgres_cpu=postgres_cpu,
        sandbox_cpu=None
        if sandbox_before is None or sandbox_after is None
        else sandbox_after - sandbox_before,
    )


# --- the ledgers ------------------------------------------------------------------------------------------
@dataclass
class Ledger:
    key: str  # Ledgerlink's provider key
    sandbox: str  # the sandbox's provider (sandbox_seed's argument)
    prefix: str  # of the app's settings: <prefix>_CLIENT_ID ...
    org: str
    # Records the ledger's full listing holds per remote entity type, asked of the sandbox over HTTP
    # with a token of the bench's own app: (tenant, API root, token, sources) -> counts.
    counts: Callable[[Any, str, str, Any], dict[str, int]]
    # Change n invoices through the sandbox's HTTP API: (tenant, API root, token, n) -> how many changed.
    change: Callable[[Any, str, str, int], int]
    # Whether a remote entity type is read in pages of 1,000 (else in one call, whole).
    paged: Callable[[Any], bool]
    client: dict[str, str] = field(default_factory=dict)

    def api_root(self, sandbox_url: str, tenant: Any) -> str:
        if self.sandbox == "xero":
            return f"{sandbox_url}/xero/api/api.xro/2.0"
        return f"{sandbox_url}/qbo/v3/company/{tenant.tenant_id}"


def bench_token(ledger: Ledger, tenant: Any) -> str:
    """An access token of an app of the bench's own (not Ledgerlink's), for counting and changing."""
    from sandbox.models import SandboxApp
    from sandbox.qbo import tokens as qbo_tokens
    from sandbox.xero import tokens as xero_tokens

    app = SandboxApp.objects.create(
        provider=ledger.sandbox, name="Pull bench", redirect_uris=[REDIRECT_URI], limit_app_minute=1_000_000
    )
    if ledger.sandbox == "xero":
        scopes = "accounting.transactions accounting.contacts accounting.settings"
        xero_grant = xero_tokens.grant_create(app=app, scopes=scopes, tenants=[tenant])
        return str(xero_tokens.tokens_issue(grant=xero_grant)["access_token"])
    qbo_grant = qbo_tokens.grant_create(
        app=app, scopes="com.intuit.quickbooks.accounting", tenant=tenant, user_email="bench@example.com"
    )
    return str(qbo_tokens.tokens_issue(grant=qbo_grant)["access_token"])


def _xero_get(root: str, token: str, tenant: Any, path: str, **params: Any) -> dict[str, Any]:
    response = requests.get(
        f"{root}/{path}",
        params=params,
        headers={
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant.tenant_id,
            "Accept": "application/json",
        },
        timeout=120,
    )
    response.raise_for_status()
    return dict(response.json())


def xero_counts(tenant: Any, root: str, token: str, sources: Any) -> dict[str, int]:
    """Paged collections: the listing's itemCount (with archived records where the pull asks for them);
    the small lists: their length."""
    counts = {}
    for source in sources.values():
        for entity in source.entities:
            params: dict[str, Any] = (
                {"includeArchived": "true"} if entity.options.get("include_archived") else {}
            )
            if entity.options.get("paged"):
                params |= {"page": 1, "pageSize": 1}
            data = _xero_get(root, token, tenant, entity.collection, **params)
            pagination = data.get("pagination")
            counts[entity.remote_type] = (
                pagination["itemCount"] if pagination else len(data.get(entity.collection) or [])
            )
    return counts


def xero_change(tenant: Any, root: str, token: str, count: int) -> int:
    """A new Reference on `count` authorised invoices, in one POST /Invoices."""
    listed = _xero_get(root, token, tenant, "Invoices", Statuses="AUTHORISED", page=1, pageSize=count)
    ids = [invoice["InvoiceID"] for invoice in listed["Invoices"]][:count]
    stamp = time.strftime("%H:%M:%S")
    response = requests.post(
        f"{root}/Invoices",
        json={"Invoices": [{"InvoiceID": i, "Reference": f"Bench {stamp} #{n}"} for n, i in enumerate(ids)]},
        headers={
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant.tenant_id,
            "Accept": "application/json",
        },
        timeout=120,
    )
    if response.status_code != 200:
        raise SystemExit(
            f"Changing invoices: the sandbox answered {response.status_code}: {response.text[:300]}"
        )
    return len(response.json()["Invoices"])


def _qbo_query(root: str, token: str, text: str) -> dict[str, Any]:
    response = requests.get(
        f"{root}/query",
        params={"query": text, "minorversion": "75"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=120,
    )
    response.raise_for_status()
    return dict(response.json()["QueryResponse"])


def qbo_counts(tenant: Any, root: str, token: str, sources: Any) -> dict[str, int]:
    """SELECT COUNT(*) per entity, with inactive name-list entries as the pull reads them."""
    counts = {}
    for source in sources.values():
        for entity in source.entities:
            active = " WHERE Active IN (true,false)" if entity.options.get("name_list") else ""
            select = f"SELECT COUNT(*) FROM {entity.collection}{active}"  # noqa: S608 - QBO query text
            answer = _qbo_query(root, token, select)
            counts[entity.remote_type] = int(answer.get("totalCount", 0))
    return counts


def qbo_change(tenant: Any, root: str, token: str, count: int) -> int:
    """A sparse update (a new PrivateNote) of `count` open invoices, one POST /invoice each."""
    select = f"SELECT * FROM Invoice STARTPOSITION 1 MAXRESULTS {3 * count}"  # noqa: S608 - QBO query text
    invoices = _qbo_query(root, token, select)
    candidates = [
        invoice for invoice in invoices.get("Invoice") or [] if Decimal(str(invoice.get("Balance", 0))) > 0
    ]
    changed = 0
    stamp = time.strftime("%H:%M:%S")
    for invoice in candidates[:count]:
        response = requests.post(
            f"{root}/invoice",
            params={"minorversion": "75"},
            json={
                "Id": invoice["Id"],
                "SyncToken": invoice["SyncToken"],
                "sparse": True,
                "PrivateNote": f"Bench {stamp} #{changed}",
            },
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=60,
        )
        if response.status_code != 200:
            raise SystemExit(f"Changing invoice {invoice['Id']}: the sandbox answered {response.text[:300]}")
        changed += 1
    return changed


LEDGERS = {
    "xero": Ledger(
        "xero",
        "xero",
        "XERO",
        "Pull Bench Org",
        xero_counts,
        xero_change,
        lambda e: bool(e.options.get("paged")),
    ),
    # Every QBO entity type is read with STARTPOSITION/MAXRESULTS pages.
    "quickbooks": Ledger(
        "quickbooks", "qbo", "QBO", "Pull Bench Company", qbo_counts, qbo_change, lambda e: True
    ),
}


# --- the run ----------------------------------------------------------------------------------------------
def connect(ledger: Ledger, tenant: Any, user: Any) -> Any:
    """The real OAuth flow against the sandbox server, with this process playing Ledgerlink's callback."""
    from integrations.providers.base import CallbackParams
    from integrations.services import oauth_authorize_start, oauth_callback_complete
    from sandbox.consent import consent_give

    started = oauth_authorize_start(provider_key=ledger.key, user_id=user.pk, redirect_uri=REDIRECT_URI)
    location = consent_give(started.authorize_url, tenant_ids=[tenant.tenant_id])
    query = dict(parse_qsl(urlsplit(location).query))
    params = CallbackParams(
        code=query.get("code", ""),
        state=query.get("state", ""),
        error=query.get("error", ""),
        error_description=query.get("error_description", ""),
        extra={key: value for key, value in query.items() if key not in ("code", "state")},
    )
    (connection,) = oauth_callback_complete(
        params=params, user_id=user.pk, browser_nonce=started.browser_nonce
    ).connections
    return connection


def minimum_calls(ledger: Ledger, source: Any, counts: dict[str, int]) -> int:
    return sum(
        max(1, math.ceil(counts[entity.remote_type] / PAGE_SIZE)) if ledger.paged(entity) else 1
        for entity in source.entities
    )


def family_rows(family: Any, connection: Any) -> tuple[int, int]:
    """Mirrored records of a family, and their child rows (lines, allocations, options)."""
    records = family.model._default_manager.filter(connection=connection).count()
    children = sum(
        child.model._default_manager.filter(**{f"{child.parent_field}__connection": connection}).count()
        for child in family.children
    )
    return records, children


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


def report_full(
    ledger: Ledger, connection: Any, result: ChildResult, counts: dict[str, int], profiled: bool
) -> None:
    from accounting.families import FAMILIES
    from integrations.models import SyncRun
    from integrations.providers import get_provider

    sources = get_provider(ledger.key).pull_sources()
    print(
        f"\n{ledger.key}: full pull of every family, one child process "
        f"({'under cProfile: CPU and wall carry its overhead' if profiled else 'no profiler'})"
    )
    header = (
        f"  {'family':20} {'status':9} {'calls':>5} {'min':>5} {'pages':>5} {'fetched':>8} {'created':>8} "
        f"{'records':>8} {'children':>8} {'wall s':>7} {'CPU s':>6} {'PG s':>6}"
    )
    print(header)
    totals = {"calls": 0, "minimum": 0, "records": 0, "children": 0, "cpu": 0.0, "pg": 0.0}
    calls_ok = True
    invoices = None
    for key, report in result.families.items():
        run = SyncRun.objects.get(pk=report["run"])
        records, children = family_rows(FAMILIES[key], connection)
        minimum = minimum_calls(ledger, sources[key], counts)
        if run.api_calls != minimum:
            calls_ok = False
        totals["calls"] += run.api_calls
        totals["minimum"] += minimum
        totals["records"] += records
        totals["children"] += children
        totals["cpu"] += report["cpu"]
        totals["pg"] += report["pg_cpu"] or 0.0
        if key == "invoices":
            invoices = (records, report["cpu"])
        print(
            f"  {key:20} {run.status:9} {run.api_calls:>5} {minimum:>5} "
            f"{run.pages:>5} {run.fetched:>8,} {run.created:>8,} {records:>8,} {children:>8,} "
            f"{report['wall']:>7.2f} {report['cpu']:>6.2f} "
            f"{report['pg_cpu'] if report['pg_cpu'] is not None else float('nan'):>6.2f}"
            + (f"  waits={run.rate_limit_waits}" if run.rate_limit_waits else "")
            + (f"  error={run.error[:120]}" if run.error else "")
        )
    rows = totals["records"] + totals["children"]
    print(
        f"  calls: {totals['calls']} for a minimum of {totals['minimum']} "
        f"(ceil(records/{PAGE_SIZE}) per paged remote type, 1 per list)  [target equal: {verdict(calls_ok)}]"
    )
    print(
        f"  wall: {result.loop_wall:.1f} s pulling ({result.wall:.1f} s with the process's start-up); "
        f"{rows:,} rows ({totals['records']:,} records + {totals['children']:,} lines/allocations/options), "
        f"{rows / result.loop_wall:,.0f} rows/s"
    )
    print(
        f"  Ledgerlink CPU: {totals['cpu']:.1f} s pulling ({result.cpu:.1f} s for the whole process), "
        f"{1000 * totals['cpu'] / rows:.3f} s per 1,000 rows"
    )
    if invoices and invoices[0]:
        per_thousand = 1000 * invoices[1] / invoices[0]
        print(
            f"  invoices family: {invoices[1]:.1f} s CPU for {invoices[0]:,} invoices and bills with their lines: "
            f"{per_thousand:.3f} s per 1,000  [target {CPU_TARGET} s: {verdict(per_thousand <= CPU_TARGET)}]"
        )
    print(
        f"  peak memory (max RSS of the pulling process): {result.maxrss_mb:.0f} MB  "
        f"[target < {MEMORY_TARGET_MB:.0f} MB: {verdict(result.maxrss_mb < MEMORY_TARGET_MB)}]"
    )
    sandbox = f"{result.sandbox_cpu:.1f} s" if result.sandbox_cpu is not None else "unknown"
    print(
        f"  PostgreSQL CPU: {totals['pg']:.1f} s in the pulling process's backend, {result.postgres_cpu:.1f} s "
        f"for the whole server (all its processes, other sessions included); sandbox server: {sandbox}"
    )


def report_incremental(ledger: Ledger, changed: int, result: ChildResult) -> None:
    from integrations.models import SyncRun

    print(f"\n{ledger.key}: incremental pull of every family after {changed} invoices changed")
    calls_ok = True
    for key, report in result.families.items():
        run = SyncRun.objects.get(pk=report["run"])
        calls_ok &= run.api_calls <= INCREMENTAL_CALLS_TARGET
        print(
            f"  {key:20} {run.status:9} {run.mode:11} calls={run.api_calls} fetched={run.fetched} "
            f"created={run.created} updated={run.updated} unchanged={run.unchanged} deleted={run.deleted} "
            f"{report['wall'] * 1000:.0f} ms, CPU {report['cpu'] * 1000:.0f} ms"
        )
    print(f"  calls per family: at most {INCREMENTAL_CALLS_TARGET}  [{verdict(calls_ok)}]")
    print(
        f"  wall: {result.loop_wall:.2f} s for the round ({result.wall:.2f} s with the process's start-up)  "
        f"[target < {INCREMENTAL_WALL_TARGET:.0f} s: {verdict(result.loop_wall < INCREMENTAL_WALL_TARGET)}]"
    )
    if "invoices" in result.families:
        print(f"  the changed family alone (invoices): {result.families['invoices']['wall']:.2f} s")


def profile_print(path: Path, top: int) -> None:
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(str(path), stream=text)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        print(f"\nprofile of the full pull, top {top} by {order}:")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:8000])


def run(options: argparse.Namespace) -> None:
    deadline = Deadline(options.timeout)
    wanted = [LEDGERS[key] for key in options.providers]
    work = Path(tempfile.mkdtemp(prefix="ledgerlink-pull-bench-"))
    port = free_port()
    sandbox_url = f"http://{HOST}:{port}/sandbox"
    server: subprocess.Popen[bytes] | None = None
    with postgres_database("ledgerlink_bench_pull", keep=options.keep) as database_url:
        environment = {
            **sandbox_environment(work, debug=False),
            "DATABASE_URL": database_url,
            "LEDGERLINK_VAR_DIR": str(work),
            "LOG_LEVEL": "WARNING",
            "SYNC_ON_CONNECT": "false",
            # Ledgerlink's own call budget, off: windows a thousand times shorter.
            "RATE_LIMIT_TIME_SCALE": "1000",
            "XERO_LOGIN_URL": f"{sandbox_url}/xero/login",
            "XERO_IDENTITY_URL": f"{sandbox_url}/xero/identity",
            "XERO_API_URL": f"{sandbox_url}/xero/api",
            "QBO_DISCOVERY_URL": f"{sandbox_url}/qbo/.well-known/openid_configuration",
            "QBO_API_URL": f"{sandbox_url}/qbo",
        }
        try:
            print(f"work directory: {work}; Ledgerlink's database: {database_url}")
            migrate(environment, deadline)
            for ledger in wanted:
                created = manage(
                    [
                        "sandbox_app",
                        "create",
                        "--provider",
                        ledger.sandbox,
                        "--name",
                        "Ledgerlink bench",
                        "--json",
                        "--redirect-uri",
                        REDIRECT_URI,
                    ],
                    environment,
                    deadline,
                    60,
                ).stdout
                ledger.client = json.loads(created)
                environment[f"{ledger.prefix}_CLIENT_ID"] = ledger.client["client_id"]
                environment[f"{ledger.prefix}_CLIENT_SECRET"] = ledger.client["client_secret"]
            django_setup(environment)
            from django.contrib.auth import get_user_model

            from integrations.providers import get_provider
            from sandbox.models import SandboxApp, Tenant

            ready = []
            for ledger in wanted:
                try:
                    get_provider(ledger.key).pull_sources()
                except NotImplementedError:
                    print(f"{ledger.key}: skipped, its pull is not implemented yet (Provider.pull_sources)")
                    continue
                ready.append(ledger)
            for ledger in ready:
                started = time.perf_counter()
                seeded = manage(
                    [
                        "sandbox_seed",
                        ledger.sandbox,
                        "--org",
                        ledger.org,
                        "--create",
                        "--contacts",
                        str(options.contacts),
                        "--invoices",
                        str(options.invoices),
                        "--seed",
                        str(options.seed),
                    ],
                    environment,
                    deadline,
                    deadline.left(),
                )
                print(
                    f"{ledger.key}: seeded {options.invoices:,} invoices, {options.contacts:,} contacts in "
                    f"{time.perf_counter() - started:.1f} s: "
                    + ", ".join(
                        line.strip()
                        for line in seeded.stdout.splitlines()
                        if line.startswith("  ") and ": " in line and line.strip()[0].isupper()
                    )
                )
                Tenant.objects.filter(provider=ledger.sandbox, name=ledger.org).update(
                    limit_concurrent=100, limit_minute=1_000_000, limit_day=10_000_000
                )
                SandboxApp.objects.filter(client_id=ledger.client["client_id"]).update(
                    limit_app_minute=1_000_000
                )
            if not ready:
                return
            server, _ = server_start(environment, work, port, sandbox_only=True)
            wait_until_serving(f"{sandbox_url}/", {}, server, deadline)
            print(f"sandbox: manage.py sandbox_serve on {HOST}:{port} (pid {server.pid})")
            user = get_user_model().objects.create_user("pull-bench", is_staff=True)
            for ledger in ready:
                measure(ledger, user, options, environment, work, server, sandbox_url, deadline)
        finally:
            finish(server, work, keep=options.keep)
            from django.db import connections

            connections.close_all()


def measure(
    ledger: Ledger,
    user: Any,
    options: argparse.Namespace,
    environment: dict[str, str],
    work: Path,
    server: subprocess.Popen[bytes],
    sandbox_url: str,
    deadline: Deadline,
) -> None:
    from integrations.providers import get_provider
    from sandbox.models import Tenant

    tenant = Tenant.objects.get(provider=ledger.sandbox, name=ledger.org)
    connection = connect(ledger, tenant, user)
    print(f"\n{ledger.key}: connected {connection.display_name} (connection {connection.pk}) through OAuth")
    provider = get_provider(ledger.key)
    entities = [key for key in provider.entity_keys if key in provider.pull_sources()]
    root, token = ledger.api_root(sandbox_url, tenant), bench_token(ledger, tenant)
    counts = ledger.counts(tenant, root, token, provider.pull_sources())
    print("  the sandbox lists: " + ", ".join(f"{key} {value:,}" for key, value in counts.items()))
    profile = work / f"{ledger.key}-full.prof" if options.profile else None
    full = child_run(
        connection_id=connection.pk,
        entities=entities,
        full=True,
        environment=environment,
        work=work,
        server=server,
        deadline=deadline,
        profile=str(profile or ""),
    )
    report_full(ledger, connection, full, counts, profiled=profile is not None)
    if profile is not None:
        profile_print(profile, options.top)
    changed = ledger.change(tenant, root, token, options.changes)
    incremental = child_run(
        connection_id=connection.pk,
        entities=entities,
        full=False,
        environment=environment,
        work=work,
        server=server,
        deadline=deadline,
    )
    report_incremental(ledger, changed, incremental)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--providers", default="xero,quickbooks", help="comma-separated: xero, quickbooks")
    parser.add_argument("--changes", type=int, default=100, help="invoices changed before the incremental")
    parser.add_argument("--profile", action="store_true", help="run the full pull under cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile listing")
    parser.add_argument("--timeout", type=float, default=1800.0, help="stop the whole run after this many s")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the work directory")
    options = parser.parse_args(argv)
    options.providers = [key.strip() for key in options.providers.split(",") if key.strip()]
    unknown = sorted(set(options.providers) - set(LEDGERS))
    if unknown:
        parser.error(f"unknown provider(s) {', '.join(unknown)}; choose from {', '.join(LEDGERS)}")
    if options.invoices < 1 or options.contacts < 1 or options.changes < 1:
        parser.error("--invoices, --contacts and --changes must be at least 1")
    # The sandbox speaks plain http on loopback; oauthlib (under the SDKs) refuses that unless told.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    run(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
