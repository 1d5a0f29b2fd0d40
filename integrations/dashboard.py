"""The dashboard: how every connection and the machinery behind it stands, for the API and the admin page.

`dashboard_get` is a selector: it reads, never writes, and its number of queries does not depend on the
number of connections, families or runs. Record counts come from `SyncState.records` (what the last run
counted), never from a COUNT(*) over mirror tables that hold millions of rows; run counts are aggregated
in the database; the day's API use is read from the rate budget's buckets with the same helpers that
admit calls; the queue depth and the database latency come from the health checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from core.health import health_check
from integrations.choices import SyncRunStatusChoices, SyncStateChoices
from integrations.entities import entity_label, entity_labels
from integrations.models import Connection, RateBudget, SyncRun, SyncState
from integrations.ratelimit import budget_day_used, day_window, limits_for
from integrations.sync import entity_keys, entity_settings

HOURS = 24
# Runs are found through the index on `queued_at`: a run counted as finished in the last day must have
# been queued within this span (a run that waited longer than this for the ledger is left out).
RUN_LOOKBACK = timedelta(days=2)
ACTIVE_RUN_STATUSES = (
    SyncRunStatusChoices.QUEUED,
    SyncRunStatusChoices.RUNNING,
    SyncRunStatusChoices.WAITING,
)


@dataclass(frozen=True)
class RunCounts:
    """Runs that finished in a window: succeeded, and failed (interrupted and cancelled runs are neither)."""

    succeeded: int = 0
    failed: int = 0


@dataclass(frozen=True)
class FamilyStatus:
    """One entity family of one connection. `records` is what the family's last run counted."""

    entity: str
    entity_label: str
    enabled: bool
    state: str
    state_label: str
    state_reason: str
    records: int
    running: bool
    last_success_at: datetime | None
    last_failure_at: datetime | None
    next_run_at: datetime | None


@dataclass(frozen=True)
class Quota:
    """Ledger API calls of the last day (24 hours), against the connection's day limit.

    `remaining` is the ledger's own figure when it reported one within the day (`remaining_source`
    "ledger"), else the limit minus the calls counted here ("counted"); both are None for a ledger without
    a day limit (""). The rate limiter keeps day buckets only for ledgers with a day limit, so `used` is 0
    for the others."""

    day_limit: int | None
    used: int
    remaining: int | None
    remaining_source: str
    percent_used: int | None
    blocked_until: datetime | None
    blocked_reason: str


@dataclass(frozen=True)
class ConnectionSummary:
    """One connection: its status and health, its families, its quota and its runs. `records` and the
    last success and failure are over its families."""

    id: int
    display_name: str
    provider: str
    provider_label: str
    status: str
    status_label: str
    health: str
    health_label: str
    health_checked_at: datetime | None
    health_latency_ms: int | None
    health_error: str
    records: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    families: list[FamilyStatus]
    quota: Quota
    runs_last_hour: RunCounts
    runs_last_day: RunCounts
    runs_active: int


@dataclass(frozen=True)
class HourRuns:
    """Runs that finished in the hour starting at `hour` (UTC)."""

    hour: datetime
    succeeded: int
    failed: int


@dataclass(frozen=True)
class FamilyRecords:
    """One family's records over all connections."""

    entity: str
    entity_label: str
    records: int


@dataclass(frozen=True)
class QueueStatus:
    """The task queue as its health check saw it; `depth` is the tasks waiting for a worker."""

    ok: bool
    broker: str
    depth: int | None
    clusters: int | None
    workers: int | None
    latency_ms: float
    error: str


@dataclass(frozen=True)
class DatabaseStatus:
    """The time of a `SELECT 1` on the default database."""

    ok: bool
    vendor: str
    latency_ms: float
    error: str


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows; the totals are over all connections."""

    generated_at: datetime
    records: int
    runs_last_hour: RunCounts
    runs_last_day: RunCounts
    runs_active: int
    queue: QueueStatus
    database: DatabaseStatus
    connections: list[ConnectionSummary]
    runs_per_hour: list[HourRuns]
    records_by_family: list[FamilyRecords]


def _families(connection: Connection, states: dict[str, SyncState]) -> list[FamilyStatus]:
    """The ledger's families in its order, then any state of a family it no longer declares."""
    keys = list(entity_keys(connection))
    keys += sorted(set(states) - set(keys))
    families = []
    for key in keys:
        enabled = bool(entity_settings(connection, key).get("enabled", True))
        state = states.get(key)
        if state is None:
            placeholder = SyncStateChoices.NEVER if enabled else SyncStateChoices.DISABLED
            families.append(
                FamilyStatus(
                    entity=key,
                    entity_label=entity_label(key),
                    enabled=enabled,
                    state=placeholder.value,
                    state_label=str(placeholder.label),
                    state_reason="",
                    records=0,
                    running=False,
                    last_success_at=None,
                    last_failure_at=None,
                    next_run_at=None,
                )
            )
            continue
        families.append(
            FamilyStatus(
                entity=key,
                entity_label=entity_label(key),
                enabled=enabled,
                state=state.state,
                state_label=state.get_state_display(),
                state_reason=state.state_reason,
                records=state.records,
                running=state.running_run_id is not None,
                last_success_at=state.last_success_at,
                last_failure_at=state.last_failure_at,
                next_run_at=state.next_run_at,
            )
        )
    return families


def _latest(moments: list[datetime | None]) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


def _quota(connection: Connection, budget: RateBudget | None, current: float) -> Quota:
    day_limit = limits_for(connection).per_day
    day = day_window()
    used = budget_day_used(budget, current)
    # A figure the ledger gave more than a day ago says nothing about today.
    reported = None
    if budget is not None and budget.updated_at.timestamp() >= current - day:
        reported = budget.day_remaining_reported
    if reported is not None:
        remaining: int | None = max(reported, 0)
        source = "ledger"
    elif day_limit is not None:
        remaining = max(day_limit - used, 0)
        source = "counted"
    else:
        remaining, source = None, ""
    percent_used = None
    if day_limit and remaining is not None:
        percent_used = min(100, max(0, round((day_limit - remaining) * 100 / day_limit)))
    blocked = budget is not None and budget.blocked_until > current
    return Quota(
        day_limit=day_limit,
        used=used,
        remaining=remaining,
        remaining_source=source,
        percent_used=percent_used,
        blocked_until=datetime.fromtimestamp(budget.blocked_until, tz=UTC) if budget and blocked else None,
        blocked_reason=budget.blocked_reason if budget and blocked else "",
    )


def _run_counts(now: datetime) -> dict[int, dict[str, int]]:
    """Per connection: runs finished in the last hour and day by outcome, and runs not finished yet."""
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    succeeded = Q(status=SyncRunStatusChoices.SUCCEEDED)
    failed = Q(status=SyncRunStatusChoices.FAILED)
    rows = (
        SyncRun.objects.filter(
            Q(queued_at__gte=now - RUN_LOOKBACK, finished_at__gte=day_ago) | Q(status__in=ACTIVE_RUN_STATUSES)
        )
        .order_by()
        .values("connection_id")
        .annotate(
            hour_succeeded=Count("pk", filter=succeeded & Q(finished_at__gte=hour_ago)),
            hour_failed=Count("pk", filter=failed & Q(finished_at__gte=hour_ago)),
            day_succeeded=Count("pk", filter=succeeded & Q(finished_at__gte=day_ago)),
            day_failed=Count("pk", filter=failed & Q(finished_at__gte=day_ago)),
            active=Count("pk", filter=Q(status__in=ACTIVE_RUN_STATUSES)),
        )
    )
    return {row.pop("connection_id"): row for row in rows}


def _runs_per_hour(now: datetime) -> list[HourRuns]:
    """The last 24 hours (the current one included), oldest first, by the hour a run finished in."""
    current_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = current_hour - timedelta(hours=HOURS - 1)
    rows = (
        SyncRun.objects.filter(
            queued_at__gte=now - RUN_LOOKBACK,
            finished_at__gte=first,
            status__in=[SyncRunStatusChoices.SUCCEEDED, SyncRunStatusChoices.FAILED],
        )
        .annotate(hour=TruncHour("finished_at", tzinfo=UTC))
        .order_by()
        .values("hour", "status")
        .annotate(runs=Count("pk"))
    )
    counts: dict[tuple[datetime, str], int] = {
        (row["hour"].astimezone(UTC), row["status"]): row["runs"] for row in rows
    }
    hours = [first + timedelta(hours=offset) for offset in range(HOURS)]
    return [
        HourRuns(
            hour=hour,
            succeeded=counts.get((hour, SyncRunStatusChoices.SUCCEEDED), 0),
            failed=counts.get((hour, SyncRunStatusChoices.FAILED), 0),
        )
        for hour in hours
    ]


def _services() -> tuple[QueueStatus, DatabaseStatus]:
    _, checks = health_check()
    queue, database = checks["task_queue"], checks["database"]
    return (
        QueueStatus(
            ok=queue["status"] == "ok",
            broker=queue.get("broker", ""),
            depth=queue.get("queued"),
            clusters=queue.get("clusters"),
            workers=queue.get("workers"),
            latency_ms=queue["latency_ms"],
            error=queue.get("error", ""),
        ),
        DatabaseStatus(
            ok=database["status"] == "ok",
            vendor=database.get("vendor", ""),
            latency_ms=database["latency_ms"],
            error=database.get("error", ""),
        ),
    )


def dashboard_get(*, now: datetime | None = None) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries."""
    now = now or timezone.now()
    current = now.timestamp()
    connections = list(
        Connection.objects.select_related("rate_budget").defer(
            "app_client_secret", "rate_budget__leases", "rate_budget__minute_buckets"
        )
    )
    states_by_connection: dict[int, dict[str, SyncState]] = {}
    for state in SyncState.objects.order_by():
        states_by_connection.setdefault(state.connection_id, {})[state.entity] = state
    run_counts = _run_counts(now)

    summaries = []
    for connection in connections:
        families = _families(connection, states_by_connection.get(connection.pk, {}))
        runs = run_counts.get(connection.pk, {})
        try:
            budget: RateBudget | None = connection.rate_budget
        except RateBudget.DoesNotExist:
            budget = None
        summaries.append(
            ConnectionSummary(
                id=connection.pk,
                display_name=connection.display_name,
                provider=connection.provider,
                provider_label=connection.get_provider_display(),
                status=connection.status,
                status_label=connection.get_status_display(),
                health=connection.health,
                health_label=connection.get_health_display(),
                health_checked_at=connection.health_checked_at,
                health_latency_ms=connection.health_latency_ms,
                health_error=connection.health_error,
                records=sum(family.records for family in families),
                last_success_at=_latest([family.last_success_at for family in families]),
                last_failure_at=_latest([family.last_failure_at for family in families]),
                families=families,
                quota=_quota(connection, budget, current),
                runs_last_hour=RunCounts(runs.get("hour_succeeded", 0), runs.get("hour_failed", 0)),
                runs_last_day=RunCounts(runs.get("day_succeeded", 0), runs.get("day_failed", 0)),
                runs_active=runs.get("active", 0),
            )
        )

    by_family: dict[str, int] = dict.fromkeys(entity_labels(), 0)
    for summary in summaries:
        for family in summary.families:
            by_family[family.entity] = by_family.get(family.entity, 0) + family.records
    queue, database = _services()
    return Dashboard(
        generated_at=now,
        records=sum(summary.records for summary in summaries),
        runs_last_hour=RunCounts(
            sum(s.runs_last_hour.succeeded for s in summaries),
            sum(s.runs_last_hour.failed for s in summaries),
        ),
        runs_last_day=RunCounts(
            sum(s.runs_last_day.succeeded for s in summaries), sum(s.runs_last_day.failed for s in summaries)
        ),
        runs_active=sum(summary.runs_active for summary in summaries),
        queue=queue,
        database=database,
        connections=summaries,
        runs_per_hour=_runs_per_hour(now),
        records_by_family=[
            FamilyRecords(entity=key, entity_label=entity_label(key), records=records)
            for key, records in by_family.items()
        ],
    )
