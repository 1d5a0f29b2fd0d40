"""The entity API: one base viewset, and one declaration per entity type made from `ENDPOINTS`.

Every entity type gets list (filters, ordering on every column, page-number or cursor pagination; active
records by default), get (with lines, contact, payments applied, the documents it was made from or that
were made from it, `?include=raw` for the payload),
delete and bulk delete of mirror records, archive/unarchive, refresh (a pull of the family, 202),
statistics of the filtered list, and CSV/XLSX export of it."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.db.models import QuerySet
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounting import exports, selectors, services
from accounting.api.exports import ExportJobSerializer
from accounting.api.pagination import HybridPagination
from accounting.api.serializers import (
    BulkResultSerializer,
    FamilyRefreshSerializer,
    IdsSerializer,
    serializers_for,
)
from accounting.families import ENDPOINTS, Endpoint
from accounting.filtersets import FILTERSETS
from accounting.models import PaymentAllocation
from core.api.builders import EntityViewSetMixin, viewset_build
from core.api.viewsets import BaseReadDeleteModelViewSet
from core.errors import InvalidInput
from core.exports import ExportFile
from core.responses import export_file_response
from integrations.api.serializers import SyncRunSerializer
from integrations.models import Connection

DELETE_NOTE = (
    "Deletes the records from Ledgerlink's mirror only: the ledger keeps them, and the next full resync "
    "(refresh with full_sync) brings back whatever still exists there."
)


class MirrorViewSet(EntityViewSetMixin, BaseReadDeleteModelViewSet):
    """Records mirrored from the connected ledgers."""

    endpoint: ClassVar[Endpoint]
    pagination_class = HybridPagination
    extra_query_params = ("include", "paginate", "export_format")
    detail_serializer_class: ClassVar[type]

    def get_queryset(self) -> QuerySet[Any]:
        family = self.endpoint.family
        queryset = family.model._default_manager.filter(**dict(self.endpoint.scope)).select_related(
            "connection"
        )
        if family.has_contact and self.action == "retrieve":
            queryset = queryset.select_related("contact")  # type: ignore[misc]  # documents have one
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(*(child.key for child in family.children))
        else:
            # The payload is shown on a detail only: a list never reads or decodes it.
            queryset = queryset.defer("raw")
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        include = self.request.query_params.get("include", "") if self.request else ""
        unknown = sorted(set(filter(None, include.split(","))) - {"raw"})
        if unknown:
            raise ValidationError({"include": [f"Unknown: {', '.join(unknown)}. Allowed: raw."]})
        context["include_raw"] = "raw" in include.split(",")
        return context

    @extend_schema(
        parameters=[
            OpenApiParameter("include", OpenApiTypes.STR, description="`raw`: add the ledger's payload.")
        ]
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        context = self.get_serializer_context()
        if self.endpoint.family.due_amount_field:
            applied = PaymentAllocation.objects.filter(
                payment__connection_id=instance.connection_id, target_remote_id=instance.remote_id
            ).select_related("payment")
            context["payments"] = {instance.remote_id: list(applied)}
        links = selectors.document_links_get(family=self.endpoint.family, record=instance)
        context["links"] = {instance.pk: links}
        return Response(self.detail_serializer_class(instance, context=context).data)

    @extend_schema(description=DELETE_NOTE)
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        services.records_delete(family=self.endpoint.family, queryset=self.get_queryset(), ids=[instance.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _ids(self, request: Request) -> list[int]:
        serializer = IdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["ids"]

    @extend_schema(request=IdsSerializer, responses=BulkResultSerializer, description=DELETE_NOTE)
    @action(detail=False, methods=["post"], url_path="bulk-delete", required_permission="delete")
    def bulk_delete(self, request: Request) -> Response:
        """Delete these records from the mirror."""
        count = services.records_delete(
            family=self.endpoint.family, queryset=self.get_queryset(), ids=self._ids(request)
        )
        return Response({"count": count})

    @extend_schema(request=IdsSerializer, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], required_permission="change")
    def archive(self, request: Request) -> Response:
        """Archive these records here (a local flag: they leave default lists; the ledger is untouched)."""
        count = services.records_archive(queryset=self.get_queryset(), ids=self._ids(request), archived=True)
        return Response({"count": count})

    @extend_schema(request=IdsSerializer, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], required_permission="change")
    def unarchive(self, request: Request) -> Response:
        """Bring archived records back into default lists."""
        count = services.records_archive(queryset=self.get_queryset(), ids=self._ids(request), archived=False)
        return Response({"count": count})

    @extend_schema(request=FamilyRefreshSerializer, responses={202: SyncRunSerializer})
    @action(detail=False, methods=["post"], required_permission="integrations.refresh_connection")
    def refresh(self, request: Request) -> Response:
        """Queue a pull of this entity family for a connection (incremental, or a complete resync with
        `full_sync`); 202 with the run, followed at /sync-runs/{id}/."""
        serializer = FamilyRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = Connection.objects.filter(pk=serializer.validated_data["connection"]).first()
        if connection is None:
            raise InvalidInput(fields={"connection": ["No such connection."]})
        family = self.endpoint.family
        if family.key not in connection_entity_keys(connection):
            raise InvalidInput(fields={"connection": [f"This ledger has no {family.label.lower()}."]})
        run = services.family_refresh(
            connection=connection,
            family=family,
            full=serializer.validated_data["full_sync"],
            user_id=request.user.pk,
        )
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"], required_permission="view")
    def statistics(self, request: Request) -> Response:
        """Of the filtered list: counts by status; per currency the total, amount due and overdue; by month."""
        queryset = self.filter_queryset(self.get_queryset())
        return Response(services.records_statistics(family=self.endpoint.family, queryset=queryset))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "export_format", OpenApiTypes.STR, enum=["csv", "xlsx"], description="Default csv."
            )
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, (202, "application/json"): OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"], required_permission="export")
    def export(self, request: Request) -> HttpResponseBase:  # type: ignore[override]  # its schema: 202 too
        """The filtered list as CSV or XLSX, streamed; larger exports run in the background and answer
        202 with the export to follow."""
        queryset = self.filter_queryset(self.get_queryset())
        return self.export_made(
            queryset=queryset, export_format=request.query_params.get("export_format", "csv")
        )

    def export_made(self, *, queryset: QuerySet[Any], export_format: str) -> HttpResponseBase:
        query = self.request.query_params.copy()
        query.pop("export_format", None)
        made = exports.export_make(
            endpoint=self.endpoint,
            queryset=queryset,
            export_format=export_format,
            query=query.urlencode(),
            user_id=self.request.user.pk,
        )
        if isinstance(made, ExportFile):
            return export_file_response(made)
        data = ExportJobSerializer(made, context={"request": self.request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


def connection_entity_keys(connection: Connection) -> tuple[str, ...]:
    from integrations.providers import get_provider

    return get_provider(connection.provider).entity_keys


def _viewset(endpoint: Endpoint) -> type[MirrorViewSet]:
    family = endpoint.family
    list_serializer, detail_serializer = serializers_for(family)
    scope = ", ".join(f"{key}={value}" for key, value in endpoint.scope)
    return cast(
        "type[MirrorViewSet]",
        viewset_build(
            endpoint.entity_type,
            base=MirrorViewSet,
            serializer_class=list_serializer,
            detail_serializer_class=detail_serializer,
            filterset_class=FILTERSETS[family.key],
            doc=f"{endpoint.label} mirrored from the connected ledgers" + (f" ({scope})." if scope else "."),
            attributes={"endpoint": endpoint},
            module=__name__,
        ),
    )


VIEWSETS: dict[str, type[MirrorViewSet]] = {key: _viewset(endpoint) for key, endpoint in ENDPOINTS.items()}
