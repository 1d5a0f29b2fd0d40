"""What keeps a mirror's change list fast on tables of millions of rows: list filters whose choices cost
an index walk, not a table scan (the paginator that never counts a whole table is core.paginators')."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import connections, models, router
from django.db.models import QuerySet
from django.http import HttpRequest

# Distinct values a filter offers at most (a column with more is no list to click through).
MAX_FILTER_CHOICES = 50


def distinct_values(model: type[models.Model], column: str, limit: int = MAX_FILTER_CHOICES) -> list[Any]:
    """The distinct non-empty values of an indexed column, by walking its index one value at a time
    (a "loose index scan": one index probe per value, however many rows share it) instead of a DISTINCT
    over the whole table. Works on PostgreSQL and SQLite alike."""
    database = router.db_for_read(model)
    quote = connections[database].ops.quote_name
    concrete = next(field for field in model._meta.concrete_fields if field.name == column)
    table, field = quote(model._meta.db_table), quote(concrete.column)
    sql = (
        f"WITH RECURSIVE walk(value) AS ("  # noqa: S608 (names come from the model, quoted)
        f" SELECT MIN({field}) FROM {table} WHERE {field} <> ''"
        f" UNION ALL"
        f" SELECT (SELECT MIN({field}) FROM {table} WHERE {field} > walk.value)"
        f" FROM walk WHERE walk.value IS NOT NULL"
        f") SELECT value FROM walk WHERE value IS NOT NULL LIMIT %s"
    )
    with connections[database].cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


class IndexedValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Django's "all values" filter, with its choices read by `distinct_values` (an index walk) rather than
    `SELECT DISTINCT` over the table. For indexed text columns with few values (currencies)."""

    def __init__(
        self,
        field: models.Field,
        request: HttpRequest,
        params: dict[str, str],
        model: type[models.Model],
        model_admin: admin.ModelAdmin,
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        # The parent's choices are a lazy DISTINCT queryset, never evaluated once replaced.
        self.lookup_choices = distinct_values(model, field_path)  # type: ignore[assignment]


class LinkedListFilter(admin.SimpleListFilter):
    """Whether a mirrored record is linked to a local record (the generic link of the mirror base)."""

    title = "linked to a local record"
    parameter_name = "linked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() == "yes":
            return queryset.exclude(link_object_id="")
        if self.value() == "no":
            return queryset.filter(link_object_id="")
        return None
