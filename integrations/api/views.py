"""Connections API: thin actions, each validating input, calling one service and serialising its result."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import BaseGenericViewSet, BaseReadOnlyModelViewSet
from core.errors import InvalidInput
from integrations import services, sync
from integrations.api.serializers import (
    AuthorizeResponseSerializer,
    AuthorizeSerializer,
    ConnectionDeletionSerializer,
    ConnectionSerializer,
    ConnectionUpdateSerializer,
    CustomConnectionSerializer,
    DashboardSerializer,
    HealthResultSerializer,
    ReconnectSerializer,
    SyncRequestSerializer,
    SyncRunSerializer,
    SyncStateSerializer,
)
from integrations.dashboard import dashboard_get
from integrations.filtersets import ConnectionDeletionFilterSet, ConnectionFilterSet, SyncRunFilterSet
from integrations.models import Connection, ConnectionDeletion, SyncRun, SyncState
from integrations.views import oauth_browser_bind, oauth_redirect_uri, return_url_allowed


def _return_url(request: Request, url: str) -> str:
    if not return_url_allowed(request, url):
        raise InvalidInput(
            fields={"return_url": ["Must be a path on this site or a URL on an allowed host."]}
        )
    return url


class ConnectionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, BaseGenericViewSet
):
    """Connections to Xero organisations and QuickBooks companies."""

    queryset = Connection.objects.select_related("credential", "created_by")
    serializer_class = ConnectionSerializer
    filterset_class = ConnectionFilterSet
    ordering_fields = ["display_name", "provider", "status", "health", "created_at", "health_checked_at"]
    ordering = ("display_name", "pk")
    lookup_value_regex = r"\d+"

    @extend_schema(request=ConnectionUpdateSerializer, responses=ConnectionSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Rename, merge settings (only the keys sent change), or set the app used for the next reconnect."""
        serializer = ConnectionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        connection = services.connection_update(
            connection=self.get_object(),
            display_name=data.get("display_name"),
            settings_patch=data.get("settings"),
            app_client_id=data.get("app_client_id"),
            app_client_secret=data.get("app_client_secret"),
        )
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(responses={202: ConnectionDeletionSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete the connection and all its mirrored data in the background (revoking access first).
        Answers 202 with the deletion record; follow it at /connections/deletions/{id}/."""
        deletion = services.connection_delete_request(connection=self.get_object(), user_id=request.user.pk)
        return Response(ConnectionDeletionSerializer(deletion).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=AuthorizeSerializer, responses=AuthorizeResponseSerializer)
    @action(detail=False, methods=["post"], required_permission="integrations.connect_connection")
    def authorize(self, request: Request) -> Response:
        """Start connecting: the ledger's authorize URL to send the user's browser to (single-use state,
        valid 15 minutes, bound to you)."""
        serializer = AuthorizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        start = services.oauth_authorize_start(
            provider_key=data["provider"],
            user_id=request.user.pk,
            redirect_uri=oauth_redirect_uri(request),
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            return_url=_return_url(request, data["return_url"]),
        )
        return oauth_browser_bind(request, Response(AuthorizeResponseSerializer(start).data), start)

    @extend_schema(request=ReconnectSerializer, responses=AuthorizeResponseSerializer)
    @action(detail=True, methods=["post"], required_permission="integrations.connect_connection")
    def reconnect(self, request: Request, pk: str | None = None) -> Response:
        """Authorise this connection again (same id and data, new tokens)."""
        serializer = ReconnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        start = services.oauth_authorize_start(
            provider_key="",
            user_id=request.user.pk,
            redirect_uri=oauth_redirect_uri(request),
            reconnect=self.get_object(),
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            return_url=_return_url(request, data["return_url"]),
        )
        return oauth_browser_bind(request, Response(AuthorizeResponseSerializer(start).data), start)

    @extend_schema(request=CustomConnectionSerializer, responses={201: ConnectionSerializer})
    @action(detail=False, methods=["post"], required_permission="integrations.connect_connection")
    def custom(self, request: Request) -> Response:
        """Create a connection from a Xero custom connection's client id and secret."""
        serializer = CustomConnectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        connection = services.connection_custom_create(
            provider_key=data["provider"],
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            display_name=data["display_name"],
            user_id=request.user.pk,
        )
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=HealthResultSerializer)
    @action(detail=True, methods=["post"], required_permission="integrations.refresh_connection")
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Make one cheap real call to the ledger: ok, latency, and the error if it failed."""
        result = services.connection_test(connection=self.get_object())
        return Response(HealthResultSerializer(result).data)

    @extend_schema(request=None, responses=ConnectionSerializer)
    @action(detail=True, methods=["post"], required_permission="integrations.disconnect_connection")
    def disconnect(self, request: Request, pk: str | None = None) -> Response:
        """Revoke Ledgerlink's access at the ledger; the mirrored data stays."""
        connection = services.connection_disconnect(connection=self.get_object())
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(request=SyncRequestSerializer, responses={202: SyncRunSerializer(many=True)})
    @action(detail=True, methods=["post"], required_permission="integrations.refresh_connection")
    def refresh(self, request: Request, pk: str | None = None) -> Response:
        """Queue a pull of the connection's entity families now: incremental by default, a complete
        resync with `full_sync`. Answers 202 with one run per family (a family already syncing returns
        the run in progress); follow them at /sync-runs/{id}/."""
        serializer = SyncRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        runs = sync.sync_request(
            connection=self.get_object(),
            entities=data.get("entities"),
            full=data["full_sync"],
            user_id=request.user.pk,
        )
        return Response(SyncRunSerializer(runs, many=True).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=SyncStateSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="sync-states", required_permission="view")
    def sync_states(self, request: Request, pk: str | None = None) -> Response:
        """Where each entity family of the connection stands: state, last success, next run."""
        states = SyncState.objects.filter(connection=self.get_object()).order_by("entity")
        return Response(SyncStateSerializer(states, many=True).data)


class SyncRunViewSet(BaseReadOnlyModelViewSet):
    """Sync runs: every pull of one entity family of one connection, with counts, progress and errors."""

    queryset = SyncRun.objects.all()
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilterSet
    ordering_fields = ["queued_at", "started_at", "finished_at", "status", "entity", "api_calls", "fetched"]
    ordering = ("-queued_at", "-pk")


class ConnectionDeletionViewSet(BaseReadOnlyModelViewSet):
    """Deletions of connections, with progress."""

    queryset = ConnectionDeletion.objects.select_related("requested_by")
    serializer_class = ConnectionDeletionSerializer
    filterset_class = ConnectionDeletionFilterSet
    ordering_fields = ["requested_at", "status"]
    ordering = ("-requested_at", "-pk")


class DashboardView(APIView):
    """Every connection at a glance: per-family sync state and records, health, today's API quota, runs
    of the last hour and day; the task queue's depth and the database's latency; runs per hour over the
    last 24 hours and records by family, for charts."""

    required_permission = "integrations.view_connection"

    @extend_schema(responses=DashboardSerializer)
    def get(self, request: Request) -> Response:
        return Response(DashboardSerializer(dashboard_get()).data)
