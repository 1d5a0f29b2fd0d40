"""The base FilterSet every model's FilterSet extends (one FilterSet per model, shared by API,
admin and exports), and the FilterSet an entity type's declaration makes (`filterset_build`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from functools import reduce
from operator import or_
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet

from core.entities import EntityType

# Lookups generated for each entry of Meta.fields, by model field type.
RANGE_LOOKUPS = ["exact", "gte", "lte"]
LOOKUPS_BY_FIELD: tuple[tuple[type[models.Field], list[str]], ...] = (
    (models.DecimalField, RANGE_LOOKUPS),
    (models.IntegerField, RANGE_LOOKUPS),
    (models.FloatField, RANGE_LOOKUPS),
    (models.DateTimeField, RANGE_LOOKUPS),
    (models.DateField, RANGE_LOOKUPS),
    (models.BooleanField, ["exact"]),
    (models.ForeignKey, ["exact", "in"]),
    (models.CharField, ["exact", "in"]),
)


class BaseFilterSet(django_filters.FilterSet):
    """A FilterSet whose Meta.fields list expands to the lookups that make sense for each field's type:
    `amount`, `amount__gte`, `amount__lte`; `status`, `status__in`; and so on.

    Declare `Meta.fields` as a list; a dict keeps full control for the rare field that needs it.
    """

    lookups_by_field: ClassVar[tuple[tuple[type[models.Field], list[str]], ...]] = LOOKUPS_BY_FIELD

    def __init__(
        self,
        data: Any = None,
        queryset: Any = None,
        *,
        request: Any = None,
        prefix: str | None = None,
        asked_only: bool = False,
    ) -> None:
        # A bound FilterSet copies every declared filter and builds a form field for each: about 10 ms a
        # request for a family's ~80 filters, more than the query it shapes. A filter that was not asked
        # for filters nothing, so the API's backend (which has refused unknown parameters already) asks
        # for a FilterSet of the asked ones only; a rendered filter form still gets them all.
        if asked_only and data is not None and not prefix:
            self.base_filters = OrderedDict(
                (name, filter_) for name, filter_ in self.base_filters.items() if name in data
            )
        super().__init__(data, queryset, request=request, prefix=prefix)

    @classmethod
    def get_fields(cls) -> dict[str, Any]:
        fields: dict[str, Any] = dict(super().get_fields())
        meta = cls._meta  # type: ignore[attr-defined]  # set by FilterSet's metaclass
        if not isinstance(meta.fields, list | tuple):
            return fields
        model = meta.model
        for name, lookups in fields.items():
            if lookups != ["exact"]:
                continue
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:  # a related path such as "contact__name": keep exact
                continue
            for field_type, expanded in cls.lookups_by_field:
                if isinstance(model_field, field_type):
                    fields[name] = list(expanded)
                    break
        return fields


class EntityFilterSet(BaseFilterSet):
    """Base of the FilterSets made from entity types: a filter on every column (`filter_fields`) and
    free-text `q` over the type's search fields. A subclass adds what its records have in common."""

    q = django_filters.CharFilter(method="search", label="Free text")

    entity_type: ClassVar[EntityType]
    # Columns that get no filter: bookkeeping no one filters by (JSON columns never get one).
    unfiltered: ClassVar[frozenset[str]] = frozenset({"id"})

    def search_terms(self, value: str) -> list[Q]:
        """What `q` matches, any of: a search field containing it. Subclasses may add exact matches."""
        return [Q(**{f"{field}__icontains": value}) for field in self.entity_type.search_fields]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        terms = self.search_terms(value)
        return queryset.filter(reduce(or_, terms)) if terms else queryset


def filter_fields(model: type[models.Model], unfiltered: frozenset[str] = frozenset({"id"})) -> list[str]:
    """The columns of a model that get a filter: every concrete column but `unfiltered` and JSON."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if field.name not in unfiltered and not isinstance(field, models.JSONField)
    ]


def filterset_build(
    entity_type: EntityType,
    *,
    base: type[EntityFilterSet] = EntityFilterSet,
    module: str = __name__,
    attributes: Mapping[str, Any] | None = None,
) -> type[EntityFilterSet]:
    """The FilterSet of an entity type: `base` over the type's model, a filter for each `filter_fields`
    column, and any class `attributes` the caller's base reads. One per model, whatever the scope: the API,
    the admin and exports share it."""
    model = entity_type.model
    meta = type("Meta", (), {"model": model, "fields": filter_fields(model, base.unfiltered)})
    namespace = {**(attributes or {}), "Meta": meta, "entity_type": entity_type, "__module__": module}
    return type(f"{model.__name__}FilterSet", (base,), namespace)
