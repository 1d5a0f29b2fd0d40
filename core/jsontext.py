"""JSON with exact decimals, for ledger payloads kept in the mirror.

A ledger's amounts are decoded as `Decimal` (never float) and written back as the number they are
(`46.00` stays `46.00`), so the raw payload stored beside each mirrored record is the one received, number
for number. `ExactJSONEncoder`/`ExactJSONDecoder` plug that into Django's `JSONField`; `PreEncoded` lets a
caller that already encoded a payload (to hash it) hand the text over without a second encoding."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from json.decoder import scanstring  # type: ignore[attr-defined]
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


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]


def decode_with_items(text: str, path: Sequence[str]) -> tuple[dict[str, Any], list[tuple[Any, str]]]:
    """Decode a JSON object and, for the array at `path` (keys from the top), keep each element's exact
    text beside its decoded value: the payload as received, without encoding it again. The array's place
    in the returned object holds the decoded elements. Raises ValueError for anything malformed."""
    items: list[tuple[Any, str]] = []
    document, end = _object(text, _skip(text, 0), tuple(path), items)
    if _skip(text, end) != len(text):
        raise ValueError("Extra data after the JSON object.")
    return document, items


def _object(
    text: str, index: int, path: tuple[str, ...], items: list[tuple[Any, str]]
) -> tuple[dict[str, Any], int]:
    if text[index : index + 1] != "{":
        raise ValueError(f"Expected an object at {index}.")
    result: dict[str, Any] = {}
    index = _skip(text, index + 1)
    if text[index : index + 1] == "}":
        return result, index + 1
    while True:
        if text[index : index + 1] != '"':
            raise ValueError(f"Expected a key at {index}.")
        key, index = scanstring(text, index + 1)
        index = _skip(text, index)
        if text[index : index + 1] != ":":
            raise ValueError(f"Expected ':' at {index}.")
        index = _skip(text, index + 1)
        wanted = bool(path) and key == path[0]
        if wanted and len(path) == 1 and text[index : index + 1] == "[":
            result[key], index = _array(text, index, items)
        elif wanted and len(path) > 1 and text[index : index + 1] == "{":
            result[key], index = _object(text, index, path[1:], items)
        else:
            result[key], index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        separator = text[index : index + 1]
        if separator == "}":
            return result, index + 1
        if separator != ",":
            raise ValueError(f"Expected ',' or '}}' at {index}.")
        index = _skip(text, index + 1)


def _array(text: str, index: int, items: list[tuple[Any, str]]) -> tuple[list[Any], int]:
    values: list[Any] = []
    index = _skip(text, index + 1)
    if text[index : index + 1] == "]":
        return values, index + 1
    while True:
        value, end = _DECODER.raw_decode(text, index)
        values.append(value)
        items.append((value, text[index:end]))
        index = _skip(text, end)
        separator = text[index : index + 1]
        if separator == "]":
            return values, index + 1
        if separator != ",":
            raise ValueError(f"Expected ',' or ']' at {index}.")
        index = _skip(text, index + 1)
