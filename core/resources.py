"""The import-export resource of an entity type (django-import-export), made from its declaration: a row is
what a person scans the list by (the type's columns), plus whatever leading fields the app names.

Files for people (the admin's and the API's exports) come from `core.exports`, one path for both; a
resource is for django-import-export's own tools (an import, a dataset in a shell or a script)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from import_export import resources

from core.entities import EntityType


class EntityResource(resources.ModelResource):
    """Base of the resources made from entity types (`resource_build`)."""

    entity_type: EntityType


def resource_fields(entity_type: EntityType, *, leading: tuple[str, ...] = ()) -> tuple[str, ...]:
    return (*leading, *entity_type.columns)


def resource_build(
    entity_type: EntityType,
    *,
    base: type[EntityResource] = EntityResource,
    leading: tuple[str, ...] = (),
    attributes: Mapping[str, Any] | None = None,
    module: str = __name__,
) -> type[EntityResource]:
    """The resource of an entity type: `leading` then the type's columns, in that order."""
    columns = resource_fields(entity_type, leading=leading)
    meta = type("Meta", (), {"model": entity_type.model, "fields": columns, "export_order": columns})
    namespace = {**(attributes or {}), "Meta": meta, "entity_type": entity_type, "__module__": module}
    return type(f"{entity_type.model.__name__}Resource", (base,), namespace)
