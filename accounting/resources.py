"""Exports of the mirror (django-import-export): one ModelResource per family, made from the family's
declaration. A row is what a book-keeper scans the list by (the family's columns), plus the connection it
came from and the ledger's id of the record. Export only: the mirror is written by pulls alone."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources

from accounting.families import FAMILIES, Family


class MirrorResource(resources.ModelResource):
    connection = fields.Field(attribute="connection__display_name", column_name="connection")

    family: Family

    def export(self, queryset: Any = None, **kwargs: Any) -> Any:
        # One query for the rows and their connection; the raw payload is not exported, so not loaded.
        if queryset is not None:
            queryset = queryset.select_related("connection").defer("raw")
        return super().export(queryset=queryset, **kwargs)


def export_fields(family: Family) -> tuple[str, ...]:
    return ("connection", "remote_id", *family.columns)


def _resource(family: Family) -> type[MirrorResource]:
    columns = export_fields(family)
    meta = type("Meta", (), {"model": family.model, "fields": columns, "export_order": columns})
    name = f"{family.model.__name__}Resource"
    return type(name, (MirrorResource,), {"Meta": meta, "family": family, "__module__": __name__})


RESOURCES: dict[str, type[MirrorResource]] = {key: _resource(family) for key, family in FAMILIES.items()}
