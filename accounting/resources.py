"""Import-export resources of the mirror (django-import-export): one ModelResource per family, made from the
family's declaration by `core.resources.resource_build`. A row is what a book-keeper scans the list by (the
family's columns), plus the connection it came from and the ledger's id of the record. Export only: the
mirror is written by pulls alone. (The admin's and the API's export files come from `core.exports`.)"""

from __future__ import annotations

from typing import Any, cast

from import_export import fields

from accounting.families import FAMILIES, Family
from core.resources import EntityResource, resource_build, resource_fields

LEADING = ("connection", "remote_id")


class MirrorResource(EntityResource):
    connection = fields.Field(attribute="connection__display_name", column_name="connection")

    family: Family

    def export(self, queryset: Any = None, **kwargs: Any) -> Any:
        # One query for the rows and their connection; the raw payload is not exported, so not loaded.
        if queryset is not None:
            queryset = queryset.select_related("connection").defer("raw")
        return super().export(queryset=queryset, **kwargs)


def export_fields(family: Family) -> tuple[str, ...]:
    return resource_fields(family.entity_type, leading=LEADING)


def _resource(family: Family) -> type[MirrorResource]:
    built = resource_build(
        family.entity_type,
        base=MirrorResource,
        leading=LEADING,
        attributes={"family": family},
        module=__name__,
    )
    return cast("type[MirrorResource]", built)


RESOURCES: dict[str, type[MirrorResource]] = {key: _resource(family) for key, family in FAMILIES.items()}
