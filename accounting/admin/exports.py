"""The admin of background exports: read-only (a job is written by its worker alone), with each job's
progress and, while its file is kept, a link that downloads it through the API (staff only, as the admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounting import exports
from accounting.api.exports import export_ready
from accounting.choices import ExportJobStatusChoices
from accounting.families import ENDPOINTS
from accounting.models import ExportJob
from core.admin_display import badge, progress

STATUS_COLOURS: dict[str, str] = {
    ExportJobStatusChoices.QUEUED: "grey",
    ExportJobStatusChoices.RUNNING: "grey",
    ExportJobStatusChoices.SUCCEEDED: "green",
    ExportJobStatusChoices.FAILED: "red",
}


class EndpointListFilter(admin.SimpleListFilter):
    """The entity types, from their declaration (no DISTINCT over the jobs)."""

    title = "entity"
    parameter_name = "endpoint"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(endpoint.key, endpoint.label) for endpoint in ENDPOINTS.values()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(endpoint=self.value()) if self.value() else queryset


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "endpoint",
        "export_format",
        "status_badge",
        "progress_bar",
        "rows",
        "requested_by",
        "created_at",
        "expires_at",
        "download",
    ]
    list_filter = ["status", "export_format", EndpointListFilter]
    list_select_related = ["requested_by"]
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The periodic purge deletes expired jobs with their files; a row deleted here would leave its file.
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A job whose worker died reads "running" until the periodic purge: fail it before listing.
        exports.export_jobs_fail_stale()
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        exports.export_jobs_fail_stale()
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: ExportJob) -> SafeString:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "grey"), obj.error)

    @admin.display(description="Progress")
    def progress_bar(self, obj: ExportJob) -> SafeString:
        return progress(obj.percent)

    @admin.display(description="Rows")
    def rows(self, obj: ExportJob) -> str:
        if obj.rows_total is None:
            return f"{obj.rows_done:,}"
        return f"{obj.rows_done:,} / {obj.rows_total:,}"

    @admin.display(description="File")
    def download(self, obj: ExportJob) -> SafeString | str:
        if not export_ready(obj) or not obj.file_name:
            return ""
        return format_html(
            '<a href="{}">Download {}</a>',
            reverse("v1:export-download", args=[obj.pk]),
            obj.get_export_format_display(),
        )
