"""One FilterSet per mirrored family, made from the family's declaration (`core.filtersets.filterset_build`)
and reused by the API, the admin and exports.

Every normalised column gets its filter (ranges for amounts and dates, `__in` for words), plus what every
mirror has: connection and provider, the ledger's status word, archived, remote-deleted, linked, updated
since, and free-text `q` over the family's search fields or the ledger's id. A list shows active records
(not archived here, not deleted in the ledger) unless the client asks about `archived` or `remote_deleted`
itself."""

from __future__ import annotations

from typing import Any, ClassVar, cast

import django_filters
from django.db.models import Q, QuerySet

from accounting.families import FAMILIES, Family
from core import filtersets
from core.filtersets import EntityFilterSet, filterset_build
from integrations.providers import provider_choices

# Base columns that are bookkeeping of the engine, not something anyone filters by.
UNFILTERED = frozenset({"raw", "content_hash", "seen_run_id", "link_content_type", "link_object_id", "id"})


def filter_fields(family: Family) -> list[str]:
    """The columns of a family that get a filter: every concrete column but the engine's own and JSON."""
    return filtersets.filter_fields(family.model, UNFILTERED)


class MirrorFilterSet(EntityFilterSet):
    provider = django_filters.MultipleChoiceFilter(
        field_name="connection__provider", choices=provider_choices(), label="Ledger"
    )
    linked = django_filters.BooleanFilter(method="linked_filter", label="Linked to a local record")
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="remote_updated_at", lookup_expr="gte", label="Changed in the ledger since"
    )

    family: ClassVar[Family]
    unfiltered: ClassVar[frozenset[str]] = UNFILTERED

    def search_terms(self, value: str) -> list[Q]:
        return [*super().search_terms(value), Q(remote_id=value)]

    def linked_filter(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset.exclude(link_object_id="") if value else queryset.filter(link_object_id="")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        asked = set(self.data.keys()) if self.data is not None else set()
        if not asked & {"archived", "remote_deleted"}:
            queryset = queryset.filter(archived=False, remote_deleted=False)
        return super().filter_queryset(queryset)


FILTERSETS: dict[str, type[MirrorFilterSet]] = {
    key: cast(
        "type[MirrorFilterSet]",
        filterset_build(
            family.entity_type, base=MirrorFilterSet, module=__name__, attributes={"family": family}
        ),
    )
    for key, family in FAMILIES.items()
}
