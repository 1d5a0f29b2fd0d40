"""Typed errors of the one HTTP boundary to the ledgers.

Every provider translates its SDK's exceptions into these, so the token service, the sync engine and the
API handle a failure by what it means (retry, stop, ask for re-authorisation), never by which SDK raised it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import InvalidInput, LedgerlinkError, ServiceUnavailable


class ProviderError(LedgerlinkError):
    """The ledger answered with something Ledgerlink cannot use. `transient` says whether trying again may help."""

    status_code = 502
    default_code = "provider_error"
    default_message = "The ledger returned an error."
    transient = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        ledger_request_id: str = "",
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.ledger_request_id = ledger_request_id


class ProviderUnavailable(ProviderError, ServiceUnavailable):
    """5xx, timeouts, dropped connections: the ledger may answer if asked again later."""

    status_code = 503
    default_code = "provider_unavailable"
    default_message = "The ledger could not be reached or did not answer. Try again later."
    transient = True


class RequestNotSent(ProviderUnavailable):
    """The request never reached the ledger (connection refused, name not resolved, connect timeout): it
    cannot have had any effect, so any caller may send it again."""

    default_code = "request_not_sent"
    default_message = "The ledger could not be reached; nothing was sent."


class OutcomeUnknown(ProviderError):
    """The request was sent and no answer came (read timeout, connection dropped): the ledger may or may
    not have acted on it. A write without an idempotency key must not be sent again blindly; it is
    settled by looking the document up by our reference. Not a `ProviderUnavailable`, so that no
    handler written for "try again later" retries it by accident."""

    status_code = 504
    default_code = "outcome_unknown"
    default_message = "The ledger did not answer; whether it acted on the request is not known."
    transient = True


class RateLimited(ProviderUnavailable):
    """429: the ledger's minute, day or concurrency limit. `retry_after` is in seconds when the ledger said."""

    status_code = 429
    default_code = "rate_limited"
    default_message = "The ledger's rate limit was reached."

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.details.setdefault("retry_after", retry_after)


class ProviderAuthError(ProviderError):
    """401/403 from an API call: the access token was refused, or consent for this tenant was withdrawn."""

    status_code = 502
    default_code = "provider_auth"
    default_message = "The ledger refused Ledgerlink's credentials."


class InvalidGrant(ProviderError):
    """The token endpoint refused the refresh token or code: only a new consent can fix it."""

    default_code = "invalid_grant"
    default_message = "The ledger refused the stored authorisation (invalid_grant)."


class ProviderValidationError(ProviderError, InvalidInput):
    """The ledger rejected the request's content (400): permanent until the input changes."""

    status_code = 400
    default_code = "provider_validation"
    default_message = "The ledger rejected the request."


class WaitRequired(LedgerlinkError):
    """The ledger's limits (or its 429) ask for a wait longer than a caller should hold a worker for:
    the caller reschedules its work `seconds` from now instead of sleeping. Nothing was sent."""

    status_code = 503
    default_code = "wait_required"
    default_message = "The ledger's rate limit asks Ledgerlink to wait before the next call."

    def __init__(self, message: str | None = None, *, seconds: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.seconds = seconds
        self.details.setdefault("retry_after", round(seconds, 1))


class NeedsReauthorisation(LedgerlinkError):
    """Raised to callers when a connection cannot be used until staff connect it again."""

    status_code = 409
    default_code = "needs_reauth"
    default_message = "This connection needs to be authorised again."
