"""Sync runs and schedules: which (connection, entity family) pulls when, one at a time, and the record
every run leaves. The pull itself is `accounting.pull` (queued here by its dotted task path, since
integrations does not import the mirror).

- `sync_request`: a manual refresh, a webhook or the first sync of a new connection queues a run.
- `sync_dispatch` (every minute): queues due scheduled runs, resumes runs that waited for a rate limit,
  and restarts runs whose worker died (no heartbeat for `SYNC_STALE_SECONDS`).
- `run_claim` / `run_finish` / `run_wait`: the runner's start and end, holding the family's claim."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from core.jobs import job_finish, job_stale_q, job_start
from core.queue import task_enqueue_on_commit
from integrations.choices import (
    ConnectionStatusChoices,
    SyncErrorKindChoices,
    SyncModeChoices,
    SyncRunStatusChoices,
    SyncStateChoices,
    SyncTriggerChoices,
)
from integrations.models import Connection, SyncRun, SyncState
from integrations.providers import get_provider

logger = logging.getLogger(__name__)

PULL_TASK = "accounting.tasks.pull_entity"
ACTIVE_RUN_STATUSES = (
    SyncRunStatusChoices.QUEUED,
    SyncRunStatusChoices.RUNNING,
    SyncRunStatusChoices.WAITING,
)
LOG_LIMIT = 200


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "SYNC_STALE_SECONDS", 300))


def entity_settings(connection: Connection, entity: str) -> dict[str, Any]:
    provider = get_provider(connection.provider)
    defaults = provider.settings_defaults()["entities"].get(entity, {})
    return {**defaults, **((connection.settings or {}).get("entities") or {}).get(entity, {})}


def entity_keys(connection: Connection) -> tuple[str, ...]:
    return get_provider(connection.provider).entity_keys


def _enqueue(run: SyncRun) -> None:
    task_enqueue_on_commit(PULL_TASK, run.pk, task_name=f"pull-{run.connection_id}-{run.entity}-{run.pk}")


def sync_state_get(*, connection: Connection, entity: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(connection=connection, entity=entity)
    return state


def sync_request(
    *,
    connection: Connection,
    entities: list[str] | None = None,
    full: bool = False,
    trigger: str = SyncTriggerChoices.MANUAL,
    user_id: int | None = None,
    enqueue: bool = True,
) -> list[SyncRun]:
    """Queue a pull of each family (all enabled ones when `entities` is None). A family that already has
    a run queued, running or waiting gets no second one: that run is returned (and, when a full resync
    was asked for, the family's next run is full)."""
    if connection.status != ConnectionStatusChoices.ACTIVE:
        raise InvalidInput(
            f"{connection} is {connection.get_status_display().lower()}; only active connections sync.",
            code="connection_not_active",
        )
    known = entity_keys(connection)
    if entities is None:
        entities = [key for key in known if entity_settings(connection, key).get("enabled", True)]
    unknown = sorted(set(entities) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown entity {', '.join(unknown)}.",
            fields={"entities": [f"This ledger has: {', '.join(known)}."]},
        )
    runs = []
    with transaction.atomic():
        for entity in sorted(entities, key=known.index):
            state = SyncState.objects.select_for_update().get_or_create(connection=connection, entity=entity)[
                0
            ]
            active = (
                SyncRun.objects.filter(connection=connection, entity=entity, status__in=ACTIVE_RUN_STATUSES)
                .order_by("pk")
                .first()
            )
            if active is not None:
                if full and active.mode != SyncModeChoices.FULL:
                    state.full_requested = True
                    state.save(update_fields=["full_requested"])
                runs.append(active)
                continue
            runs.append(
                _run_create(connection, state, trigger=trigger, full=full, user_id=user_id, enqueue=enqueue)
            )
    return runs


def _run_create(
    connection: Connection,
    state: SyncState,
    *,
    trigger: str,
    full: bool,
    user_id: int | None = None,
    enqueue: bool = True,
) -> SyncRun:
    mode = (
        SyncModeChoices.FULL
        if full or state.full_requested or state.cursor is None
        else SyncModeChoices.INCREMENTAL
    )
    run = SyncRun.objects.create(
        connection=connection, entity=state.entity, mode=mode, trigger=trigger, requested_by_id=user_id
    )
    if mode == SyncModeChoices.FULL and state.full_requested:
        state.full_requested = False
        state.save(update_fields=["full_requested"])
    if enqueue:
        _enqueue(run)
    return run


def sync_first(*, connection: Connection) -> list[SyncRun]:
    """A new (or newly reconnected) connection's first full sync of every enabled family."""
    return sync_request(connection=connection, full=False, trigger=SyncTriggerChoices.SYSTEM)


@dataclass
class DispatchResult:
    scheduled: int = 0
    resumed: int = 0
    restarted: int = 0


def sync_dispatch(*, now: datetime | None = None) -> DispatchResult:
    """Queue what is due. Runs every minute; safe to run from several processes at once."""
    now = now or timezone.now()
    result = DispatchResult()
    # Runs whose worker died: no heartbeat for too long (waiting runs have no worker to lose).
    stale_before = now - stale_after()
    for run in SyncRun.objects.filter(job_stale_q(before=stale_before), status=SyncRunStatusChoices.RUNNING):
        if run_interrupt(run_id=run.pk, reason="The worker stopped answering (no heartbeat); resumed."):
            result.restarted += 1
    # Runs queued but never taken up (a lost task message).
    for run in SyncRun.objects.filter(status=SyncRunStatusChoices.QUEUED, queued_at__lt=stale_before):
        _enqueue(run)
        result.restarted += 1
    # Runs that gave their worker back to wait for a rate limit.
    for run in SyncRun.objects.filter(status=SyncRunStatusChoices.WAITING, resume_at__lte=now):
        with transaction.atomic():
            if SyncRun.objects.filter(pk=run.pk, status=SyncRunStatusChoices.WAITING).update(
                status=SyncRunStatusChoices.QUEUED, queued_at=now
            ):
                _enqueue(run)
                result.resumed += 1
    # Families due on their schedule.
    active = Connection.objects.filter(status=ConnectionStatusChoices.ACTIVE)
    for connection in active:
        for entity in entity_keys(connection):
            options = entity_settings(connection, entity)
            state = sync_state_get(connection=connection, entity=entity)
            if not options.get("enabled", True):
                if state.state != SyncStateChoices.DISABLED:
                    SyncState.objects.filter(pk=state.pk).update(
                        state=SyncStateChoices.DISABLED,
                        state_reason="Turned off in the connection's settings.",
                    )
                continue
            if not _due(state, connection, now):
                continue
            with transaction.atomic():
                state = SyncState.objects.select_for_update().get(pk=state.pk)
                if state.next_run_at is not None and state.next_run_at > now:
                    continue
                busy = SyncRun.objects.filter(
                    connection=connection, entity=entity, status__in=ACTIVE_RUN_STATUSES
                ).exists()
                if busy:
                    continue
                _run_create(connection, state, trigger=SyncTriggerChoices.SCHEDULE, full=False)
                state.next_run_at = now + timedelta(minutes=options.get("frequency_minutes", 60))
                state.save(update_fields=["next_run_at"])
                result.scheduled += 1
    return result


def _due(state: SyncState, connection: Connection, now: datetime) -> bool:
    if state.state == SyncStateChoices.PAUSED:
        # Paused for want of authorisation: due again once the connection was re-authorised.
        return not (state.last_failure_at and connection.status_changed_at <= state.last_failure_at)
    if state.next_run_at is not None:
        return state.next_run_at <= now
    # Never run (a new family), or turned back on after being disabled.
    return state.last_run_id is None or state.state == SyncStateChoices.DISABLED


def run_interrupt(*, run_id: int, reason: str) -> SyncRun | None:
    """Mark a dead worker's run interrupted, free its family and queue a new run in the same mode. The new
    run starts its pass again; pages already applied are unchanged content and cost no writes."""
    with transaction.atomic():
        run = (
            SyncRun.objects.select_for_update().filter(pk=run_id, status=SyncRunStatusChoices.RUNNING).first()
        )
        if run is None:
            return None
        _log(run, "error", reason)
        job_finish(
            run,
            status=SyncRunStatusChoices.INTERRUPTED,
            error=reason,
            values={"error_kind": SyncErrorKindChoices.INTERNAL, "log": run.log},
        )
        SyncState.objects.filter(connection_id=run.connection_id, entity=run.entity, running_run=run).update(
            running_run=None
        )
        replacement = SyncRun.objects.create(
            connection_id=run.connection_id,
            entity=run.entity,
            mode=run.mode,
            trigger=SyncTriggerChoices.SYSTEM,
            checkpoint={"resumes": run.pk},
        )
        _enqueue(replacement)
    logger.warning("Sync run interrupted", extra={"run": run_id, "replacement": replacement.pk})
    return replacement


# --- the runner's side ------------------------------------------------------------------------------------


def _log(run: SyncRun, level: str, message: str) -> None:
    entry = {"at": timezone.now().isoformat(timespec="seconds"), "level": level, "message": message}
    run.log = [*run.log[-(LOG_LIMIT - 1) :], entry]


def run_log(run: SyncRun, level: str, message: str) -> None:
    """Append to the run's log (saved with the run's next save)."""
    _log(run, level, message)


def run_claim(*, run_id: int) -> SyncRun | None:
    """Take the run up: it becomes running and holds its family's claim. None when it cannot run now
    (finished already, or another live run holds the family: then this one is cancelled)."""
    now = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in ACTIVE_RUN_STATUSES:
            return None
        if (
            run.status == SyncRunStatusChoices.RUNNING
            and run.heartbeat_at
            and run.heartbeat_at > now - stale_after()
        ):
            return None  # a duplicate delivery of a run a live worker is on
        state = SyncState.objects.select_for_update().get_or_create(
            connection_id=run.connection_id, entity=run.entity
        )[0]
        holder = state.running_run
        if holder is not None and holder.pk != run.pk:
            live = holder.status in ACTIVE_RUN_STATUSES and not (
                holder.status == SyncRunStatusChoices.RUNNING
                and (holder.heartbeat_at or holder.queued_at) < now - stale_after()
            )
            if live:
                job_finish(
                    run,
                    status=SyncRunStatusChoices.CANCELLED,
                    now=now,
                    error=f"Run #{holder.pk} of this family was already in progress.",
                )
                return None
        # A resumed run keeps its first start, so its duration covers the whole pass.
        job_start(
            run,
            status=SyncRunStatusChoices.RUNNING,
            now=now,
            keep_started=True,
            values={"resume_at": None, "attempts": run.attempts + 1},
        )
        state.running_run = run
        state.state = SyncStateChoices.SYNCING
        state.save(update_fields=["running_run", "state"])
        return run


def run_wait(*, run: SyncRun, seconds: float, reason: str) -> None:
    """Give the worker back: the run resumes from its checkpoint after `seconds` (the dispatcher queues it)."""
    run.status = SyncRunStatusChoices.WAITING
    run.resume_at = timezone.now() + timedelta(seconds=seconds)
    run.rate_limit_waits += 1
    _log(run, "warning", f"Rate limit ({reason}): waiting {seconds:.0f} s before resuming.")
    run.save()


def _backoff(failures: int) -> timedelta:
    minutes = min(60.0, 2.0 ** max(failures - 1, 0))
    return timedelta(minutes=minutes * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not secrecy)


def run_finish(
    *,
    run: SyncRun,
    status: str,
    error_kind: str = "",
    error: str = "",
    cursor: datetime | None = None,
    records: int | None = None,
) -> SyncRun:
    """Close the run and set its family's state and next run."""
    now = timezone.now()
    if error:
        _log(run, "error", error[:1000])
    # The whole row: the runner's counters and log ride on the instance until now.
    job_finish(
        run, status=status, now=now, error=error[:5000], values={"error_kind": error_kind}, save_all=True
    )
    connection = Connection.objects.get(pk=run.connection_id)
    frequency = timedelta(minutes=entity_settings(connection, run.entity).get("frequency_minutes", 60))
    with transaction.atomic():
        state = SyncState.objects.select_for_update().get(connection_id=run.connection_id, entity=run.entity)
        if state.running_run_id in (run.pk, None):
            state.running_run = None
        state.last_run = run
        if records is not None:
            state.records = records
        if status == SyncRunStatusChoices.SUCCEEDED:
            state.state = SyncStateChoices.SYNCED
            state.state_reason = ""
            state.last_success_at = now
            state.consecutive_failures = 0
            if cursor is not None:
                state.cursor = cursor
            if run.mode == SyncModeChoices.FULL:
                state.last_full_at = now
            state.next_run_at = now + frequency
        else:
            state.last_failure_at = now
            state.consecutive_failures += 1
            state.state_reason = error[:2000]
            if error_kind == SyncErrorKindChoices.AUTH:
                state.state = SyncStateChoices.PAUSED
                state.next_run_at = None
            else:
                # Some pages were applied: the mirror is partly newer than the cursor says.
                state.state = SyncStateChoices.PARTIALLY_SYNCED if run.pages else SyncStateChoices.FAILED
                if error_kind in (SyncErrorKindChoices.TRANSIENT, SyncErrorKindChoices.RATE_LIMIT):
                    state.next_run_at = now + _backoff(state.consecutive_failures)
                else:
                    state.next_run_at = now + frequency
        state.save()
    return run
