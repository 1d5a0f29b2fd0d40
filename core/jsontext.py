"""JSON with exact decimals, for ledger payloads kept in the mirror.

A ledger's amounts are decoded as `Decimal` (never float) and written back as the number they are
(`46.00` stays `46.00`), so the raw payload stored beside each mirrored record is the one received, number
for number. `ExactJSONEncoder`/`ExactJSONDecoder` plug that into Django's `JSONField`; `PreEncoded` lets a
caller that already encoded a payload (to hash it) hand the text over without a second encoding."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_encode_string: Callable[[str], str] = json.encoder.encode_basestring_ascii
_DECODER = json.JSONDecoder(parse_float=Decimal)


class PreEncoded(str):
    """JSON text that `ExactJSONEncoder` passes through as it is."""


def decode(text: str | bytes) -> Any:
    """Raises ValueError for text that is not JSON."""
    return _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))


def encode(value: Any) -> str:
    """Compact JSON with Decimals written exactly. Floats are refused: money must not pass through one."""
    if isinstance(value, PreEncoded):
        return value
    parts: list[str] = []
    _encode_into(value, parts)
    return "".join(parts)


def _encode_into(value: Any, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(_encode_string(value))
    elif isinstance(value, dict):
        parts.append("{")
        first = True
        for key, item in value.items():
            if not first:
                parts.append(",")
            first = False
            parts.append(_encode_string(str(key)))
            parts.append(":")
            _encode_into(item, parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode_into(item, parts)
        parts.append("]")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif value is None:
        parts.append("null")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON form")
        parts.append(format(value, "f"))
    elif isinstance(value, int):
        parts.append(str(value))
    else:
        raise TypeError(f"{type(value).__name__} cannot be written as exact JSON")


class ExactJSONEncoder(json.JSONEncoder):
    """For `JSONField(encoder=...)`: Django calls `json.dumps(value, cls=encoder)`, which calls `encode`."""

    def encode(self, o: Any) -> str:
        return encode(o)


class ExactJSONDecoder(json.JSONDecoder):
    """For `JSONField(decoder=...)`: non-integer numbers come back as `Decimal`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["parse_float"] = Decimal
        super().__init__(*args, **kwargs)
