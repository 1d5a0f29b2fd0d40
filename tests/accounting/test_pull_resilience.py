"""The pull engine against a misbehaving ledger (the sandbox over real HTTP): injected server errors,
timeouts and dropped connections; a worker killed mid-pass; two workers sharing one connection's rate
limits; and a daily limit that makes a run give its worker back and resume later.

After each scenario the mirror is compared with the sandbox's own records, family by family: the same
ids, `raw` equal to the sandbox's body, no duplicates, and `remote_deleted` exactly where the ledger's
record says deleted."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

import sandbox.faults as sandbox_faults
import sandbox.limits as sandbox_limits
from accounting import mirror
from accounting import pull as engine
from accounting.families import FAMILIES
from accounting.models import Invoice
from core.jsontext import decode
from integrations.models import Connection, Credential, RateBudget, SyncRun, SyncState
from integrations.providers import get_provider
from integrations.providers.xero import client as xero_client
from integrations.providers.xero import pull as xero_pull
from integrations.sync import sync_dispatch, sync_request
from integrations.tokens import credential_app, token_get
from sandbox.models import Tenant
from sandbox.models.xero_records import XeroRecord

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


FAULT_SEED = 11

# --- helpers --------------------------------------------------------------------------------------------


def sandbox_tenant(connection: Connection) -> Tenant:
    return Tenant.objects.get(tenant_id=connection.tenant_id)


def tenant_set(tenant: Tenant, **values: Any) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(**values)


def sandbox_records(connection: Connection, collection: str) -> dict[str, Any]:
    tenant = sandbox_tenant(connection)
    rows = XeroRecord.objects.filter(tenant=tenant, collection=collection).values_list("record_id", "body")
    return {record_id: decode(body) for record_id, body in rows}


def assert_mirror_equals_sandbox(connection: Connection, families: list[str] | None = None) -> None:
    """Every family's mirror holds exactly the sandbox's records: same ids, raw == body, no duplicate,
    flagged deleted exactly when the ledger's record says so."""
    sources = get_provider(connection.provider).pull_sources()
    for key in families or list(sources):
        model = FAMILIES[key].model
        for entity in sources[key].entities:
            remote = sandbox_records(connection, entity.collection)
            rows = list(
                model._default_manager.filter(
                    connection=connection, remote_type=entity.remote_type
                ).values_list("remote_id", "raw", "remote_deleted")
            )
            ids = [row[0] for row in rows]
            assert len(ids) == len(set(ids)), f"{key}/{entity.remote_type}: duplicates"
            assert set(ids) == set(remote), (
                f"{key}/{entity.remote_type}: missing {sorted(set(remote) - set(ids))[:5]}, "
                f"extra {sorted(set(ids) - set(remote))[:5]}"
            )
            for remote_id, raw, deleted in rows:
                body = remote[remote_id]
                assert raw == body, f"{key}/{entity.remote_type} {remote_id}: raw differs from the sandbox"
                assert deleted == entity.normalise(body).remote_deleted, (
                    f"{key}/{entity.remote_type} {remote_id}: remote_deleted={deleted} but the ledger's "
                    f"status is {body.get('Status')}"
                )


def runs_succeeded(runs: dict[str, SyncRun] | list[SyncRun]) -> None:
    for run in runs.values() if isinstance(runs, dict) else runs:
        run.refresh_from_db()
        assert run.status == "succeeded", (run.entity, run.status, run.error, run.log[-5:])


@pytest.fixture
def small_pages(monkeypatch):
    """Five records a page, so the seeded invoices span several pages."""
    monkeypatch.setattr(xero_pull, "PAGE_SIZE", 5)
    return 5


# --- 1. faults --------------------------------------------------------------------------------------------


def test_full_pull_through_errors_timeouts_and_drops_matches_the_ledger(
    xero_connection, pull, settings, monkeypatch, small_pages
):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    # The sandbox holds a timed-out call for `fault_timeout_seconds` then drops it; our client gives up
    # at its read timeout first, so a timeout is really met as one (not as a dropped connection).
    monkeypatch.setattr(xero_client, "READ_TIMEOUT", 0.5)
    planned: list[str] = []
    plan = sandbox_faults.fault_plan

    def plan_recorded(**kwargs: Any) -> sandbox_faults.FaultPlan:
        decided = plan(**kwargs)
        planned.append(decided.kind or "")
        return decided

    monkeypatch.setattr(sandbox_faults, "fault_plan", plan_recorded)
    tenant_set(
        sandbox_tenant(xero_connection),
        fault_error_rate=0.10,
        fault_error_status=500,
        fault_timeout_rate=0.10,
        fault_timeout_seconds=1.0,
        fault_drop_after_commit_rate=0.10,
        fault_seed=FAULT_SEED,
    )
    runs = pull(xero_connection, full=True)
    runs_succeeded(runs)
    # The sandbox really served each kind of fault, and the engine retried through them.
    assert {"error", "timeout", "drop"} <= set(planned), planned
    assert sum(run.retries for run in runs.values()) == sum(1 for kind in planned if kind)
    assert sum(run.retries for run in runs.values()) > 0

    tenant_set(
        sandbox_tenant(xero_connection),
        fault_error_rate=0,
        fault_timeout_rate=0,
        fault_drop_after_commit_rate=0,
    )
    assert_mirror_equals_sandbox(xero_connection)


# --- 2. a worker killed mid-pass ------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """What a killed worker looks like to the code it was running: nothing after it runs (not even an
    `except Exception`), and the open transaction is rolled back."""


def test_a_worker_killed_mid_pass_is_restarted_and_the_mirror_ends_complete(
    xero_connection, settings, monkeypatch, small_pages
):
    invoices = sandbox_records(xero_connection, "Invoices")
    assert len(invoices) > 4 * small_pages, "the seeded invoices must span several pages"
    apply = mirror.mirror_records_apply
    invoice_pages: list[int] = []

    def apply_then_die(**kwargs):
        if kwargs["family"].key == "invoices":
            invoice_pages.append(len(kwargs["records"]))
            if len(invoice_pages) == 3:
                apply(**kwargs)  # the page is written... and the worker dies before commit
                raise WorkerKilled
        return apply(**kwargs)

    monkeypatch.setattr(mirror, "mirror_records_apply", apply_then_die)
    runs = sync_request(connection=xero_connection, full=True, enqueue=False)
    for run in runs:
        try:
            engine.entity_pull(run_id=run.pk)
        except WorkerKilled:
            assert run.entity == "invoices"
    monkeypatch.setattr(mirror, "mirror_records_apply", apply)
    dead = SyncRun.objects.get(connection=xero_connection, entity="invoices")
    others = SyncRun.objects.filter(connection=xero_connection).exclude(entity="invoices")
    runs_succeeded(list(others))

    # Left as a dead worker leaves it: running, holding its family, heartbeat at its last page.
    assert dead.status == "running"
    assert dead.pages == 2
    assert dead.checkpoint["token"] == {"entity": 0, "page": 3}
    assert SyncState.objects.get(connection=xero_connection, entity="invoices").running_run_id == dead.pk
    # One transaction per page: the two committed pages are intact, the third left nothing behind.
    applied = list(Invoice.objects.filter(connection=xero_connection).prefetch_related("lines"))
    assert len(applied) == 2 * small_pages
    for invoice in applied:
        assert invoice.raw == invoices[invoice.remote_id]
        assert len(invoice.lines.all()) == len(invoice.raw.get("LineItems") or [])

    # Nothing happens while the heartbeat is recent; past SYNC_STALE_SECONDS the run is restarted.
    assert sync_dispatch().restarted == 0
    assert dead.heartbeat_at is not None
    later = dead.heartbeat_at + timedelta(seconds=settings.SYNC_STALE_SECONDS + 1)
    result = sync_dispatch(now=later)
    assert result.restarted == 1
    dead.refresh_from_db()
    assert dead.status == "interrupted"
    replacement = (
        SyncRun.objects.filter(connection=xero_connection, entity="invoices").exclude(pk=dead.pk).get()
    )
    assert replacement.checkpoint.get("resumes") == dead.pk or replacement.checkpoint.get("complete")
    runs_succeeded([replacement])  # the replacement ran (django-q runs tasks in-process in tests)
    assert replacement.unchanged == 2 * small_pages  # the pages the dead worker applied cost no write
    assert replacement.created == len(invoices) - 2 * small_pages
    assert replacement.deleted == 0
    state = SyncState.objects.get(connection=xero_connection, entity="invoices")
    assert state.running_run_id is None
    assert state.last_run_id == replacement.pk
    assert_mirror_equals_sandbox(xero_connection)


# --- 3. two workers sharing one connection's limits -------------------------------------------------------


@pytest.fixture
def refusals(monkeypatch) -> list[str]:
    """Every call the sandbox refused (answered 429), by the limit it broke."""
    refused: list[str] = []
    admit = sandbox_limits.call_admit

    def admit_recorded(**kwargs: Any) -> sandbox_limits.Admission:
        try:
            return admit(**kwargs)
        except sandbox_limits.RateLimited as exc:
            refused.append(exc.problem)
            raise

    monkeypatch.setattr(sandbox_limits, "call_admit", admit_recorded)
    return refused


@pytest.fixture
def db_turns(monkeypatch) -> None:
    """SQLite's in-memory test database is shared-cache: a connection meeting another's open write
    transaction fails at once ("database table is locked") instead of waiting, as a file database or
    PostgreSQL would. There, threads take turns on the default database: one transaction (or statement
    outside one) at a time. Ledger calls happen outside transactions, so they still overlap."""
    if connections["default"].vendor != "sqlite":
        return
    turn = threading.RLock()
    enter, exit_ = transaction.Atomic.__enter__, transaction.Atomic.__exit__
    execute, executemany = CursorWrapper.execute, CursorWrapper.executemany

    def ours(using: str | None) -> bool:
        return (using or DEFAULT_DB_ALIAS) == DEFAULT_DB_ALIAS

    def atomic_enter(self):
        if ours(self.using):
            turn.acquire()
        try:
            return enter(self)
        except BaseException:
            if ours(self.using):
                turn.release()
            raise

    def atomic_exit(self, *exc_info):
        try:
            return exit_(self, *exc_info)
        finally:
            if ours(self.using):
                turn.release()

    def taking_turns(method):
        def run(self, *args, **kwargs):
            if self.db.alias != DEFAULT_DB_ALIAS:
                return method(self, *args, **kwargs)
            with turn:
                return method(self, *args, **kwargs)

        return run

    monkeypatch.setattr(transaction.Atomic, "__enter__", atomic_enter)
    monkeypatch.setattr(transaction.Atomic, "__exit__", atomic_exit)
    monkeypatch.setattr(CursorWrapper, "execute", taking_turns(execute))
    monkeypatch.setattr(CursorWrapper, "executemany", taking_turns(executemany))


# A sandbox "minute" lasts 60 / TIME_SCALE real seconds; our budget's windows are shortened to match.
TIME_SCALE = 40.0


def test_two_workers_stay_within_the_minute_and_concurrency_limits(
    xero_connection, settings, small_pages, refusals, db_turns
):
    settings.RATE_LIMIT_TIME_SCALE = TIME_SCALE
    limits = {"concurrent": 1, "per_minute": 5}
    tenant_set(
        sandbox_tenant(xero_connection),
        limit_concurrent=limits["concurrent"],
        limit_minute=limits["per_minute"],
        time_scale=TIME_SCALE,
    )
    xero_connection.settings = {**(xero_connection.settings or {}), "rate_limits": limits}
    xero_connection.save(update_fields=["settings"])
    # Connecting read the organisation outside our budget a moment ago: start from fresh windows.
    sandbox_limits.limits_reset(tenant=sandbox_tenant(xero_connection))
    runs = sync_request(
        connection=xero_connection, entities=["contacts", "invoices"], full=True, enqueue=False
    )
    errors: list[BaseException] = []

    def work(run_id: int) -> None:
        try:
            engine.entity_pull(run_id=run_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(run.pk,)) for run in runs]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not errors, errors
    runs_succeeded(runs)
    calls = sum(run.api_calls for run in runs)
    assert refusals == [], f"the sandbox answered {len(refusals)} calls with 429: {refusals}"
    assert not any("Retry after" in entry["message"] for run in runs for entry in run.log)
    assert RateBudget.objects.get(connection=xero_connection).blocked_reason == ""
    # The budget did hold the workers back: more calls than a window allows took more than a window.
    window = 60 / TIME_SCALE
    assert calls > 2 * limits["per_minute"]
    assert elapsed >= (calls // limits["per_minute"] - 1) * window
    assert sum(run.rate_limit_waits for run in runs) > 0
    assert_mirror_equals_sandbox(xero_connection, ["contacts", "invoices"])


# --- 4. a day limit: the run gives its worker back ---------------------------------------------------------


def test_a_day_limit_429_reschedules_the_run_instead_of_sleeping(xero_connection, settings, refusals):
    settings.RATE_LIMIT_TIME_SCALE = TIME_SCALE
    tenant = sandbox_tenant(xero_connection)
    tenant_set(tenant, limit_day=2, time_scale=TIME_SCALE)
    # Only invoices: the dispatcher should not start the other families' first runs here.
    entities = get_provider(xero_connection.provider).entity_keys
    xero_connection.settings = {
        **(xero_connection.settings or {}),
        "entities": {key: {"enabled": key == "invoices"} for key in entities},
    }
    xero_connection.save(update_fields=["settings"])
    # Today's calls were spent elsewhere (another client of the same app): our budget has not seen them.
    provider = get_provider(xero_connection.provider)
    source = provider.pull_sources()["accounts"]
    sandbox_limits.limits_reset(tenant=tenant)
    credential = Credential.objects.get(pk=xero_connection.credential_id)
    tokens, _version = token_get(credential_id=credential.pk)
    for _ in range(2):
        provider.pull_page(
            app=credential_app(credential),
            tokens=tokens,
            tenant_id=xero_connection.tenant_id,
            source=source,
            since=None,
            token=None,
        )
    day = 86_400 / TIME_SCALE

    run = sync_request(connection=xero_connection, entities=["invoices"], full=True, enqueue=False)[0]
    started = timezone.now()
    clock = time.monotonic()
    engine.entity_pull(run_id=run.pk)
    assert time.monotonic() - clock < 5, "the worker slept through the day limit"
    run.refresh_from_db()
    assert refusals == ["day"]
    assert run.status == "waiting", (run.status, run.error, run.log[-3:])
    assert run.resume_at is not None
    wait = (run.resume_at - started).total_seconds()
    assert day - 10 < wait < day + 5, wait  # the ledger's Retry-After: when its day window frees
    assert any("Retry after" in entry["message"] for entry in run.log)
    assert SyncState.objects.get(connection=xero_connection, entity="invoices").running_run_id == run.pk
    # Every worker of the connection is held back until then, not only this run.
    budget = RateBudget.objects.get(connection=xero_connection)
    assert budget.blocked_until >= time.time() + day - 15

    # Not yet due: nothing happens.
    assert sync_dispatch(now=run.resume_at - timedelta(seconds=60)).resumed == 0
    # The day passes: the ledger's window frees, and so does our block.
    tenant_set(tenant, limit_day=1_000_000)
    RateBudget.objects.filter(pk=budget.pk).update(blocked_until=time.time() - 1)
    result = sync_dispatch(now=run.resume_at + timedelta(seconds=1))
    assert result.resumed == 1
    assert result.scheduled == 0
    run.refresh_from_db()
    assert run.status == "succeeded", (run.status, run.error, run.log[-3:])
    assert run.attempts == 2
    assert SyncState.objects.get(connection=xero_connection, entity="invoices").running_run_id is None
    assert_mirror_equals_sandbox(xero_connection, ["invoices"])
