"""The deletions of connections in the admin: read-only records of the background deletion, written by the
deletion task alone."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.admin_display import badge, progress
from integrations.admin.colours import DELETION_COLOURS
from integrations.choices import ConnectionDeletionStatusChoices
from integrations.models import Connection, ConnectionDeletion

DELETION_FIELDS = (
    "connection",
    "provider",
    "tenant_id",
    "status_badge",
    "progress_bar",
    "rows",
    "progress_by_model",
    "revoked",
    "error",
    "requested_by",
    "requested_at",
    "started_at",
    "finished_at",
)


@admin.register(ConnectionDeletion)
class ConnectionDeletionAdmin(admin.ModelAdmin):
    """Read-only: deletion records are written by the deletion task alone."""

    list_display = [
        "connection",
        "provider",
        "status_badge",
        "progress_bar",
        "rows",
        "requested_by",
        "requested_at",
        "finished_at",
        "error_short",
        "revoked",
    ]
    list_filter = ["status", "provider", "revoked"]
    list_select_related = ["requested_by"]
    search_fields = ["connection_name", "tenant_id"]
    readonly_fields = DELETION_FIELDS
    fields = DELETION_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConnectionDeletion]:
        # Whether the connection still exists (to link to it), in the same query as the list.
        return (
            super()
            .get_queryset(request)
            .annotate(connection_exists=Exists(Connection.objects.filter(pk=OuterRef("connection_id"))))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ConnectionDeletion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ConnectionDeletion | None = None) -> bool:
        return False

    @admin.display(description="Connection", ordering="connection_name")
    def connection(self, obj: ConnectionDeletion) -> SafeString | str:
        if getattr(obj, "connection_exists", False):
            url = reverse("admin:integrations_connection_change", args=[obj.connection_id])
            return format_html('<a href="{}">{}</a>', url, obj.connection_name)
        return obj.connection_name

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: ConnectionDeletion) -> SafeString:
        return badge(obj.get_status_display(), DELETION_COLOURS.get(obj.status, "grey"), obj.error)

    @admin.display(description="Progress")
    def progress_bar(self, obj: ConnectionDeletion) -> SafeString:
        # Not counted yet: an indeterminate bar while it runs, nothing while it waits or after a failure.
        running = obj.status == ConnectionDeletionStatusChoices.RUNNING
        return progress(obj.percent, counting="counting rows" if running else "")

    @admin.display(description="Rows deleted")
    def rows(self, obj: ConnectionDeletion) -> str:
        total = "?" if obj.rows_total is None else f"{obj.rows_total:,}"
        return f"{obj.rows_deleted:,} / {total}"

    @admin.display(description="Rows by model")
    def progress_by_model(self, obj: ConnectionDeletion) -> SafeString | str:
        if not obj.progress:
            return "—"
        items = SafeString()
        for label, counts in sorted(obj.progress.items()):
            items += format_html(
                "<li>{}: {} / {}</li>", label, counts.get("deleted", 0), counts.get("total", "?")
            )
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="Error")
    def error_short(self, obj: ConnectionDeletion) -> SafeString | str:
        if not obj.error:
            return ""
        short = obj.error if len(obj.error) <= 80 else f"{obj.error[:79]}…"
        return format_html('<span class="ll-expired" title="{}">{}</span>', obj.error, short)
