"""The entity-type spec: one declaration per type of record that API clients and staff see, from which the
builders make its API (`core.api.builders`), admin (`core.admin_builders`), import-export resource
(`core.resources`) and exports (`core.exports`).

An app declares its types and registers the ones its API serves (`entity_type_register`): background
exports name their entity type by key and find it here, whichever app declared it. What an app adds on top
(the mirror's connection filters, its refresh action, its ledger links) it adds by subclassing the
builders' bases, not by widening this spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet


@dataclass(frozen=True)
class Child:
    """Rows that belong to a record and are shown (and replaced) with it: lines, allocations, options."""

    key: str
    model: type[models.Model]
    parent_field: str


@dataclass(frozen=True)
class EntityType:
    """One type of record as clients and staff see it: a model, or the part of one a scope selects
    (customers and suppliers can be one table of contacts)."""

    key: str
    label: str
    model: type[models.Model]
    # Field values every record of the type has (`kind="purchase"`): its list is the model's rows with them.
    scope: tuple[tuple[str, object], ...] = ()
    children: tuple[Child, ...] = ()
    # What a person scans a list by, in order (admin list columns).
    columns: tuple[str, ...] = ()
    # Free-text search (`?q=`, the admin's search box) looks in these.
    search_fields: tuple[str, ...] = ()
    # The record's date: newest first by it, and the admin's date hierarchy.
    date_field: str = ""

    @property
    def path(self) -> str:
        """The type's URL segment and the stem of its export files."""
        return self.key.replace("_", "-")

    @property
    def ordering(self) -> tuple[str, ...]:
        """Newest first (by date where the type has one); the primary key keeps paging stable."""
        return (f"-{self.date_field}", "-pk") if self.date_field else ("-pk",)

    def queryset(self) -> QuerySet[Any]:
        """Every record of the type: the model's rows within its scope."""
        return self.model._default_manager.filter(**dict(self.scope))


ENTITY_TYPES: dict[str, EntityType] = {}


def entity_type_register(entity_type: EntityType) -> EntityType:
    """Make the type findable by its key (`entity_type_get`). Keys are one namespace across apps: a second,
    different type under a key already taken is a mistake, refused at start-up."""
    known = ENTITY_TYPES.setdefault(entity_type.key, entity_type)
    if known != entity_type:
        raise ValueError(f"Entity type {entity_type.key!r} is declared twice, differently.")
    return entity_type


def entity_type_get(key: str) -> EntityType:
    """The registered type of that key; `KeyError` for none."""
    return ENTITY_TYPES[key]
