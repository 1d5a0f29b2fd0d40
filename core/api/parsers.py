"""JSON request bodies, refused before parsing when too big or nested too deep.

A body over `API_MAX_BODY_BYTES` is a 413 without being read whole. Nesting deeper than `API_JSON_MAX_DEPTH`
is a 400: the depth is measured on the raw text (strings taken out first, so brackets inside them don't
count) before `json` recurses into it, since Python's parser and everything after it (serializers, the
settings merge) recurse too, and 5,000 levels of `[` end in a RecursionError, a 500."""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = int(getattr(settings, "API_MAX_BODY_BYTES", 2_621_440))
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = f"The request body is larger than {limit:,} bytes; send less at once."
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise PayloadTooLarge(too_large)
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise PayloadTooLarge(too_large)
        max_depth = int(getattr(settings, "API_JSON_MAX_DEPTH", 32))
        if json_depth(data) > max_depth:
            raise exceptions.ParseError(f"JSON nested deeper than {max_depth} levels is not accepted.")
        return super().parse(io.BytesIO(data), media_type, parser_context)
