"""Numbered pages that never end before the list does.

Whether a next page exists is decided by reading one row past the page, never by a count: a count of a
big list is capped or estimated (counting millions of rows for every page would cost more than the page),
and a client following `next` must still get every row. `count` says what it is: `exact`, `at_least` (a
capped count: there are more) or `estimate` (PostgreSQL's planner, past the cap). A page number past an
estimate still serves the rows that exist; a page past the last row is a 404 that says so.

Deep pages read the keys of the rows before them and then their own rows by key (`core.paginators`)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from core.paginators import count_capped, query_estimate, rows_by_key, table_estimate

EXACT, AT_LEAST, ESTIMATE = "exact", "at_least", "estimate"


def positive_int_param(request: Request, name: str, *, default: int, maximum: int | None = None) -> int:
    """A query parameter that must be a whole number from 1 (to `maximum`): a 400 naming it otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [f"Must be a whole number; got {raw[:40]!r}."]}) from None
    if value < 1 or (maximum is not None and value > maximum):
        bounds = f"from 1 to {maximum:,}" if maximum is not None else "1 or more"
        raise ValidationError({name: [f"Must be {bounds}; got {value}."]})
    return value


class PageNumberPagination(BasePagination):
    """`?page=N&page_size=M` (M from 1 to 1,000): count (with what kind of count it is), next, previous
    and results."""

    page_query_param = "page"
    page_size_query_param = "page_size"
    max_page_size = 1000
    # Counted exactly up to this many rows; past it a capped count or the planner's estimate.
    count_exact_limit = 10_000
    keys_first_from = 1_000

    def __init__(self) -> None:
        self.request: Request | None = None
        self.number = 1
        self.has_next = False
        self.count = 0
        self.count_is = EXACT

    def page_size_get(self, request: Request) -> int:
        default = int(api_settings.PAGE_SIZE or 50)
        return positive_int_param(
            request, self.page_size_query_param, default=default, maximum=self.max_page_size
        )

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        self.request = request
        size = self.page_size_get(request)
        self.number = positive_int_param(request, self.page_query_param, default=1)
        offset = (self.number - 1) * size
        window = queryset[offset : offset + size + 1]
        rows = rows_by_key(window) if offset >= self.keys_first_from else list(window)
        self.has_next = len(rows) > size
        rows = rows[:size]
        if not rows and self.number > 1:
            raise NotFound(f"Page {self.number} is past the end of the list; follow `next` from page 1.")
        known = offset + len(rows) + (1 if self.has_next else 0)
        if self.number == 1 and not self.has_next:
            self.count, self.count_is = len(rows), EXACT
        else:
            self.count, self.count_is = self.count_get(queryset, known)
        return rows

    def count_get(self, queryset: QuerySet[Any], known: int) -> tuple[int, str]:
        """The list's count and its kind; never below `known`, the rows seen to exist."""
        limit = self.count_exact_limit
        postgres = connections[queryset.db].vendor == "postgresql"
        if postgres and not queryset.query.where:
            estimate = table_estimate(queryset)
            if estimate > limit:
                return (estimate, ESTIMATE) if estimate >= known else (known, AT_LEAST)
        counted = count_capped(queryset, limit)
        if counted <= limit:
            return counted, EXACT
        lower = max(counted, known)
        if postgres:
            estimate = query_estimate(queryset)
            if estimate >= lower:
                return estimate, ESTIMATE
        return lower, AT_LEAST

    def get_next_link(self) -> str | None:
        if not self.has_next or self.request is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.number <= 1 or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("count_is", self.count_is),
                    ("count_is_estimate", self.count_is != EXACT),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "count_is", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": "Rows in the list: exact, at least this many, or the database's "
                    "estimate, as `count_is` says. Follow `next` to read them all.",
                },
                "count_is": {"type": "string", "enum": [EXACT, AT_LEAST, ESTIMATE]},
                "count_is_estimate": {
                    "type": "boolean",
                    "description": "Deprecated: true whenever `count_is` is not `exact`.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "The page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, from 1 to {self.max_page_size:,}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
