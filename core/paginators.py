"""A paginator for tables of millions of rows, shared by the admin and the API."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to `exact_limit` rows and estimates past it, so no page of a big table waits for a
    COUNT(*) over all of it. On PostgreSQL an unfiltered list takes the planner's row count of the table
    (`pg_class.reltuples`, kept by autovacuum) and a filtered one, past the limit, the planner's estimate of
    the query; elsewhere the count stops one past the limit (later pages are reached by filtering)."""

    exact_limit = 10_000
    # From this offset a page reads the keys of the rows before it and then its own rows by key.
    keys_first_from = 1_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        postgres = connections[queryset.db].vendor == "postgresql"
        if postgres and not queryset.query.where:
            estimate = table_estimate(queryset)
            if estimate > self.exact_limit:
                return estimate
        counted = count_capped(queryset, self.exact_limit)
        if counted <= self.exact_limit:
            return counted
        # Elsewhere the capped count itself (one past the limit) says "more than the limit".
        return max(query_estimate(queryset), counted) if postgres else counted

    def page(self, number: int | str) -> Page:
        first_rows: list[Any] | None = None
        if "count" not in self.__dict__ and isinstance(self.object_list, QuerySet) and _is_one(number):
            # The first page is read before anything is counted: when it holds the whole list (a search,
            # a narrow filter) its length is the count, and the list costs one query instead of two
            # (each of which would run the search).
            first_rows = list(self.object_list[: self.per_page + self.orphans + 1])
            if len(first_rows) <= self.per_page + self.orphans:
                self.__dict__["count"] = len(first_rows)
                if not first_rows and not self.allow_empty_first_page:
                    raise EmptyPage("That page contains no results")
                return Page(first_rows, 1, self)
        page = super().page(number)
        window = page.object_list
        if first_rows is not None:
            page.object_list = first_rows[: self.per_page]
        elif isinstance(window, QuerySet) and window.query.low_mark >= self.keys_first_from:
            page.object_list = rows_by_key(window)
        return page

    @property
    def count_is_estimate(self) -> bool:
        return self.count > self.exact_limit


def _is_one(number: int | str) -> bool:
    try:
        return int(number) == 1
    except (TypeError, ValueError):
        return False


def count_capped(queryset: QuerySet[Any], limit: int) -> int:
    """The rows of a list, counted no further than one past `limit`: a COUNT(*) over a list of millions
    costs seconds, this what reading `limit` index entries does."""
    return int(queryset.order_by()[: limit + 1].count())


def rows_more_than(queryset: QuerySet[Any], limit: int) -> bool:
    return count_capped(queryset, limit) > limit


def rows_by_key(window: QuerySet[Any]) -> list[Any]:
    """A deep page's rows. OFFSET reads every skipped row whole (25,000 heap rows for page 500 of 50);
    reading only their keys walks just the index that serves the order (an index-only scan on
    PostgreSQL), and then the page's own rows are fetched by key, in the same order."""
    keys = list(window.values_list("pk", flat=True))
    if not keys:
        return []
    rows = window.all()  # a copy: its limits are cleared below
    rows.query.clear_limits()
    by_key = {row.pk: row for row in rows.order_by().filter(pk__in=keys)}
    return [by_key[key] for key in keys if key in by_key]


def table_estimate(queryset: QuerySet[Any]) -> int:
    """The planner's row count of the table; -1 (or 0) for a table never analysed."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else -1


def query_estimate(queryset: QuerySet[Any]) -> int:
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
