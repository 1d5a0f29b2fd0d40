"""One FilterSet per mirrored family, made from the family's declaration and reused by the API, the
admin and exports.

Every normalised column gets its filter (ranges for amounts and dates, `__in` for words), plus what every
mirror has: connection and provider, the ledger's status word, archived, remote-deleted, linked, updated
since, and free-text `q` over the family's search fields. A list shows active records (not archived here,
not deleted in the ledger) unless the client asks about `archived` or `remote_deleted` itself."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

import django_filters
from django.db import models
from django.db.models import Q, QuerySet

from accounting.families import FAMILIES, Family
from core.filtersets import BaseFilterSet
from integrations.providers import provider_choices

# Base columns that are bookkeeping of the engine, not something anyone filters by.
UNFILTERED = frozenset({"raw", "content_hash", "seen_run_id", "link_content_type", "link_object_id", "id"})


def filter_fields(family: Family) -> list[str]:
    """The columns of a family that get a filter: every concrete column but the engine's own and JSON."""
    return [
        field.name
        for field in family.model._meta.concrete_fields
        if field.name not in UNFILTERED and not isinstance(field, models.JSONField)
    ]


class MirrorFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label="Free text")
    provider = django_filters.MultipleChoiceFilter(
        field_name="connection__provider", choices=provider_choices(), label="Ledger"
    )
    linked = django_filters.BooleanFilter(method="linked_filter", label="Linked to a local record")
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="remote_updated_at", lookup_expr="gte", label="Changed in the ledger since"
    )

    family: Family

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        terms = [Q(**{f"{field}__icontains": value}) for field in self.family.search_fields]
        terms.append(Q(remote_id=value))
        return queryset.filter(reduce(or_, terms))

    def linked_filter(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset.exclude(link_object_id="") if value else queryset.filter(link_object_id="")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        asked = set(self.data.keys()) if self.data is not None else set()
        if not asked & {"archived", "remote_deleted"}:
            queryset = queryset.filter(archived=False, remote_deleted=False)
        return super().filter_queryset(queryset)


def _filterset(family: Family) -> type[MirrorFilterSet]:
    meta = type("Meta", (), {"model": family.model, "fields": filter_fields(family)})
    name = f"{family.model.__name__}FilterSet"
    return type(name, (MirrorFilterSet,), {"Meta": meta, "family": family, "__module__": __name__})


FILTERSETS: dict[str, type[MirrorFilterSet]] = {key: _filterset(family) for key, family in FAMILIES.items()}
