"""Structured logging: one JSON object per line, carrying the request id, with secrets scrubbed.

Configured in settings.LOGGING; code logs with `logging.getLogger(__name__)` and structured `extra`.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

REDACTED = "[redacted]"

# Attribute names every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "request_id"}
)

# Keys whose values are credentials, wherever they appear in structured data.
_SECRET_KEY_RE = re.compile(
    r"(pass(word|wd)?|secret|token|authori[sz]ation|api[_-]?key|cookie|signature|code_verifier|"
    r"private[_-]?key|encryption[_-]?keys?|credential)",
    re.IGNORECASE,
)
# Credentials that may be embedded in free text (messages, URLs, echoed payloads).
_SECRET_TEXT_RES = (
    re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|id_token|client_secret|password|code_verifier|[?&]code)"
        r"[\"']?\s*[=:]\s*[\"']?)[^\"'&\s,}]+"
    ),
    # An authorization code as a quoted key (requests-oauthlib logs its form as a dict). Only long values:
    # a ledger's short error code ("code": "3200") stays readable.
    re.compile(r"""(?i)(["']code["']\s*:\s*["'])[^"'\s]{16,}"""),
)


def redact_text(text: str) -> str:
    for pattern in _SECRET_TEXT_RES:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def redact(value: Any, key: str | None = None) -> Any:
    """Return `value` with every secret-looking entry replaced; never mutates the input."""
    if key is not None and _SECRET_KEY_RE.search(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else is rendered as text by the formatter (Django logs the request object, whose repr
    # carries the query string): render it here, so it is scrubbed like any other text.
    return redact_text(str(value))


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request (or task) being handled, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Scrubs credentials from the message and from structured extras before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the event
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRS:
                setattr(record, name, redact(value, name))
        return True


class JsonFormatter(logging.Formatter):
    """One line of JSON per event: time, level, logger, message, request id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            event["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRS and not name.startswith("_"):
                event[name] = value
        if record.exc_info:
            event["exc"] = redact_text("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(event, default=str, ensure_ascii=False)
