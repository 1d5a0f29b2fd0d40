"""The API of an entity type, made from its declaration (`core.entities.EntityType`): its list and detail
serializers and its viewset (list, get, filters, ordering on every column, and export of the filtered list
through `core.exports`). An app declares its types and calls these; what its records have beyond the
spec (the mirror's provider, its ledger links, its refresh action) it adds by subclassing the bases here."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, RelatedField
from rest_framework.request import Request
from rest_framework.viewsets import GenericViewSet

from core.entities import Child, EntityType
from core.errors import InvalidInput
from core.exports import export_file_make
from core.filtersets import EntityFilterSet, filter_fields
from core.paginators import rows_more_than
from core.responses import export_file_response


class EntitySerializer(serializers.ModelSerializer):
    """Base of the serializers made from entity types: read-only shapes, rendered fast."""

    # What exports read for this serializer's method fields (`core.exports.column_plan`): per field, the
    # column and what the method makes of its value. A method field missing here cannot be exported.
    export_method_columns: ClassVar[dict[str, tuple[str, Callable[[Any], Any]]]] = {}

    @functools.cached_property
    def _representation_plan(self) -> list[tuple[str, str | None, serializers.Field]]:
        """Each readable field with the instance attribute it reads when that is a plain column."""
        model: Any = self.Meta.model
        columns = {field.name for field in model._meta.concrete_fields if not field.is_relation}
        plan: list[tuple[str, str | None, serializers.Field]] = []
        for field in self._readable_fields:
            plain = (
                not isinstance(
                    field, RelatedField | serializers.SerializerMethodField | serializers.BaseSerializer
                )
                and len(field.source_attrs) == 1
                and field.source_attrs[0] in columns
            )
            plan.append((str(field.field_name), field.source_attrs[0] if plain else None, field))
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # DRF's own loop walks each field's source through a try/except for every row; a page of 50
        # records of 40 columns spent more in it than in its query. A plain column is read straight off
        # the instance; None stays None as in DRF, and every value still goes through its field.
        representation: dict[str, Any] = {}
        for name, attribute_name, field in self._representation_plan:
            if attribute_name is not None:
                value = getattr(instance, attribute_name)
                representation[name] = None if value is None else field.to_representation(value)
                continue
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            present = value.pk if isinstance(value, PKOnlyObject) else value
            representation[name] = None if present is None else field.to_representation(value)
        return representation


def record_fields(model: type[models.Model], hidden: Iterable[str] = ()) -> list[str]:
    """A model's concrete columns, but those that are no client's business."""
    hidden = frozenset(hidden)
    return [field.name for field in model._meta.concrete_fields if field.name not in hidden]


def child_serializer_build(child: Child, *, module: str = __name__) -> type[serializers.ModelSerializer]:
    """A child row's shape: every column but its id and its parent."""
    meta = type("Meta", (), {"model": child.model, "exclude": ["id", child.parent_field]})
    return type(
        f"{child.model.__name__}Serializer",
        (serializers.ModelSerializer,),
        {"Meta": meta, "__module__": module},
    )


def serializers_build(
    entity_type: EntityType,
    *,
    fields: list[str],
    base: type[EntitySerializer] = EntitySerializer,
    detail_attributes: Mapping[str, Any] | None = None,
    name: str = "",
    module: str = __name__,
) -> tuple[type[EntitySerializer], type[EntitySerializer]]:
    """The list serializer (`fields`, read-only) and the detail serializer (those, the type's children, and
    the fields `detail_attributes` declares, in their order) of an entity type. Their names (`<name>Serializer`,
    `<name>DetailSerializer`; `name` defaults to the model's) name the API schema's components: unique."""
    model = entity_type.model
    name = name or model.__name__
    list_meta = type("Meta", (), {"model": model, "fields": fields, "read_only_fields": fields})
    list_class = type(f"{name}Serializer", (base,), {"Meta": list_meta, "__module__": module})
    attributes: dict[str, Any] = {}
    detail_fields = list(fields)
    for child in entity_type.children:
        attributes[child.key] = child_serializer_build(child, module=module)(many=True, read_only=True)
        detail_fields.append(child.key)
    for key, value in (detail_attributes or {}).items():
        attributes[key] = value
        if isinstance(value, serializers.Field):
            detail_fields.append(key)
    detail_meta = type(
        "Meta", (), {"model": model, "fields": detail_fields, "read_only_fields": detail_fields}
    )
    attributes.update(Meta=detail_meta, __module__=module)
    detail_class = type(f"{name}DetailSerializer", (list_class,), attributes)
    return list_class, detail_class


if TYPE_CHECKING:
    _Base = GenericViewSet
else:
    _Base = object


class EntityViewSetMixin(_Base):
    """What every entity type's viewset does beyond its base's list/get: the type's records (children read
    with a detail), the detail serializer for a detail, and export of the filtered list. Mixed in before a
    `core.api.viewsets` base."""

    entity_type: ClassVar[EntityType]
    detail_serializer_class: ClassVar[type | None] = None
    extra_query_params: ClassVar[tuple[str, ...]] = ("export_format",)

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.entity_type.queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(*(child.key for child in self.entity_type.children))
        return queryset

    def get_serializer_class(self) -> type:
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return super().get_serializer_class()

    def export_made(self, *, queryset: QuerySet[Any], export_format: str) -> HttpResponseBase:
        """The export's response: the file, for lists of at most `EXPORT_SYNC_MAX_ROWS` rows. A type whose
        app runs exports in the background overrides this; others are asked to filter more."""
        if rows_more_than(queryset, settings.EXPORT_SYNC_MAX_ROWS):
            limit = settings.EXPORT_SYNC_MAX_ROWS
            raise InvalidInput(
                f"Export at most {limit:,} records at once; filter the list to narrow it down."
            )
        made = export_file_make(
            serializer_class=cast("type[serializers.ModelSerializer]", self.serializer_class),
            queryset=queryset,
            export_format=export_format,
            title=self.entity_type.label,
            stem=self.entity_type.path,
        )
        return export_file_response(made)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "export_format", OpenApiTypes.STR, enum=["csv", "xlsx"], description="Default csv."
            )
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], required_permission="export")
    def export(self, request: Request) -> HttpResponseBase:
        """The filtered list as CSV or XLSX: the columns and values of the list."""
        queryset = self.filter_queryset(self.get_queryset())
        return self.export_made(
            queryset=queryset, export_format=request.query_params.get("export_format", "csv")
        )


def viewset_build(
    entity_type: EntityType,
    *,
    base: type,
    serializer_class: type[serializers.Serializer],
    filterset_class: type[EntityFilterSet],
    detail_serializer_class: type[serializers.Serializer] | None = None,
    unordered: frozenset[str] = frozenset(),
    doc: str = "",
    attributes: Mapping[str, Any] | None = None,
    module: str = __name__,
) -> type:
    """The viewset of an entity type: `base` (an `EntityViewSetMixin` over a `core.api.viewsets` base) with
    the type's serializers and FilterSet, ordering on every filtered column, newest first by default."""
    name = f"{entity_type.key.title().replace('_', '')}ViewSet"
    namespace = {
        **(attributes or {}),
        "__doc__": doc or f"{entity_type.label}.",
        "__module__": module,
        "entity_type": entity_type,
        "serializer_class": serializer_class,
        "detail_serializer_class": detail_serializer_class,
        "filterset_class": filterset_class,
        "ordering_fields": [*filter_fields(entity_type.model, filterset_class.unfiltered | unordered), "id"],
        "ordering": entity_type.ordering,
    }
    return type(name, (base,), namespace)
