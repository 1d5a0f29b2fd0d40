"""Rate limits of the emulated ledgers, the same for every provider.

Per app and tenant: calls in flight (Xero 5, QBO 10), calls per minute (Xero 60, QBO 500) and per day
(Xero 5,000); per app across tenants: calls per minute (Xero 10,000). The numbers are read from the
`Tenant` and `SandboxApp` rows on every call, so they can be changed while the sandbox runs. A provider's
gateway turns the outcome into its own wire format (Xero's limit headers, QBO's XML throttle fault).

Correct across threads and processes: the counters live in the sandbox database and each admission is
one short transaction that reads them locked (SQLite: the IMMEDIATE transaction holds the write lock;
PostgreSQL: SELECT ... FOR UPDATE on the app's two counter rows), decides, and writes them back. A
rejected call changes nothing. Cost per call: a locked SELECT, a COUNT of the calls in flight, a lease
INSERT and two row UPDATEs in one transaction, then one DELETE when the call ends."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.backends.utils import CursorWrapper

from sandbox import clock
from sandbox.models import RateLimitBucket, RateLimitLease, SandboxApp, Tenant
from sandbox.routers import SANDBOX_ALIAS

MINUTE = "minute"
DAY = "day"
APP_MINUTE = "appminute"
CONCURRENT = "concurrent"

# A lease outlives any call the sandbox itself can hold (latency and timeout faults add to it), so it
# only expires when the process serving the call has died.
LEASE_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class Usage:
    """What is left of each limit, as the limit headers report it; None where a limit does not apply
    (identity calls such as GET /connections name no tenant)."""

    minute_remaining: int | None
    day_remaining: int | None
    app_minute_remaining: int


class RateLimited(Exception):
    """A call over a limit. `retry_after` is in real seconds (at least 1) until the breached window
    frees; when several limits are breached the one that frees last is reported, since retrying any
    sooner would fail again."""

    def __init__(self, problem: str, retry_after: int, usage: Usage) -> None:
        self.problem = problem
        self.retry_after = retry_after
        self.usage = usage
        super().__init__(f"rate limit exceeded: {problem}, retry after {retry_after}s")


@dataclass(frozen=True)
class Admission:
    """An admitted call. `sequence` numbers the app's calls to the tenant (seeded fault draws use it);
    `release()` must be called when the call ends, to free its concurrency slot."""

    usage: Usage
    sequence: int
    lease_id: int | None

    def release(self) -> None:
        if self.lease_id is not None:
            # One statement, atomic on its own: no transaction needed.
            with clock.db_turn(), connections[SANDBOX_ALIAS].cursor() as cursor:
                cursor.execute(_DELETE_LEASE, [self.lease_id])


# The admission runs on every API call, so it is written as the few plain statements it needs: the ORM's
# query building costs several times more than SQLite takes to run them. Only table names (from the
# models' metadata) are formatted into the SQL (hence the S608 waivers); every value is a parameter.
_BUCKETS = RateLimitBucket._meta.db_table
_LEASES = RateLimitLease._meta.db_table
_BUCKET_COLUMNS = "id, tenant_id, minute_started, minute_count, day_started, day_count, total"
_SELECT_APP_BUCKET = (
    f"SELECT {_BUCKET_COLUMNS} FROM {_BUCKETS} WHERE app_id = %s AND tenant_id IS NULL ORDER BY id"  # noqa: S608
)
_SELECT_BUCKETS = f"SELECT {_BUCKET_COLUMNS} FROM {_BUCKETS} WHERE app_id = %s AND (tenant_id IS NULL OR tenant_id = %s) ORDER BY id"  # noqa: S608
_UPDATE_BUCKET = f"UPDATE {_BUCKETS} SET minute_started = %s, minute_count = %s, day_started = %s, day_count = %s, total = %s WHERE id = %s"  # noqa: S608
_COUNT_LEASES = f"SELECT COUNT(*) FROM {_LEASES} WHERE bucket_id = %s AND expires_at > %s"  # noqa: S608
_SWEEP_LEASES = f"DELETE FROM {_LEASES} WHERE bucket_id = %s AND expires_at <= %s"  # noqa: S608
_INSERT_LEASE = f"INSERT INTO {_LEASES} (bucket_id, expires_at) VALUES (%s, %s)"  # noqa: S608
_DELETE_LEASE = f"DELETE FROM {_LEASES} WHERE id = %s"  # noqa: S608


@dataclass
class _Bucket:
    id: int
    tenant_id: int | None
    minute_started: float
    minute_count: int
    day_started: float
    day_count: int
    total: int


def _window(started: float, count: int, length: float, current: float) -> tuple[float, int]:
    """The window a call at `current` falls in: the running one, or a fresh one opened by this call."""
    if current - started >= length or started > current:
        return current, 0
    return started, count


def _buckets_locked(
    cursor: CursorWrapper, app: SandboxApp, tenant: Tenant | None
) -> tuple[_Bucket, _Bucket | None]:
    # Rows are always locked in id order, so two admissions never wait on each other crosswise.
    lock = " FOR UPDATE" if cursor.db.features.has_select_for_update else ""
    if tenant is None:
        sql, params = _SELECT_APP_BUCKET + lock, [app.pk]
    else:
        sql, params = _SELECT_BUCKETS + lock, [app.pk, tenant.pk]
    cursor.execute(sql, params)
    rows = [_Bucket(*row) for row in cursor.fetchall()]
    if len(rows) < (1 if tenant is None else 2):
        # First call of this app (to this tenant): create the rows, tolerating a concurrent creator.
        wanted = [RateLimitBucket(app_id=app.pk, tenant_id=None)]
        if tenant is not None:
            wanted.append(RateLimitBucket(app_id=app.pk, tenant_id=tenant.pk))
        RateLimitBucket.objects.bulk_create(wanted, ignore_conflicts=True)
        cursor.execute(sql, params)
        rows = [_Bucket(*row) for row in cursor.fetchall()]
    app_bucket = next(row for row in rows if row.tenant_id is None)
    tenant_bucket = next((row for row in rows if row.tenant_id is not None), None)
    return app_bucket, tenant_bucket


def _lease_take(cursor: CursorWrapper, bucket_id: int, expires_at: float) -> int:
    if cursor.db.features.can_return_columns_from_insert:
        cursor.execute(f"{_INSERT_LEASE} RETURNING id", [bucket_id, expires_at])
        return int(cursor.fetchone()[0])
    cursor.execute(_INSERT_LEASE, [bucket_id, expires_at])
    return int(cursor.lastrowid)


def call_admit(*, app: SandboxApp, tenant: Tenant | None) -> Admission:
    """Count one API call of `app` to `tenant` (None: a call that names no tenant, which only the
    app-wide limit applies to), or raise `RateLimited` without counting it."""
    current = clock.now()
    app_minute = clock.real_seconds(clock.MINUTE, app.time_scale)
    breaches: list[tuple[str, float]] = []
    with clock.sandbox_atomic(), connections[SANDBOX_ALIAS].cursor() as cursor:
        app_bucket, bucket = _buckets_locked(cursor, app, tenant)
        app_started, app_count = _window(
            app_bucket.minute_started, app_bucket.minute_count, app_minute, current
        )
        if app_count >= app.limit_app_minute:
            breaches.append((APP_MINUTE, app_started + app_minute))
        minute_started = day_started = 0.0
        minute_count = day_count = 0
        if tenant is not None and bucket is not None:
            minute = clock.real_seconds(clock.MINUTE, tenant.time_scale)
            day = clock.real_seconds(clock.DAY, tenant.time_scale)
            minute_started, minute_count = _window(
                bucket.minute_started, bucket.minute_count, minute, current
            )
            day_started, day_count = _window(bucket.day_started, bucket.day_count, day, current)
            if minute_count >= tenant.limit_minute:
                breaches.append((MINUTE, minute_started + minute))
            if day_count >= tenant.limit_day:
                breaches.append((DAY, day_started + day))
            # Only worth a query when nothing else refuses the call: a concurrency slot frees soonest.
            if not breaches:
                cursor.execute(_COUNT_LEASES, [bucket.id, current])
                if cursor.fetchone()[0] >= tenant.limit_concurrent:
                    cursor.execute(_SWEEP_LEASES, [bucket.id, current])
                    breaches.append((CONCURRENT, current + 1))

        if breaches:
            usage = _usage(app, tenant, app_count, minute_count, day_count)
        else:
            app_bucket.total += 1
            # The app-wide row keeps no day window.
            rows = [(app_started, app_count + 1, 0.0, 0, app_bucket.total, app_bucket.id)]
            lease_id = None
            sequence = app_bucket.total
            if tenant is not None and bucket is not None:
                bucket.total += 1
                sequence = bucket.total
                rows.append(
                    (minute_started, minute_count + 1, day_started, day_count + 1, bucket.total, bucket.id)
                )
                hold = tenant.fault_latency_ms / 1000 + tenant.fault_timeout_seconds
                lease_id = _lease_take(cursor, bucket.id, current + hold + LEASE_MARGIN_SECONDS)
            cursor.executemany(_UPDATE_BUCKET, rows)
            usage = _usage(app, tenant, app_count + 1, minute_count + 1, day_count + 1)
            return Admission(usage=usage, sequence=sequence, lease_id=lease_id)

    problem, frees_at = max(breaches, key=lambda breach: breach[1])
    raise RateLimited(problem, clock.whole_seconds_until(frees_at, current=current), usage)


def _usage(
    app: SandboxApp, tenant: Tenant | None, app_count: int, minute_count: int, day_count: int
) -> Usage:
    return Usage(
        minute_remaining=None if tenant is None else max(0, tenant.limit_minute - minute_count),
        day_remaining=None if tenant is None else max(0, tenant.limit_day - day_count),
        app_minute_remaining=max(0, app.limit_app_minute - app_count),
    )


def limits_reset(*, tenant: Tenant | None = None, app: SandboxApp | None = None) -> int:
    """Forget the counters (and calls in flight) of a tenant, of an app, or of both together."""
    buckets = RateLimitBucket.objects.all()
    if tenant is not None:
        buckets = buckets.filter(tenant=tenant)
    if app is not None:
        buckets = buckets.filter(app=app)
    with clock.sandbox_atomic():
        deleted, _ = buckets.delete()
    return deleted


def tenant_usage(*, tenant: Tenant) -> list[dict[str, object]]:
    """Each app's current standing against the tenant's limits, for the control API and the admin."""
    current = clock.now()
    minute = clock.real_seconds(clock.MINUTE, tenant.time_scale)
    day = clock.real_seconds(clock.DAY, tenant.time_scale)
    rows = []
    for bucket in RateLimitBucket.objects.filter(tenant=tenant).select_related("app").order_by("app_id"):
        _, minute_count = _window(bucket.minute_started, bucket.minute_count, minute, current)
        _, day_count = _window(bucket.day_started, bucket.day_count, day, current)
        rows.append(
            {
                "app": bucket.app.client_id,
                "app_name": bucket.app.name,
                "minute_count": minute_count,
                "minute_remaining": max(0, tenant.limit_minute - minute_count),
                "day_count": day_count,
                "day_remaining": max(0, tenant.limit_day - day_count),
                "in_flight": bucket.leases.filter(expires_at__gt=current).count(),
                "total": bucket.total,
            }
        )
    return rows
