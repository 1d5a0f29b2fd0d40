"""QBO's JSON dialect: exact decimals, ISO timestamps in Intuit's Pacific server time, money written the
way Intuit writes it.

Bodies are decoded with `Decimal` for every non-integer number and encoded by `encode`, which writes a
Decimal exactly as it is (`337.50` stays `337.50`): money never passes through float, and a payload
imported from a recording comes back byte-for-byte in its numbers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import jsontext

# Intuit stamps MetaData and the envelope `time` in its own (Pacific) time, whatever the company's zone.
INTUIT_ZONE = ZoneInfo("America/Los_Angeles")
CENT = Decimal("0.01")
ZERO = Decimal(0)
ISO_MOMENT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


class BodyUnreadable(Exception):
    """The request body is not JSON (or not the JSON object the endpoint needs)."""


def decode(text: str | bytes) -> Any:
    try:
        return jsontext.decode(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BodyUnreadable(str(error)) from error


encode = jsontext.encode
clone = jsontext.clone


# --- numbers ---------------------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal | None:
    """A number as the client sent it: JSON numbers, numeric strings (python-quickbooks writes Decimals as
    strings), never bool. None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and value.strip():
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def money(value: Decimal) -> Decimal:
    """An amount as Intuit writes it: `0` for zero, otherwise exactly two places (100.00, 337.50)."""
    if value == 0:
        return ZERO
    # Half-up, as accounting (and QBO) rounds computed cents; Decimal's default would round half-even.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value: Decimal) -> Decimal:
    """A quantity or rate as Intuit writes it: no trailing zeros (75, 4.5, 22.5)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


# --- time ------------------------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    """MetaData times: whole seconds with Intuit's offset (2020-09-29T05:58:07-07:00)."""
    return moment.astimezone(INTUIT_ZONE).replace(microsecond=0).isoformat()


def envelope_time(moment: datetime) -> str:
    """The response `time`: milliseconds and offset (2020-09-29T06:02:35.106-07:00)."""
    local = moment.astimezone(INTUIT_ZONE)
    return local.isoformat(timespec="milliseconds")


def company_today(moment: datetime) -> date:
    return moment.astimezone(INTUIT_ZONE).date()


def parse_moment(text: Any, *, naive_zone: Any = INTUIT_ZONE) -> datetime | None:
    """An ISO date or date-time as an aware datetime; a value without offset is in Intuit's time (what the
    query language and CDC assume). None when the text is not one."""
    if not isinstance(text, str):
        return None
    match = ISO_MOMENT.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if zone is None:
        return moment.replace(tzinfo=naive_zone)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def parse_day(text: Any) -> date | None:
    """A date field (TxnDate, DueDate): the date part of an ISO value."""
    if isinstance(text, str) and len(text) >= 10:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None
