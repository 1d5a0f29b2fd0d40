"""A paginator for tables of millions of rows, shared by the admin and the API."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to `exact_limit` rows and estimates past it, so no page of a big table waits for a
    COUNT(*) over all of it. On PostgreSQL an unfiltered list takes the planner's row count of the table
    (`pg_class.reltuples`, kept by autovacuum) and a filtered one, past the limit, the planner's estimate of
    the query; elsewhere the count stops at the limit (later pages are reached by filtering)."""

    exact_limit = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        postgres = connections[queryset.db].vendor == "postgresql"
        if postgres and not queryset.query.where:
            estimate = self._table_estimate(queryset)
            if estimate > self.exact_limit:
                return estimate
        counted = queryset.order_by()[: self.exact_limit + 1].count()
        if counted <= self.exact_limit:
            return counted
        return max(self._query_estimate(queryset), counted) if postgres else self.exact_limit

    @staticmethod
    def _table_estimate(queryset: QuerySet[Any]) -> int:
        """The planner's row count of the table; -1 (or 0) for a table never analysed."""
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else -1

    @staticmethod
    def _query_estimate(queryset: QuerySet[Any]) -> int:
        sql, params = queryset.order_by().query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    @property
    def count_is_estimate(self) -> bool:
        return self.count > self.exact_limit
