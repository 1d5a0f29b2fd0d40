"""The base FilterSet every model's FilterSet extends (one FilterSet per model, shared by API,
admin and exports)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import FieldDoesNotExist
from django.db import models

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
