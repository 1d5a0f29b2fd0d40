"""The per-connection rate-limit budget, shared by every worker process.

Before each ledger call a worker asks `budget_admit`: in one short transaction that locks the
connection's `RateBudget` row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE transaction's
write lock) it checks the calls in flight, the calls of the last minute and of the last day, and any block
the ledger imposed (a 429's Retry-After, a "0 calls left today" header). Admitted, it takes a lease and
counts the call; refused, it learns how long to wait, and the caller sleeps (short waits) or gives its
worker back and resumes later (long ones).

Calls are counted in buckets of 1/60 of the window. Admission sums the buckets that overlap the last
window plus one bucket, which over-counts a little and so can never let any window of the ledger's
(fixed or sliding, however aligned) see more than its limit. `RATE_LIMIT_TIME_SCALE` shortens the windows
for tests against a sandbox whose clock runs faster."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from integrations.models import Connection, RateBudget
from integrations.providers import get_provider
from integrations.providers.base import RateLimits
from integrations.providers.remote import LimitUsage

logger = logging.getLogger(__name__)

MINUTE = 60.0
DAY = 86_400.0
BUCKETS_PER_WINDOW = 60
# A lease outlives any call (connect + read timeouts and a margin), so it lapses only for a dead worker.
LEASE_SECONDS = 180.0
# A call reaches the ledger some time after its admission here (token lookup,
# client set-up, network), and that delay varies. The one-bucket over-count covers the variation only
# while a bucket is longer than it; with RATE_LIMIT_TIME_SCALE a bucket is milliseconds and the ledger
# answered 429s. Windows are therefore counted over at least this many real seconds more.
TRANSIT_MARGIN_SECONDS = 0.25


@dataclass(frozen=True)
class Refusal:
    """No call now: wait `seconds`; `problem` says which limit (minute, day, concurrent, ledger)."""

    seconds: float
    problem: str


class Lease:
    """An admitted call's slot; `release` frees it (the `budget_call` context manager does)."""

    def __init__(self, connection_id: int, lease_id: str) -> None:
        self.connection_id = connection_id
        self.lease_id = lease_id

    def release(self, usage: LimitUsage | None = None) -> None:
        with transaction.atomic():
            budget = RateBudget.objects.select_for_update().get(connection_id=self.connection_id)
            budget.leases.pop(self.lease_id, None)
            fields = ["leases", "updated_at"]
            if usage is not None and (usage.minute_remaining is not None or usage.day_remaining is not None):
                budget.minute_remaining_reported = usage.minute_remaining
                budget.day_remaining_reported = usage.day_remaining
                fields += ["minute_remaining_reported", "day_remaining_reported"]
                if usage.day_remaining is not None and usage.day_remaining <= 0:
                    # The ledger says today's calls are spent: nothing more until a day window frees.
                    _block(budget, time.time() + _scale() * DAY / BUCKETS_PER_WINDOW, "day (reported)")
                    fields += ["blocked_until", "blocked_reason"]
            budget.save(update_fields=fields)


def _scale() -> float:
    return 1.0 / max(float(getattr(settings, "RATE_LIMIT_TIME_SCALE", 1.0)), 0.001)


def limits_for(connection: Connection) -> RateLimits:
    """The ledger's limits, lowered where the connection's settings say its plan allows fewer calls."""
    default = get_provider(connection.provider).rate_limits
    own = (connection.settings or {}).get("rate_limits") or {}
    per_day = own.get("per_day", default.per_day)
    if default.per_day is not None and per_day is not None:
        per_day = min(per_day, default.per_day)
    return RateLimits(
        concurrent=min(own.get("concurrent", default.concurrent), default.concurrent),
        per_minute=min(own.get("per_minute", default.per_minute), default.per_minute),
        per_day=per_day,
    )


def _block(budget: RateBudget, until: float, reason: str) -> None:
    if until > budget.blocked_until:
        budget.blocked_until = until
        budget.blocked_reason = reason[:200]


def _window_use(buckets: dict[str, int], length: float, current: float) -> tuple[int, float]:
    """Calls counted in the buckets overlapping the last `length` seconds, and the seconds until the
    oldest of those buckets leaves that span (when the count next drops)."""
    width = length / BUCKETS_PER_WINDOW
    now_index = math.floor(current / width)
    oldest = _oldest(length, current)
    used = 0
    first_counted: int | None = None
    for key, count in buckets.items():
        index = int(key)
        if index >= oldest:
            used += count
            if first_counted is None or index < first_counted:
                first_counted = index
    span = now_index - oldest
    frees_in = ((first_counted or now_index) + span + 1) * width - current
    return used, max(frees_in, 0.05)


def _oldest(length: float, current: float) -> int:
    """The oldest bucket still counted: the window's buckets plus one, plus enough more to span the
    transit margin when buckets are shorter than it (never in production, where a bucket is a second)."""
    width = length / BUCKETS_PER_WINDOW
    extra = math.ceil(max(0.0, TRANSIT_MARGIN_SECONDS - width) / width - 1e-9)
    return math.floor(current / width) - BUCKETS_PER_WINDOW - extra


def _count(buckets: dict[str, int], length: float, current: float) -> dict[str, int]:
    width = length / BUCKETS_PER_WINDOW
    now_index = math.floor(current / width)
    oldest = _oldest(length, current)
    kept = {key: count for key, count in buckets.items() if int(key) >= oldest}
    kept[str(now_index)] = kept.get(str(now_index), 0) + 1
    return kept


def day_window() -> float:
    """The day window's length in seconds (shortened with the test clock)."""
    return DAY * _scale()


def budget_day_used(budget: RateBudget | None, current: float) -> int:
    """Calls counted against the connection's day window at `current`, as admission counts them (so the
    dashboard's quota is the figure admission refuses on)."""
    if budget is None:
        return 0
    return _window_use(budget.day_buckets, day_window(), current)[0]


def budget_admit(*, connection: Connection, limits: RateLimits | None = None) -> Lease | Refusal:
    """Take a slot for one call now, or say how long to wait for one."""
    limits = limits or limits_for(connection)
    scale = _scale()
    with transaction.atomic():
        budget, _ = RateBudget.objects.select_for_update().get_or_create(connection_id=connection.pk)
        current = time.time()
        if budget.blocked_until > current:
            return Refusal(budget.blocked_until - current, budget.blocked_reason or "ledger")
        leases = {key: expires for key, expires in budget.leases.items() if expires > current}
        if len(leases) >= limits.concurrent:
            return Refusal(0.2, "concurrent")
        minute_used, minute_frees = _window_use(budget.minute_buckets, MINUTE * scale, current)
        if minute_used >= limits.per_minute:
            return Refusal(minute_frees, "minute")
        if limits.per_day is not None:
            day_used, day_frees = _window_use(budget.day_buckets, DAY * scale, current)
            if day_used >= limits.per_day:
                return Refusal(day_frees, "day")
        lease_id = uuid.uuid4().hex
        leases[lease_id] = current + LEASE_SECONDS
        budget.leases = leases
        budget.minute_buckets = _count(budget.minute_buckets, MINUTE * scale, current)
        if limits.per_day is not None:
            budget.day_buckets = _count(budget.day_buckets, DAY * scale, current)
        budget.calls_total += 1
        budget.save(update_fields=["leases", "minute_buckets", "day_buckets", "calls_total", "updated_at"])
        return Lease(connection.pk, lease_id)


def budget_block(*, connection_id: int, seconds: float, reason: str) -> None:
    """The ledger refused a call (429): no worker calls it again for `seconds`."""
    with transaction.atomic():
        budget, _ = RateBudget.objects.select_for_update().get_or_create(connection_id=connection_id)
        _block(budget, time.time() + seconds, reason)
        budget.save(update_fields=["blocked_until", "blocked_reason", "updated_at"])
    logger.warning(
        "Ledger rate limit: calls paused",
        extra={"connection": connection_id, "seconds": round(seconds, 1), "reason": reason},
    )


@contextmanager
def budget_slot(lease: Lease) -> Iterator[list[LimitUsage]]:
    """Holds an admitted call's lease until the call ends; put the response's `LimitUsage` in the list."""
    reported: list[LimitUsage] = []
    try:
        yield reported
    finally:
        lease.release(reported[-1] if reported else None)
