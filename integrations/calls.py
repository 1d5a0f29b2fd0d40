"""The one boundary every call to a ledger crosses: pulls, connection tests, revocations and, next,
pushes, webhook-driven reads and passthrough.

`ledger_call` runs one provider operation for one connection: it takes a slot of the connection's shared
rate budget (`integrations.ratelimit`), a usable access token from the token service, and sends. Each
failure is handled by what it means:

- the budget refuses, or the ledger answers 429: wait (the `Retry-After` it gave, blocking every other
  worker too) when the wait is short, else raise `WaitRequired` so the caller reschedules;
- 401/403: refresh the token once and send again; refused again, the connection needs re-authorisation;
- not sent (connection refused, connect timeout): try again with backoff and jitter;
- sent and unanswered (read timeout, dropped connection) or a 5xx: a read, or a write carrying an
  idempotency key, is sent again (the key unchanged, so the ledger answers a replay with its first
  answer); a write without a key is never sent twice: `OutcomeUnknown` goes to the caller, who settles
  it by looking the document up by its reference.

Every attempt is admitted by the budget separately, a replay included: the ledger counts it."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from integrations.choices import ConnectionStatusChoices
from integrations.errors import (
    NeedsReauthorisation,
    OutcomeUnknown,
    ProviderAuthError,
    ProviderUnavailable,
    RateLimited,
    RequestNotSent,
    WaitRequired,
)
from integrations.models import Connection, Credential
from integrations.providers.base import AppCredentials, TokenSet
from integrations.providers.remote import LimitUsage, PulledPage
from integrations.ratelimit import Refusal, budget_admit, budget_block, budget_slot, limits_for
from integrations.tokens import UNUSABLE_STATUSES, credential_app, credential_token_get, token_get

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a 429 without Retry-After makes every worker wait.
DEFAULT_RETRY_AFTER_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@dataclass(frozen=True)
class Attempt:
    """What one send of an operation gets: the app and a token to call with, and the call's idempotency
    key ("" for none), the same on every attempt; the provider puts it where its ledger reads it (Xero's
    `Idempotency-Key` header, QuickBooks' `requestid` parameter)."""

    app: AppCredentials
    tokens: TokenSet
    idempotency_key: str = ""
    # 1 for the first send of the call, 2 for its first replay, ...
    number: int = 1


class CallTally:
    """What a caller learns while its call goes on: counters, warnings worth keeping, and how to pass a
    wait. A pull keeps these on its sync run and its heartbeat alive while it sleeps (its subclass)."""

    def __init__(self) -> None:
        self.api_calls = 0
        self.rate_limit_waits = 0
        self.rate_limit_wait_seconds = 0.0
        self.retries = 0

    def calls_counted(self, calls: int) -> None:
        self.api_calls += calls

    def waited(self, seconds: float, *, limit: str) -> None:
        """A wait for the rate limit (`limit`: minute, day, concurrent, or the ledger's 429)."""
        if limit != "concurrent":
            self.rate_limit_waits += 1
        self.rate_limit_wait_seconds += seconds

    def retried(self) -> None:
        self.retries += 1

    def note(self, level: str, message: str) -> None:
        logger.log(logging.WARNING if level == "warning" else logging.INFO, message)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _metered(result: object) -> tuple[int, LimitUsage | None]:
    """Calls an operation made, and the limits its answer reported."""
    if isinstance(result, PulledPage):
        return result.api_calls, result.usage
    return 1, None


def _connection_usable(connection: Connection, *, active_only: bool) -> int:
    """The connection's credential id, when it may be called."""
    if active_only:
        # Staff may disconnect or delete the connection while long work runs: stop at the next call.
        connection.refresh_from_db(fields=["status", "status_reason", "credential"])
        if connection.status != ConnectionStatusChoices.ACTIVE:
            raise NeedsReauthorisation(
                f"The connection is {connection.get_status_display().lower()}; the work stopped. "
                + connection.status_reason
            )
    if connection.credential_id is None or connection.status in UNUSABLE_STATUSES:
        raise NeedsReauthorisation(
            connection.status_reason or f"{connection} has no authorisation. Connect it again.",
        )
    return connection.credential_id


def _access_withdrawn(connection: Connection, exc: ProviderAuthError) -> NeedsReauthorisation:
    reason = f"{exc.message} Access to this organisation was withdrawn at the ledger."
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatusChoices.NEEDS_REAUTH, status_reason=reason, status_changed_at=timezone.now()
    )
    return NeedsReauthorisation(reason)


class _Backoff:
    """Retries of one call that failed without an answer it can use: bounded, growing, jittered."""

    def __init__(self, tally: CallTally, limit: int | None) -> None:
        self.tally = tally
        self.failures = 0
        self.limit = int(_setting("SYNC_MAX_RETRIES", 5)) if limit is None else limit

    def pause(self, exc: Exception, message: str) -> None:
        """Sleep before the next attempt, or re-raise `exc` when the retries are spent."""
        self.failures += 1
        self.tally.retried()
        if self.failures > self.limit:
            raise exc
        delay = min(MAX_BACKOFF_SECONDS, _setting("SYNC_RETRY_BASE_SECONDS", 1.0) * 2 ** (self.failures - 1))
        delay *= random.uniform(0.5, 1.5)  # noqa: S311 (jitter, not secrecy)
        self.tally.note("warning", f"{message} Retrying in {delay:.1f} s (attempt {self.failures}).")
        self.tally.sleep(delay)


def ledger_call(
    *,
    connection: Connection,
    operation: Callable[[Attempt], T],
    writes: bool = False,
    idempotency_key: str = "",
    tally: CallTally | None = None,
    active_only: bool = False,
    token_margin: float | None = None,
    retries: int | None = None,
) -> T:
    """Run `operation` against the connection's ledger and return what it returned.

    `writes`: the operation changes the ledger; without an `idempotency_key` it is sent at most once.
    `active_only`: refuse unless the connection is active (long work that staff may stop).
    `token_margin`: seconds the access token must stay valid (the provider's margin by default).
    `retries`: attempts after failures without a usable answer (`SYNC_MAX_RETRIES` by default; 0 for a
    person waiting on a check, who is told the failure as it is).
    Raises the `integrations.errors` types: `WaitRequired` (nothing sent; reschedule), `OutcomeUnknown`
    (a write without key that may have happened), `NeedsReauthorisation`, and the ledger's own answers."""
    tally = tally or CallTally()
    replayable = not writes or bool(idempotency_key)
    inline_wait = _setting("SYNC_MAX_INLINE_WAIT_SECONDS", 15)
    credential_id = _connection_usable(connection, active_only=active_only)
    limits = limits_for(connection)
    credential = Credential.objects.get(pk=credential_id)
    app = credential_app(credential)
    backoff = _Backoff(tally, retries)
    stale_version: int | None = None
    auth_replayed = False
    number = 0
    while True:
        admitted = budget_admit(connection=connection, limits=limits)
        if isinstance(admitted, Refusal):
            if admitted.seconds > inline_wait:
                raise WaitRequired(
                    f"The {admitted.problem} call limit is reached.",
                    seconds=admitted.seconds,
                    details={"limit": admitted.problem},
                )
            tally.waited(admitted.seconds, limit=admitted.problem)
            tally.sleep(admitted.seconds)
            continue
        sent = False
        version = 0
        try:
            with budget_slot(admitted) as usage:
                if stale_version is None:
                    tokens, version = credential_token_get(
                        credential=credential, min_valid_seconds=token_margin
                    )
                else:
                    tokens, version = token_get(credential_id=credential.pk, stale_version=stale_version)
                number += 1
                sent = True
                result = operation(Attempt(app, tokens, idempotency_key, number))
                calls, reported = _metered(result)
                if reported is not None:
                    usage.append(reported)
        except ProviderAuthError as exc:
            if not sent:
                raise
            tally.calls_counted(1)
            if auth_replayed:
                raise _access_withdrawn(connection, exc) from None
            auth_replayed, stale_version = True, version
            continue
        except RateLimited as exc:
            tally.calls_counted(1)
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER_SECONDS
            budget_block(connection_id=connection.pk, seconds=wait, reason=exc.message)
            tally.note("warning", f"{exc.message} Retry after {wait:.0f} s.")
            if wait > inline_wait:
                raise WaitRequired(exc.message, seconds=wait, details={"limit": "ledger"}) from None
            tally.waited(wait, limit="ledger")
            tally.sleep(wait)
            continue
        except (ProviderUnavailable, OutcomeUnknown) as exc:
            # Before the operation was sent (a token endpoint that failed) nothing can have happened.
            delivered = sent and not isinstance(exc, RequestNotSent)
            tally.calls_counted(1)
            if delivered and not replayable:
                if isinstance(exc, OutcomeUnknown):
                    raise
                raise OutcomeUnknown(
                    f"{exc.message} The ledger may have acted on it before failing.",
                    ledger_request_id=exc.ledger_request_id,
                ) from exc
            backoff.pause(exc, exc.message)
            continue
        tally.calls_counted(calls)
        return result
