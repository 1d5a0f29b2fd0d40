"""Benchmark of the entity API, exports and the admin on a mirror of 1,000,000 invoices in PostgreSQL:
list latency with common filters and sorting, a 100,000-row export (time, the server's peak memory) and
the admin's invoice change list.

    .venv/bin/python bench/api.py [--invoices 1000000] [--requests 50] [--keep]

Everything runs on loopback, in a temporary directory and a temporary PostgreSQL database, both removed
at the end (--keep keeps them):

1. a fresh PostgreSQL database (127.0.0.1:5432, user postgres), migrated; two connections (a Xero
   organisation and a QBO company) made with the ORM, no ledger involved, and a staff user with an API
   token and a password for the admin;
2. contacts, invoices (sales and bills) and two lines per invoice, generated in Python with fixed
   distributions (statuses, kinds, currencies, three years of dates, log-normal amounts, a small JSON
   payload) and loaded with COPY: the table's secondary indexes are dropped for the load and built again
   after it (their definitions read back from `pg_indexes`), foreign-key triggers are skipped for the
   loading sessions (`session_replication_role = replica`: the rows are consistent by construction), then
   `VACUUM ANALYZE`, the state autovacuum leaves a table in, and a `CHECKPOINT`;
3. gunicorn serves `config.wsgi` (`config.settings.dev`, DEBUG off) with 2 sync workers, as its own
   process, with `EXPORT_SYNC_MAX_ROWS` set to the measured export's row count (so it streams);
4. API lists, each after untimed warm-up requests, `--requests` timed requests with a staff token:
   p50 and p95 (nearest rank) against the 50 ms p95 target; the cursor walk times each of its pages;
5. `GET /api/v1/invoices/export/` of ~100,000 rows, CSV then XLSX: wall time, time to the first byte
   and the serving worker's peak memory (VmHWM from /proc, reset through `clear_refs` before the export)
   against 150 MB; then the background path: a slightly larger export answers 202, the job runs in a
   child process (as a django-q worker would run `accounting.tasks.export_run`; its peak RSS from
   `wait4`) and the file is downloaded;
6. the admin change list of invoices with a logged-in staff session, with and without filters, against
   1 s;
7. for every list over its target, `EXPLAIN (ANALYZE, BUFFERS)` of the count and page queries the list
   runs, rebuilt in this process through the endpoint's own filter backends;
8. gunicorn is stopped, the database dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from harness import (
    HOST,
    REPOSITORY,
    Deadline,
    django_setup,
    free_port,
    manage,
    postgres_database,
    wait_until_serving,
)

LIST_TARGET_MS = 50.0  # p95
EXPORT_MEMORY_TARGET_MB = 150.0
ADMIN_TARGET_MS = 1000.0
STAFF = "api-bench"
PASSWORD = "api-bench-password-not-secret"  # noqa: S105 - a throwaway user in a throwaway database
CHUNK = 10_000  # rows generated and written to COPY at a time
TODAY = dt.date.today()  # noqa: DTZ011 - the bench's calendar, not an instant
DAYS = 3 * 365

# --- distributions ----------------------------------------------------------------------------------------
# (status, Xero word, QBO word, weight); partially paid invoices are AUTHORISED in Xero.
STATUSES = [
    ("paid", "PAID", "Paid", 52),
    ("authorised", "AUTHORISED", "Open", 22),
    ("partially_paid", "AUTHORISED", "Open", 5),
    ("draft", "DRAFT", "Pending", 8),
    ("submitted", "SUBMITTED", "Pending", 3),
    ("voided", "VOIDED", "Voided", 6),
    ("deleted", "DELETED", "Deleted", 4),
]
CURRENCIES = [("USD", 55), ("GBP", 15), ("EUR", 13), ("AUD", 9), ("NZD", 5), ("CAD", 3)]
KINDS = [("sales", 70), ("purchase", 30)]
DUE_DAYS = [7, 14, 30, 30, 30, 45, 60]
DESCRIPTIONS = [
    "Consulting services",
    "Monthly retainer",
    "Software licence",
    "Hardware",
    "Support hours",
    "Travel expenses",
    "Office supplies",
    "Freight",
    "Training session",
    "Hosting",
]
ACCOUNTS = [("200", "Sales"), ("260", "Other revenue"), ("400", "Advertising"), ("429", "General")]
FIRST = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka", "Tyrell"]
SECOND = ["Holdings", "Ltd", "Trading", "Partners", "Supplies", "Studio", "Logistics", "Foods", "Labs"]


def copy_text(value: Any) -> str:
    """One value in COPY's text format (the generated text holds no tab, newline or backslash)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


@dataclass
class CopyTable:
    """A table loaded by COPY: the columns the generator fills (id first), then every other column at its
    model default, written once as a constant suffix of each line."""

    name: str
    columns: list[str]
    suffix: str

    @classmethod
    def of(cls, model: Any, generated: Sequence[str]) -> CopyTable:
        from django.db import models

        from accounting.writer import _Table
        from core.jsontext import encode

        table = _Table(model)
        unknown = sorted(set(generated) - set(table.columns))
        if unknown:
            raise SystemExit(f"{table.name} has no column(s) {', '.join(unknown)}")
        rest, suffix = [], []
        for model_field, column, default, is_json in zip(
            table.fields, table.columns, table.defaults, table.json, strict=True
        ):
            if column in generated:
                continue
            if default == "" and not isinstance(model_field, models.CharField | models.TextField):
                raise SystemExit(f"{table.name}.{column} needs a value: it has no default")
            rest.append(column)
            suffix.append(copy_text(encode(default) if is_json and default is not None else default))
        return cls(table.name, ["id", *generated, *rest], "".join("\t" + value for value in suffix) + "\n")

    def copy_sql(self) -> str:
        columns = ", ".join(f'"{column}"' for column in self.columns)
        return f'COPY "{self.name}" ({columns}) FROM STDIN'


INVOICE_COLUMNS = [
    "created_at",
    "updated_at",
    "connection_id",
    "remote_type",
    "remote_id",
    "remote_updated_at",
    "remote_status",
    "remote_deleted",
    "archived",
    "raw",
    "content_hash",
    "last_synced_at",
    "contact_id",
    "contact_remote_type",
    "contact_remote_id",
    "contact_name",
    "number",
    "reference",
    "issue_date",
    "status",
    "currency",
    "exchange_rate",
    "kind",
    "due_date",
    "tax_mode",
    "subtotal",
    "total_tax",
    "total",
    "amount_due",
    "amount_paid",
    "fully_paid_on",
]
LINE_COLUMNS = [
    "invoice_id",
    "position",
    "remote_id",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "tax_amount",
    "account_code",
    "item_code",
    "tax_code",
]
CONTACT_COLUMNS = [
    "created_at",
    "updated_at",
    "connection_id",
    "remote_type",
    "remote_id",
    "remote_updated_at",
    "remote_status",
    "raw",
    "content_hash",
    "last_synced_at",
    "name",
    "email",
    "is_customer",
    "is_supplier",
    "status",
    "currency",
]


@dataclass
class Seeded:
    contacts: int = 0
    invoices: int = 0
    lines: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class ContactPool:
    """Contact i: its connection, remote type, remote id and name."""

    connection: list[int]
    remote_type: list[str]
    remote_id: list[str]
    name: list[str]


def contacts_text(
    rng: random.Random, count: int, connections: tuple[int, int], stamp: str
) -> tuple[list[str], ContactPool]:
    """Contacts: 60% in the Xero organisation, 40% in the QBO company (customers and vendors)."""
    pool = ContactPool([], [], [], [])
    lines = []
    xero_share = int(count * 0.6)
    for index in range(count):
        xero = index < xero_share
        connection = connections[0] if xero else connections[1]
        supplier = rng.random() < 0.3
        remote_type = "Contact" if xero else ("Vendor" if supplier else "Customer")
        remote_id = str(uuid.UUID(int=rng.getrandbits(128))) if xero else str(index + 1)
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {index + 1}"
        raw = json.dumps(
            {"ContactID": remote_id, "Name": name, "ContactStatus": "ACTIVE"}, separators=(",", ":")
        )
        lines.append(
            "\t".join(
                [
                    str(index + 1),
                    stamp,
                    stamp,
                    str(connection),
                    remote_type,
                    remote_id,
                    stamp,
                    "ACTIVE",
                    raw,
                    f"{rng.getrandbits(128):032x}",
                    stamp,
                    name,
                    f"accounts{index + 1}@example.com",
                    "f" if supplier else "t",
                    "t" if supplier or xero else "f",
                    "active",
                    "USD",
                ]
            )
        )
        pool.connection.append(connection)
        pool.remote_type.append(remote_type)
        pool.remote_id.append(remote_id)
        pool.name.append(name)
    return lines, pool


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def invoices_chunks(
    rng: random.Random, count: int, pool: ContactPool, connections: tuple[int, int], stamp: str
) -> Iterator[tuple[list[str], list[str], dict[str, int]]]:
    """Invoice lines and their two lines each, CHUNK invoices at a time, as COPY text lines."""
    statuses = [s[:3] for s in STATUSES]
    status_weights = [s[3] for s in STATUSES]
    currencies = [c for c, _ in CURRENCIES]
    currency_weights = [w for _, w in CURRENCIES]
    kinds = [k for k, _ in KINDS]
    kind_weights = [w for _, w in KINDS]
    numbers: dict[tuple[int, str], int] = {}
    cent = Decimal("0.01")
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        chosen_status = rng.choices(statuses, status_weights, k=size)
        chosen_currency = rng.choices(currencies, currency_weights, k=size)
        chosen_kind = rng.choices(kinds, kind_weights, k=size)
        invoices: list[str] = []
        lines: list[str] = []
        by_kind: dict[str, int] = {}
        for offset in range(size):
            pk = start + offset + 1
            contact = rng.randrange(len(pool.connection))
            connection = pool.connection[contact]
            xero = connection == connections[0]
            kind = chosen_kind[offset]
            by_kind[kind] = by_kind.get(kind, 0) + 1
            status, xero_word, qbo_word = chosen_status[offset]
            currency = chosen_currency[offset]
            issue = TODAY - dt.timedelta(days=rng.randrange(DAYS))
            due = issue + dt.timedelta(days=rng.choice(DUE_DAYS))
            sequence = numbers[(connection, kind)] = numbers.get((connection, kind), 0) + 1
            number = f"{'INV' if kind == 'sales' else 'BILL'}-{connection}{sequence:07d}"
            if xero:
                remote_type, remote_id = "Invoice", str(uuid.UUID(int=rng.getrandbits(128)))
            else:
                remote_type, remote_id = ("Invoice" if kind == "sales" else "Bill"), str(pk)
            subtotal = Decimal(str(round(rng.lognormvariate(6.0, 1.2), 2)))
            tax = (subtotal * (Decimal("0.2") if currency == "GBP" else Decimal("0.1"))).quantize(cent)
            total = subtotal + tax
            if status in ("paid", "voided"):
                due_amount = Decimal(0)
            elif status == "partially_paid":
                due_amount = (total * Decimal("0.4")).quantize(cent)
            else:
                due_amount = total
            paid = total - due_amount if status != "voided" else Decimal(0)
            paid_on = (issue + dt.timedelta(days=rng.randrange(60))).isoformat() if status == "paid" else None
            updated = f"{(issue + dt.timedelta(days=rng.randrange(30))).isoformat()} 10:00:00+00"
            word = xero_word if xero else qbo_word
            raw = (
                f'{{"InvoiceID":"{remote_id}","InvoiceNumber":"{number}",'
                f'"Type":"{"ACCREC" if kind == "sales" else "ACCPAY"}","Status":"{word}",'
                f'"Date":"{issue.isoformat()}","CurrencyCode":"{currency}","Total":"{money(total)}",'
                f'"AmountDue":"{money(due_amount)}"}}'
            )
            values = [
                str(pk),
                stamp,
                stamp,
                str(connection),
                remote_type,
                remote_id,
                updated,
                word,
                "t" if status == "deleted" else "f",
                "t" if rng.random() < 0.005 else "f",
                raw,
                f"{rng.getrandbits(128):032x}",
                stamp,
                str(contact + 1),
                pool.remote_type[contact],
                pool.remote_id[contact],
                pool.name[contact],
                number,
                f"PO {rng.randrange(100000)}" if rng.random() < 0.4 else "",
                issue.isoformat(),
                status,
                currency,
                "1" if currency == "USD" else f"{rng.uniform(0.6, 1.6):.6f}",
                kind,
                due.isoformat(),
                "exclusive",
                money(subtotal),
                money(tax),
                money(total),
                money(due_amount),
                money(paid),
                copy_text(paid_on),
            ]
            invoices.append("\t".join(values))
            first = (subtotal * Decimal("0.6")).quantize(cent)
            first_tax = (tax * Decimal("0.6")).quantize(cent)
            for position, (amount, line_tax) in enumerate(
                ((first, first_tax), (subtotal - first, tax - first_tax))
            ):
                quantity = rng.randrange(1, 10)
                account = rng.choice(ACCOUNTS)[0]
                lines.append(
                    "\t".join(
                        [
                            str(2 * pk - 1 + position),
                            str(pk),
                            str(position),
                            f"{pk}-{position}",
                            rng.choice(DESCRIPTIONS),
                            str(quantity),
                            f"{amount / quantity:.6f}",
                            money(amount),
                            money(line_tax),
                            account,
                            f"ITEM-{rng.randrange(50):02d}",
                            "OUTPUT2" if kind == "sales" else "INPUT2",
                        ]
                    )
                )
        yield invoices, lines, by_kind


def secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, definition) of a table's indexes that back no constraint."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))",
        [table],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def seed(database_url: str, options: argparse.Namespace, connections: tuple[int, int]) -> Seeded:
    """Contacts, invoices and lines by COPY, two sessions (invoices and lines) fed in step."""
    import psycopg

    from accounting.models import Contact, Invoice, InvoiceLine

    rng = random.Random(options.seed)  # noqa: S311 - test data
    stamp = dt.datetime.now(dt.UTC).isoformat()
    tables = {
        "contact": CopyTable.of(Contact, CONTACT_COLUMNS),
        "invoice": CopyTable.of(Invoice, INVOICE_COLUMNS),
        "line": CopyTable.of(InvoiceLine, LINE_COLUMNS),
    }
    seeded = Seeded()
    contact_count = max(10, options.invoices // 50)
    with (
        psycopg.connect(database_url) as first,
        psycopg.connect(database_url) as second,
    ):
        dropped: list[tuple[str, str]] = []
        with first.cursor() as cursor:
            for table in tables.values():
                dropped += secondary_indexes(cursor, table.name)
            for name, _ in dropped:
                cursor.execute(f'DROP INDEX "{name}"')
        first.commit()
        for session in (first, second):
            session.execute("SET session_replication_role = replica")
        started = time.perf_counter()
        contact_lines, pool = contacts_text(rng, contact_count, connections, stamp)
        with first.cursor() as cursor, cursor.copy(tables["contact"].copy_sql()) as copy:
            suffix = tables["contact"].suffix
            copy.write("".join(line + suffix for line in contact_lines))
        seeded.contacts = contact_count
        with (
            first.cursor() as invoice_cursor,
            second.cursor() as line_cursor,
            invoice_cursor.copy(tables["invoice"].copy_sql()) as invoice_copy,
            line_cursor.copy(tables["line"].copy_sql()) as line_copy,
        ):
            invoice_suffix, line_suffix = tables["invoice"].suffix, tables["line"].suffix
            for invoices, lines, by_kind in invoices_chunks(rng, options.invoices, pool, connections, stamp):
                invoice_copy.write("".join(line + invoice_suffix for line in invoices))
                line_copy.write("".join(line + line_suffix for line in lines))
                seeded.invoices += len(invoices)
                seeded.lines += len(lines)
                for kind, n in by_kind.items():
                    seeded.by_kind[kind] = seeded.by_kind.get(kind, 0) + n
        first.commit()
        second.commit()
        loaded = time.perf_counter() - started
        print(
            f"  COPY: {seeded.contacts:,} contacts, {seeded.invoices:,} invoices "
            f"({', '.join(f'{k} {v:,}' for k, v in sorted(seeded.by_kind.items()))}), "
            f"{seeded.lines:,} lines in {loaded:.1f} s"
        )
        started = time.perf_counter()
        first.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in dropped:
            first.execute(definition)
        first.commit()
        for table in tables.values():
            first.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "  # noqa: S608
                f'(SELECT MAX(id) FROM "{table.name}"))'
            )
        first.commit()
        print(f"  {len(dropped)} secondary indexes built again in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        first.autocommit = True
        for table in tables.values():
            first.execute(f'VACUUM ANALYZE "{table.name}"')
        print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
        # The load leaves about a gigabyte of dirty pages; without a checkpoint here the checkpointer writes
        # them out during the first measurements (list p50s doubled in one run).
        started = time.perf_counter()
        first.execute("CHECKPOINT")
        print(f"  CHECKPOINT in {time.perf_counter() - started:.1f} s")
        sizes = first.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('accounting_invoice')), "
            "pg_size_pretty(pg_total_relation_size('accounting_invoiceline')), "
            "pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
        if sizes:
            print(f"  sizes: invoices {sizes[0]} (with indexes), lines {sizes[1]}, database {sizes[2]}")
    return seeded


# --- the server -------------------------------------------------------------------------------------------
def gunicorn_start(
    environment: dict[str, str], work: Path, port: int, workers: int
) -> subprocess.Popen[bytes]:
    log = (work / "server.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "600",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn, fixed arguments
        command, cwd=REPOSITORY, env=environment, stdout=log, stderr=subprocess.STDOUT
    )


def gunicorn_stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    print("server stopped")


def workers_of(server: subprocess.Popen[bytes]) -> list[int]:
    try:
        text = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def proc_cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def peak_reset(pid: int) -> None:
    """Reset the process's VmHWM to its current RSS (Linux: `5` to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# --- figures ----------------------------------------------------------------------------------------------
def nearest_rank(ordered: list[float], share: float) -> float:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Timing:
    label: str
    milliseconds: list[float]
    target_ms: float
    note: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.milliseconds)

    @property
    def p95(self) -> float:
        return nearest_rank(sorted(self.milliseconds), 0.95)

    def ok(self, by: str = "p95") -> bool:
        return (self.p95 if by == "p95" else self.p50) <= self.target_ms

    def line(self, by: str = "p95") -> str:
        ordered = sorted(self.milliseconds)
        verdict = "OK" if self.ok(by) else "OVER"
        return (
            f"  {self.label:40} p50 {self.p50:6.1f} ms  p95 {self.p95:6.1f} ms  min {ordered[0]:6.1f}  "
            f"max {ordered[-1]:7.1f}  n={len(ordered):<3} [{by} target {self.target_ms:.0f} ms: {verdict}]"
            + (f"  {self.note}" if self.note else "")
        )


def timed(
    call: Callable[[int], Any], requests_wanted: int, warmup: int, deadline: Deadline
) -> tuple[list[float], Any]:
    last = None
    for index in range(warmup):
        last = call(index)
        deadline.left()
    milliseconds = []
    for index in range(requests_wanted):
        started = time.perf_counter()
        last = call(index)
        milliseconds.append((time.perf_counter() - started) * 1000)
        deadline.left()
    return milliseconds, last


def get_json(session: requests.Session, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = session.get(url, params=params, timeout=120)
    if response.status_code != 200:
        raise SystemExit(f"GET {response.url} answered {response.status_code}: {response.text[:500]}")
    return dict(response.json())


# --- lists ------------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    key: str
    label: str
    params: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)  # cycled through per request (q)


def scenarios(facts: dict[str, Any]) -> list[Scenario]:
    recent = facts["recent_from"]
    return [
        Scenario("a", "(a) default list, page 1", {}),
        Scenario(
            "b", "(b) status=authorised, -issue_date", {"status": "authorised", "ordering": "-issue_date"}
        ),
        Scenario(
            "c",
            "(c) issue_date 90-day range + currency",
            {
                "issue_date__gte": recent.isoformat(),
                "issue_date__lte": (recent + dt.timedelta(days=90)).isoformat(),
                "currency": "EUR",
            },
        ),
        Scenario("d", "(d) total__gte=5000, -total", {"total__gte": "5000", "ordering": "-total"}),
        Scenario("e", "(e) q=<invoice number>", {}, samples=[{"q": number} for number in facts["numbers"]]),
        Scenario("f", f"(f) deep page (page={facts['deep_page']})", {"page": facts["deep_page"]}),
        Scenario(
            "h",
            "(h) connection + status__in + due_date__lte",
            {
                "connection": facts["connections"][0],
                "status__in": "authorised,partially_paid",
                "due_date__lte": TODAY.isoformat(),
                "ordering": "due_date",
            },
        ),
    ]


def measure_lists(
    session: requests.Session,
    base: str,
    facts: dict[str, Any],
    options: argparse.Namespace,
    deadline: Deadline,
) -> list[tuple[Scenario, Timing]]:
    url = f"{base}/api/v1/invoices/"
    results = []
    print(
        f"\nAPI lists: GET /api/v1/invoices/ (kind=sales), {options.warmup} warm-up + {options.requests} timed requests each"
    )
    for scenario in scenarios(facts):

        def call(index: int, scenario: Scenario = scenario) -> dict[str, Any]:
            params = dict(scenario.params)
            if scenario.samples:
                params |= scenario.samples[index % len(scenario.samples)]
            return get_json(session, url, params)

        milliseconds, last = timed(call, options.requests, options.warmup, deadline)
        note = f"count={last.get('count'):,}, {len(last['results'])} rows/page"
        timing = Timing(scenario.label, milliseconds, LIST_TARGET_MS, note)
        print(timing.line())
        results.append((scenario, timing))
    # (g) the cursor: follow `next` for 20 pages, each page one sample.
    walks = max(1, math.ceil(options.requests / 20))
    per_page: list[float] = []
    walk_ms: list[float] = []
    for walk in range(walks + 1):  # the first walk is the warm-up
        started_walk = time.perf_counter()
        next_url: str | None = f"{url}?paginate=cursor"
        pages = 0
        while next_url and pages < 20:
            started = time.perf_counter()
            data = get_json(session, next_url)
            if walk:
                per_page.append((time.perf_counter() - started) * 1000)
            next_url = data.get("next")
            pages += 1
            deadline.left()
        if walk:
            walk_ms.append((time.perf_counter() - started_walk) * 1000)
    timing = Timing(
        "(g) cursor walk, 20 pages (per page)",
        per_page,
        LIST_TARGET_MS,
        f"whole walk median {statistics.median(walk_ms):.0f} ms over {walks} walks",
    )
    print(timing.line())
    results.append((Scenario("g", timing.label, {"paginate": "cursor"}), timing))
    return results


# --- exports ----------------------------------------------------------------------------------------------
@dataclass
class ExportFigures:
    label: str
    wall: float
    first_byte: float
    size: int
    rows: int
    peak_mb: float
    rss_before_mb: float
    worker: int


def export_stream(
    session: requests.Session,
    url: str,
    params: dict[str, Any],
    server: subprocess.Popen[bytes],
    export_format: str,
    keep_to: Path,
) -> ExportFigures:
    """Stream the export to `keep_to`, timing it; the serving worker's peak memory."""
    workers = workers_of(server)
    for pid in workers:
        peak_reset(pid)
    before = {pid: (proc_cpu_ticks(pid), proc_status_kb(pid, "VmRSS")) for pid in workers}
    started = time.perf_counter()
    first_byte = 0.0
    size = 0
    newlines = 0
    with (
        session.get(
            url, params={**params, "export_format": export_format}, stream=True, timeout=900
        ) as response,
        keep_to.open("wb") as target,
    ):
        if response.status_code != 200:
            raise SystemExit(f"Export answered {response.status_code}: {response.text[:500]}")
        for piece in response.iter_content(chunk_size=65536):
            target.write(piece)
            if not first_byte:
                first_byte = time.perf_counter() - started
            size += len(piece)
            newlines += piece.count(b"\n")
    wall = time.perf_counter() - started
    # The worker that served it: the one whose CPU moved most.
    worker = max(workers, key=lambda pid: proc_cpu_ticks(pid) - before[pid][0])
    rows = newlines - 1 if export_format == "csv" else -1
    return ExportFigures(
        f"{export_format.upper()} export",
        wall,
        first_byte,
        size,
        rows,
        proc_status_kb(worker, "VmHWM") / 1024,
        before[worker][1] / 1024,
        worker,
    )


def xlsx_rows(path: Path) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1
    workbook.close()
    return count


def child_export(arguments: Sequence[str]) -> int:
    """A background export, run as a django-q worker runs it (`accounting.tasks.export_run`)."""
    parser = argparse.ArgumentParser(prog="api.py child-export")
    parser.add_argument("--job", type=int, required=True)
    options = parser.parse_args(arguments)
    django_setup(dict(os.environ))
    from accounting.tasks import export_run

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = export_run(options.job)
    print(
        "EXPORT "
        + json.dumps({"status": outcome, "wall": time.perf_counter() - started, "maxrss_before_kb": before})
    )
    return 0


def measure_exports(
    session: requests.Session,
    base: str,
    facts: dict[str, Any],
    server: subprocess.Popen[bytes],
    environment: dict[str, str],
    work: Path,
    options: argparse.Namespace,
    deadline: Deadline,
) -> list[str]:
    url = f"{base}/api/v1/invoices/export/"
    params = {"issue_date__gte": facts["export_from"].isoformat()}
    problems = []
    print(
        f"\nexport: GET /api/v1/invoices/export/?issue_date__gte={params['issue_date__gte']} "
        f"({facts['export_rows']:,} rows; EXPORT_SYNC_MAX_ROWS={facts['export_rows']} in the server)"
    )
    for export_format in options.formats:
        deadline.left()
        target = work / f"export.{export_format}"
        try:
            figures = export_stream(session, url, params, server, export_format, target)
            if export_format == "xlsx":
                figures.rows = xlsx_rows(target)
        except Exception as exc:
            problems.append(f"{export_format} export: {type(exc).__name__}: {exc}")
            print(f"  {export_format} export failed: {exc}")
            continue
        finally:
            target.unlink(missing_ok=True)
        if figures.rows != facts["export_rows"]:
            problems.append(
                f"{export_format} export held {figures.rows:,} rows, not {facts['export_rows']:,}"
            )
        verdict = "OK" if figures.peak_mb < EXPORT_MEMORY_TARGET_MB else "OVER"
        print(
            f"  {figures.label}: {figures.rows:,} rows, {figures.size / 1_048_576:.1f} MB in {figures.wall:.1f} s "
            f"({figures.rows / figures.wall:,.0f} rows/s; first byte after {figures.first_byte * 1000:.0f} ms)\n"
            f"    serving worker (pid {figures.worker}): RSS {figures.rss_before_mb:.0f} MB before, peak (VmHWM) "
            f"{figures.peak_mb:.0f} MB  [target < {EXPORT_MEMORY_TARGET_MB:.0f} MB: {verdict}]"
        )
    # The background path: a larger export answers 202; its job runs in a child process.
    if not options.background:
        return problems
    deadline.left()
    big = {"issue_date__gte": facts["background_from"].isoformat(), "export_format": "csv"}
    response = session.get(url, params=big, timeout=120)
    if response.status_code != 202:
        problems.append(f"the larger export answered {response.status_code}, not 202: {response.text[:200]}")
        print(f"  background: answered {response.status_code}, not 202")
        return problems
    job = response.json()
    print(
        f"  background: ?issue_date__gte={big['issue_date__gte']} answered 202 in "
        f"{response.elapsed.total_seconds() * 1000:.0f} ms, export #{job['id']} {job['status']} "
        "(the job counts its rows when it starts)"
    )
    out = work / "child-export.out"
    with out.open("wb") as stdout:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and this script
            [sys.executable, str(Path(__file__).resolve()), "child-export", "--job", str(job["id"])],
            cwd=REPOSITORY,
            env=environment,
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )
    started = time.perf_counter()
    until = time.monotonic() + deadline.left()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > until:
            process.kill()
            os.wait4(process.pid, 0)
            raise TimeoutError("The export child ran out of time (--timeout).")
        time.sleep(0.05)
    wall = time.perf_counter() - started
    text = out.read_text()
    if os.waitstatus_to_exitcode(status) != 0 or "EXPORT " not in text:
        problems.append("the background export's child failed")
        print(text[-3000:])
        return problems
    report = json.loads(text.split("EXPORT ", 1)[1].splitlines()[0])
    detail = get_json(session, job["url"])
    peak = usage.ru_maxrss / 1024
    verdict = "OK" if peak < EXPORT_MEMORY_TARGET_MB else "OVER"
    print(
        f"    job: {detail['status']}, {detail['rows_done']:,} rows, {(detail['file_size'] or 0) / 1_048_576:.1f} MB "
        f"in {report['wall']:.1f} s ({detail['rows_done'] / max(report['wall'], 1e-9):,.0f} rows/s; "
        f"{wall:.1f} s with the process's start-up)\n"
        f"    worker process peak RSS {peak:.0f} MB (of which {report['maxrss_before_kb'] / 1024:.0f} MB before "
        f"the job: Django loaded)  [target < {EXPORT_MEMORY_TARGET_MB:.0f} MB: {verdict}]"
    )
    if detail["status"] != "succeeded":
        problems.append(f"background export {detail['status']}: {detail.get('error')}")
        return problems
    started = time.perf_counter()
    download = session.get(detail["download_url"], timeout=300)
    rows = download.content.count(b"\n") - 1
    print(
        f"    download: {download.status_code}, {len(download.content) / 1_048_576:.1f} MB, {rows:,} rows "
        f"in {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    if rows != detail["rows_total"]:
        problems.append(f"background export file held {rows:,} rows, not {detail['rows_total']:,}")
    return problems


# --- admin ------------------------------------------------------------------------------------------------
def admin_session(base: str) -> requests.Session:
    session = requests.Session()
    login = f"{base}/admin/login/"
    session.get(login, timeout=30)
    response = session.post(
        login,
        data={
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            "username": STAFF,
            "password": PASSWORD,
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"Admin login failed: {response.status_code} {response.text[:300]}")
    return session


def measure_admin(
    base: str, facts: dict[str, Any], options: argparse.Namespace, deadline: Deadline
) -> list[Timing]:
    session = admin_session(base)
    url = f"{base}/admin/accounting/invoice/"
    recent = facts["recent_from"]
    cases = [
        ("no filter", {}),
        ("status=authorised", {"status__exact": "authorised"}),
        ("kind=sales & currency=EUR", {"kind__exact": "sales", "currency": "EUR"}),
        ("date hierarchy: a year", {"issue_date__year": recent.year}),
        ("date hierarchy: a month", {"issue_date__year": recent.year, "issue_date__month": recent.month}),
        ("search an invoice number", {"q": facts["numbers"][0]}),
        ("page 100", {"p": 100}),
    ]
    print(
        f"\nadmin: GET /admin/accounting/invoice/ with a staff session, 1 warm-up + {options.admin_requests} timed each"
    )
    timings = []
    for label, params in cases:

        def call(index: int, params: dict[str, Any] = params) -> int:
            response = session.get(url, params=params, timeout=120)
            if response.status_code != 200:
                raise SystemExit(f"GET {response.url} answered {response.status_code}: {response.text[:300]}")
            return len(response.content)

        milliseconds, size = timed(call, options.admin_requests, 1, deadline)
        timing = Timing(
            f"{label} ?{urlencode(params)}"[:40], milliseconds, ADMIN_TARGET_MS, f"{size / 1024:.0f} kB"
        )
        print(timing.line())
        timings.append(timing)
    return timings


# --- EXPLAIN ----------------------------------------------------------------------------------------------
def explain_slow(results: list[tuple[Scenario, Timing]], facts: dict[str, Any]) -> None:
    """The count and page queries of each list over target, as the endpoint builds them."""
    from django.db import connection as database

    from accounting.exports import endpoint_queryset
    from accounting.families import ENDPOINTS

    slow = [(scenario, timing) for scenario, timing in results if not timing.ok()]
    if not slow:
        return
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the lists over target (the queryset the endpoint builds):")
    for scenario, _ in slow:
        params = dict(scenario.params)
        if scenario.samples:
            params |= scenario.samples[0]
        page = int(params.pop("page", 1))
        params.pop("paginate", None)
        queryset = endpoint_queryset(endpoint=ENDPOINTS["invoices"], query=urlencode(params))
        # The count as the list's paginator runs it: no further than one past its exact limit.
        from accounting.api.pagination import HybridPagination

        capped = queryset.order_by()[: HybridPagination.count_exact_limit + 1]
        sql, sql_params = capped.query.sql_with_params()
        statements = []
        if scenario.key != "g":
            statements.append(("capped count", f"SELECT COUNT(*) FROM ({sql}) counted", sql_params))  # noqa: S608
        page_sql, page_params = queryset[(page - 1) * 50 : page * 50].query.sql_with_params()
        statements.append(("page", page_sql, page_params))
        print(
            f"\n  {scenario.label}  ?{urlencode({**scenario.params, **(scenario.samples[0] if scenario.samples else {})})}"
        )
        for name, text, values in statements:
            with database.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}", values)
                plan = [row[0] for row in cursor.fetchall()]
            shown = [line for line in plan if "Buffers" not in line and "Planning" not in line][:14]
            print(f"    {name}:")
            for line in shown:
                print(f"      {line[:150]}")
            print(f"      {plan[-1]}")


# --- the run ----------------------------------------------------------------------------------------------
def facts_read(options: argparse.Namespace) -> dict[str, Any]:
    """What the scenarios need from the data: the date giving ~export rows, invoice numbers, deep page."""
    from accounting.models import Invoice
    from integrations.models import Connection

    active = Invoice.objects.filter(kind="sales", archived=False, remote_deleted=False)
    total = active.count()
    wanted = min(options.export_rows, total // 2)
    dates = active.order_by("-issue_date").values_list("issue_date", flat=True)
    export_from = dates[wanted - 1]
    background_from = dates[min(total - 1, int(wanted * 1.05))]
    export_rows = active.filter(issue_date__gte=export_from).count()
    rng = random.Random(options.seed + 1)  # noqa: S311 - test data
    ids = [rng.randrange(1, options.invoices + 1) for _ in range(200)]
    numbers = list(active.filter(pk__in=ids).values_list("number", flat=True)[:25])
    return {
        "active_sales": total,
        "export_from": export_from,
        "export_rows": export_rows,
        "background_from": background_from,
        "recent_from": TODAY - dt.timedelta(days=200),
        "numbers": numbers,
        "deep_page": min(500, max(1, total // 50)),
        "connections": list(Connection.objects.order_by("pk").values_list("pk", flat=True)),
    }


def run(options: argparse.Namespace) -> int:
    deadline = Deadline(options.timeout)
    work = Path(tempfile.mkdtemp(prefix="ledgerlink-api-bench-"))
    server: subprocess.Popen[bytes] | None = None
    problems: list[str] = []
    with postgres_database("ledgerlink_bench_api", keep=options.keep) as database_url:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": database_url,
            "SANDBOX_DATABASE_URL": f"sqlite:///{work / 'sandbox.sqlite3'}",
            "LEDGERLINK_SANDBOX_ENABLED": "false",
            "LEDGERLINK_VAR_DIR": str(work),
            "EXPORT_DIR": str(work / "exports"),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        try:
            print(f"work directory: {work}; database: {database_url}")
            started = time.perf_counter()
            manage(["migrate", "--database", "default", "--verbosity", "0"], environment, deadline, 300)
            print(f"migrated in {time.perf_counter() - started:.1f} s")
            django_setup(environment)
            from django.contrib.auth import get_user_model

            from core.services import api_token_issue
            from integrations.models import Connection

            xero = Connection.objects.create(
                provider="xero", display_name="Bench Xero Org", tenant_id=str(uuid.uuid4()), status="active"
            )
            qbo = Connection.objects.create(
                provider="quickbooks", display_name="Bench QBO Company", tenant_id="9130357", status="active"
            )
            user = get_user_model().objects.create_superuser(STAFF, "bench@example.com", PASSWORD)
            token = api_token_issue(user=user, name="bench")
            print(f"seeding {options.invoices:,} invoices by COPY:")
            started = time.perf_counter()
            seeded = seed(database_url, options, (xero.pk, qbo.pk))
            print(f"  seeded in {time.perf_counter() - started:.1f} s all told")
            if seeded.invoices != options.invoices:
                raise SystemExit("seeding fell short")
            facts = facts_read(options)
            print(
                f"  active sales invoices (the list's default): {facts['active_sales']:,}; "
                f"export rows (issue_date >= {facts['export_from']}): {facts['export_rows']:,}"
            )
            environment["EXPORT_SYNC_MAX_ROWS"] = str(facts["export_rows"])
            port = free_port()
            base = f"http://{HOST}:{port}"
            server = gunicorn_start(environment, work, port, options.workers)
            headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
            wait_until_serving(
                f"{base}/api/v1/invoices/?page_size=1", headers, server, deadline, name="gunicorn"
            )
            workers = workers_of(server)
            print(
                f"server: gunicorn config.wsgi on {HOST}:{port} (master {server.pid}, {options.workers} sync "
                f"workers {workers}), config.settings.dev, DEBUG off"
            )
            session = requests.Session()
            session.headers.update(headers)
            results = measure_lists(session, base, facts, options, deadline)
            try:
                problems += measure_exports(
                    session, base, facts, server, environment, work, options, deadline
                )
            except (SystemExit, requests.RequestException, OSError, KeyError, ValueError) as exc:
                problems.append(f"exports: {exc}")
            try:
                admin = measure_admin(base, facts, options, deadline)
            except (SystemExit, requests.RequestException) as exc:
                problems.append(f"admin: {exc}")
                admin = []
            rss = ", ".join(
                f"{pid}: {proc_status_kb(pid, 'VmRSS') / 1024:.0f} MB" for pid in workers_of(server)
            )
            print(f"\nworkers' RSS at the end: {rss}")
            over = [timing.label for _, timing in results if not timing.ok()]
            over += [timing.label for timing in admin if not timing.ok(by="p50")]
            print(
                f"\nsummary: {sum(t.ok() for _, t in results)}/{len(results)} lists within {LIST_TARGET_MS:.0f} ms p95; "
                f"{sum(t.ok(by='p50') for t in admin)}/{len(admin)} admin pages within {ADMIN_TARGET_MS:.0f} ms (median)"
            )
            explain_slow(results, facts)
        finally:
            if server is not None:
                gunicorn_stop(server)
            from django.db import connections

            connections.close_all()
            if options.keep:
                print(f"kept {work}")
            else:
                import shutil

                shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["child-export"]:
        return child_export(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=1_000_000, help="invoices and bills to load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per list")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per list first")
    parser.add_argument("--admin-requests", type=int, default=10, help="timed requests per admin page")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows of the measured export")
    parser.add_argument("--formats", default="csv,xlsx", help="export formats measured")
    parser.add_argument("--no-background", dest="background", action="store_false", help="skip the 202 path")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--timeout", type=float, default=1800.0, help="stop the whole run after this many s")
    parser.add_argument("--keep", action="store_true", help="keep the database and the work directory")
    options = parser.parse_args(argv)
    options.formats = [part.strip() for part in options.formats.split(",") if part.strip()]
    if options.invoices < 1000:
        parser.error("--invoices must be at least 1000")
    # Stopped by a signal, the run still stops its server and drops its database (the `finally`s); a
    # background job of a non-interactive shell inherits SIGINT ignored, so both are set here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
