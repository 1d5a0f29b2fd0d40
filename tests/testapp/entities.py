"""A stand-in for an app that imports only `core` (as `books/` will): it declares its entity type and gets
its FilterSet, serializers, API viewset, admin and export through the core builders alone."""

from __future__ import annotations

from core.admin_builders import admin_build
from core.api.builders import EntityViewSetMixin, serializers_build, viewset_build
from core.api.viewsets import BaseReadOnlyModelViewSet
from core.entities import EntityType, entity_type_register
from core.filtersets import filterset_build
from tests.testapp.models import Widget

WIDGETS = entity_type_register(
    EntityType(
        "widget_records",
        "Widgets",
        Widget,
        columns=("name", "status", "amount", "issued_on"),
        search_fields=("name",),
        date_field="issued_on",
    )
)

WidgetRecordFilterSet = filterset_build(WIDGETS, module=__name__)
WidgetRecordSerializer, WidgetRecordDetailSerializer = serializers_build(
    WIDGETS,
    # No `status`: its choices would be a second enum of Widget's in the schema, which names them by hash.
    fields=["id", "name", "amount", "issued_on", "created_at"],
    name="WidgetRecord",  # the hand-written API of tests.testapp.api has "Widget"
    module=__name__,
)


class WidgetRecordsBase(EntityViewSetMixin, BaseReadOnlyModelViewSet):
    """List, get and export of widgets (an app's own base adds its own actions)."""


WidgetRecordViewSet = viewset_build(
    WIDGETS,
    base=WidgetRecordsBase,
    serializer_class=WidgetRecordSerializer,
    detail_serializer_class=WidgetRecordDetailSerializer,
    filterset_class=WidgetRecordFilterSet,
    module=__name__,
)
WidgetRecordAdmin = admin_build(
    WIDGETS,
    filterset_class=WidgetRecordFilterSet,
    export_serializer_class=WidgetRecordSerializer,
    module=__name__,
)
