"""JSON text with exact decimals, for both emulated ledgers' bodies.

Bodies are decoded with `Decimal` for every non-integer number and encoded by `encode`, which writes a
Decimal as the number it is (`46.00` stays `46.00`, never `46.0000000001`): money never passes through
float, and a payload imported from a recording comes back byte-for-byte in its numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_encode_string: Callable[[str], str] = json.encoder.encode_basestring
# One shared decoder: json.loads(..., parse_float=...) would build a new one per call.
_DECODER = json.JSONDecoder(parse_float=Decimal)


def decode(text: str | bytes) -> Any:
    """Raises ValueError (or UnicodeDecodeError) for text that is not JSON."""
    return _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))


def encode(value: Any) -> str:
    """Compact JSON with Decimals written exactly."""
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
            parts.append(_encode_string(key))
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
        # Floats included: a ledger body never holds one, and money must not start now.
        raise TypeError(f"{type(value).__name__} is not part of a ledger body")


def clone(value: Any) -> Any:
    """A deep copy of a decoded body (dicts, lists and immutable scalars only), far cheaper than deepcopy."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value
