"""Typed application errors.

Services raise these; the API's exception handler turns each into a JSON error with its HTTP status, and
admin actions show their message. A service never returns an HTTP response or knows about DRF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class LedgerlinkError(Exception):
    """Base of every error that is expected and explained to the user."""

    status_code: ClassVar[int] = 500
    default_code: ClassVar[str] = "error"
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.fields = {name: list(messages) for name, messages in (fields or {}).items()}
        self.details = dict(details or {})
        super().__init__(self.message)


class InvalidInput(LedgerlinkError):
    """The caller sent something we cannot accept; `fields` says which fields and why."""

    status_code = 400
    default_code = "invalid"
    default_message = "Invalid input."


class NotFound(LedgerlinkError):
    status_code = 404
    default_code = "not_found"
    default_message = "Not found."


class PermissionDenied(LedgerlinkError):
    status_code = 403
    default_code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Conflict(LedgerlinkError):
    """The request is valid but clashes with the current state (already running, already exists...)."""

    status_code = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state."


class ServiceUnavailable(LedgerlinkError):
    """A dependency (database, queue, ledger) cannot be reached now; trying again later may work."""

    status_code = 503
    default_code = "unavailable"
    default_message = "A service Ledgerlink depends on is unavailable. Try again later."
