"""List filters of the mirror's change lists. Those whose choices cost an index walk, not a table scan, are
core's (`core.admin_builders.IndexedValuesFieldListFilter`, re-exported here); the paginator that never
counts a whole table is core.paginators'."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_builders import IndexedValuesFieldListFilter, distinct_values

__all__ = ["IndexedValuesFieldListFilter", "LinkedListFilter", "distinct_values"]


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
