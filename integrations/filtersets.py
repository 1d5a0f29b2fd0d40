from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from core.filtersets import BaseFilterSet
from integrations.models import Connection, ConnectionDeletion, SyncRun


class ConnectionFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label="Search display name, tenant name or tenant id")

    class Meta:
        model = Connection
        fields = [
            "provider",
            "status",
            "health",
            "base_currency",
            "tenant_id",
            "created_at",
            "health_checked_at",
        ]

    def search(self, queryset: QuerySet[Connection], name: str, value: str) -> QuerySet[Connection]:
        return queryset.filter(
            Q(display_name__icontains=value) | Q(tenant_name__icontains=value) | Q(tenant_id__iexact=value)
        )


class ConnectionDeletionFilterSet(BaseFilterSet):
    class Meta:
        model = ConnectionDeletion
        fields = ["connection_id", "provider", "status", "requested_at"]


class SyncRunFilterSet(BaseFilterSet):
    class Meta:
        model = SyncRun
        fields = [
            "connection",
            "entity",
            "mode",
            "trigger",
            "status",
            "error_kind",
            "queued_at",
            "finished_at",
        ]
