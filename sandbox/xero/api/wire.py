"""Xero's JSON dialect: exact decimals, MS-JSON dates, booleans as the SDK sends them in queries.

Bodies are decoded with `Decimal` for every non-integer number and encoded by `encode`, which writes a
Decimal as the number it is (`46.00`, never `46.0000000001`): money never passes through float."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox import jsontext

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
# Strict ISO 8601 (a space instead of "T" is what Xero rejects as "not a valid AllXsd value").
ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


class PostDataInvalid(Exception):
    """The request body cannot be read at all (bad JSON, a date Xero cannot parse): Xero's ErrorNumber 14."""


decode = jsontext.decode
encode = jsontext.encode
clone = jsontext.clone


def places(value: Decimal) -> int:
    """How many decimal places a Decimal is written with (12.3400 → 4)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# --- dates ------------------------------------------------------------------------------------------------


def to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def ms_date(day: date) -> str:
    """An entity date field (Date, DueDate...): midnight UTC with the explicit offset Xero writes."""
    return f"/Date({to_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))}+0000)/"


def ms_datetime(moment: datetime) -> str:
    return f"/Date({to_ms(moment)}+0000)/"


def envelope_datetime(moment: datetime) -> str:
    # The envelope's DateTimeUTC is the one place Xero writes no offset.
    return f"/Date({to_ms(moment)})/"


def iso_day(day: date) -> str:
    """DateString / DueDateString companions."""
    return f"{day.isoformat()}T00:00:00"


def iso_utc(moment: datetime) -> str:
    """UpdatedDateUTCString companion (seconds, Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def truncate_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def parse_ms(text: Any) -> datetime | None:
    """A `/Date(ms±hhmm)/` string as an aware UTC datetime; None for anything else."""
    if not isinstance(text, str):
        return None
    match = MS_DATE.match(text)
    if match is None:
        return None
    return EPOCH + timedelta(milliseconds=int(match.group(1)))


def parse_instant(value: Any) -> datetime:
    """An input date or datetime, MS-JSON or ISO 8601 (naive means UTC), as an aware UTC datetime."""
    if isinstance(value, str):
        text = value.strip()
        moment = parse_ms(text)
        if moment is not None:
            return moment
        match = ISO_DATE.match(text)
        if match is not None:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            try:
                parsed = datetime(
                    int(year),
                    int(month),
                    int(day),
                    int(hour or 0),
                    int(minute or 0),
                    int(second or 0),
                    int((fraction or "0").ljust(6, "0")[:6]),
                    tzinfo=UTC,
                )
            except ValueError:
                pass
            else:
                if zone and zone != "Z":
                    sign = 1 if zone[0] == "+" else -1
                    digits = zone[1:].replace(":", "")
                    parsed -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                return parsed
    raise PostDataInvalid(f"The string '{value}' is not a valid AllXsd value.")


def parse_day(value: Any) -> date:
    """An input date field. MS-JSON values name an instant whose UTC date is the day (the SDK sends midnight
    UTC); ISO values name the day directly, whatever time or offset follows it."""
    if isinstance(value, str) and ISO_DATE.match(value.strip()):
        text = value.strip()
        try:
            return date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            pass
    return parse_instant(value).date()


def day_of(text: Any) -> date | None:
    moment = parse_ms(text)
    return moment.date() if moment is not None else None


# --- query strings ---------------------------------------------------------------------------------------


def parse_bool(text: str | None, default: bool = False) -> bool:
    """xero-python sends Python literals (`True`/`False`); Xero itself documents `true`/`false`."""
    if text is None or text == "":
        return default
    return text.strip().lower() in {"true", "1", "yes"}
