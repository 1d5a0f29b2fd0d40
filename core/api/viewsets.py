"""The one base for every API viewset: concrete viewsets are declarations (queryset, serializer_class,
filterset_class). Authentication, per-action permissions (`core.api.permissions`), pagination, strict
filtering and ordering come from settings.REST_FRAMEWORK and are enforced here once."""

from __future__ import annotations

from typing import ClassVar

from rest_framework import mixins, viewsets

from core.api.filters import StrictFilterBackend, StrictOrderingFilter
from core.api.pagination import PageNumberPagination
from core.api.permissions import ActionPermission


class BaseGenericViewSet(viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    # What an action beyond list/retrieve/create/update/destroy needs: set per action with
    # `@action(..., required_permission=...)` (see core.api.permissions).
    required_permission: ClassVar[str | None] = None
    pagination_class = PageNumberPagination
    filter_backends = [StrictFilterBackend, StrictOrderingFilter]
    # Newest first unless the client orders otherwise; pk keeps paging stable.
    ordering: ClassVar[tuple[str, ...]] = ("-pk",)
    # Query parameters a subclass's own actions read, so the strict filter backend accepts them.
    extra_query_params: ClassVar[tuple[str, ...]] = ()


class BaseModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    BaseGenericViewSet,
):
    """Full create/read/update/delete over one model."""


class BaseReadOnlyModelViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, BaseGenericViewSet):
    """List and retrieve only: for records that are written by Ledgerlink itself (mirrors, runs)."""


class BaseReadDeleteModelViewSet(
    mixins.RetrieveModelMixin, mixins.DestroyModelMixin, mixins.ListModelMixin, BaseGenericViewSet
):
    """List, retrieve and delete: for mirror records that a sync, not a client, creates."""
