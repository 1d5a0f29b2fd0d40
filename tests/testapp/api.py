from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.viewsets import BaseModelViewSet
from core.errors import Conflict
from core.filtersets import BaseFilterSet
from tests.testapp.models import Widget


class WidgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Widget
        fields = ["id", "name", "status", "amount", "issued_on", "created_at"]


class WidgetFilterSet(BaseFilterSet):
    class Meta:
        model = Widget
        fields = ["name", "status", "amount", "issued_on"]


class WidgetViewSet(BaseModelViewSet):
    queryset = Widget.objects.all()
    serializer_class = WidgetSerializer
    filterset_class = WidgetFilterSet
    ordering_fields = ["name", "status", "amount", "issued_on", "created_at"]

    @action(detail=False, methods=["post"], required_permission="change")
    def explode(self, request: Request) -> Response:
        raise RuntimeError("boom: token=abcdef123456 must not leak")

    @action(detail=False, methods=["post"], required_permission="change")
    def clash(self, request: Request) -> Response:
        raise Conflict("A sync is already running.", details={"run_id": 7})
