"""Admin pages of sync runs and per-family sync states: read-only, written by the pull engine alone."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.admin_display import badge, progress
from integrations.admin.colours import RUN_COLOURS, STATE_COLOURS
from integrations.choices import SyncRunStatusChoices
from integrations.models import SyncRun, SyncState

# Runs whose progress still moves; a page showing one reloads itself every REFRESH_SECONDS (a meta refresh in
# templates/admin/integrations/syncrun/: no script, nothing to load).
LIVE_STATUSES = frozenset(
    {SyncRunStatusChoices.QUEUED, SyncRunStatusChoices.RUNNING, SyncRunStatusChoices.WAITING}
)
REFRESH_SECONDS = 5


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(_ReadOnly):
    list_display = [
        "id",
        "connection",
        "entity",
        "mode",
        "trigger",
        "status_badge",
        "progress_bar",
        "api_calls",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "queued_at",
        "duration",
    ]
    list_filter = ["status", "mode", "trigger", "entity", "error_kind", "connection__provider"]
    list_select_related = ["connection"]
    search_fields = ["error", "connection__display_name"]
    date_hierarchy = "queued_at"
    # No full-table count on every page of a table that grows with every run.
    show_full_result_count = False
    readonly_fields = ["log_pretty"]
    exclude = ["log"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            runs = context["cl"].result_list
            context["refresh_seconds"] = (
                REFRESH_SECONDS if any(r.status in LIVE_STATUSES for r in runs) else 0
            )
        return response

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: SyncRun | None = None,
    ) -> HttpResponse:
        context["refresh_seconds"] = REFRESH_SECONDS if obj is not None and obj.status in LIVE_STATUSES else 0
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: SyncRun) -> SafeString:
        return badge(obj.get_status_display(), RUN_COLOURS.get(obj.status, "grey"), obj.error)

    @admin.display(description="Progress")
    def progress_bar(self, obj: SyncRun) -> SafeString:
        running = obj.status == SyncRunStatusChoices.RUNNING
        return progress(obj.percent, counting=f"{obj.pages} pages" if running else "")

    @admin.display(description="Took")
    def duration(self, obj: SyncRun) -> str:
        seconds = obj.duration_seconds
        return "" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="Log")
    def log_pretty(self, obj: SyncRun) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.log, indent=2))


@admin.register(SyncState)
class SyncStateAdmin(_ReadOnly):
    list_display = [
        "connection",
        "entity",
        "state_badge",
        "records",
        "last_success_at",
        "last_failure_at",
        "next_run_at",
        "cursor",
    ]
    list_filter = ["state", "entity", "connection__provider"]
    list_select_related = ["connection"]
    search_fields = ["connection__display_name", "entity"]

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: SyncState) -> SafeString:
        return badge(obj.get_state_display(), STATE_COLOURS.get(obj.state, "grey"), obj.state_reason)
