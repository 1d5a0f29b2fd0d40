"""Background exports of entity lists: their progress, and the file once written.

An entity's `export/` action answers 202 with one of these when its filtered list has more than
`EXPORT_SYNC_MAX_ROWS` rows (see `accounting.exports` for the columns and how cells are written)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request

from accounting import exports
from accounting.choices import ExportJobStatusChoices
from accounting.families import ENDPOINTS
from accounting.models import ExportJob
from core.api.viewsets import BaseReadOnlyModelViewSet
from core.errors import Conflict, NotFound


class ExportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.get_username", read_only=True, default=None)

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "url",
            "endpoint",
            "export_format",
            "query",
            "status",
            "rows_total",
            "rows_done",
            "percent",
            "download_url",
            "file_size",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, job: ExportJob) -> str:
        return self._absolute(reverse("v1:export-detail", args=[job.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, job: ExportJob) -> str | None:
        """Set once the file is ready, until it expires."""
        if not export_ready(job):
            return None
        return self._absolute(reverse("v1:export-download", args=[job.pk]))


def export_ready(job: ExportJob) -> bool:
    return job.status == ExportJobStatusChoices.SUCCEEDED and (
        job.expires_at is None or job.expires_at > timezone.now()
    )


class ExportViewSet(BaseReadOnlyModelViewSet):
    """Background exports of entity lists, newest first: status, progress and the download link."""

    queryset = ExportJob.objects.select_related("requested_by")
    serializer_class = ExportJobSerializer
    filterset_fields = ["endpoint", "export_format", "status"]
    ordering_fields = ["created_at", "finished_at", "status", "endpoint"]
    ordering = ("-created_at", "-pk")
    lookup_value_regex = r"\d+"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A job whose worker died would read "running" until the hourly purge: fail it before answering.
        exports.export_jobs_fail_stale()

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], required_permission="view")
    def download(self, request: Request, pk: str | None = None) -> Any:
        """The export's file (CSV or XLSX); 409 while it is queued or running, or if it failed."""
        job = self.get_object()
        if job.status != ExportJobStatusChoices.SUCCEEDED:
            raise Conflict(
                "The export is not ready." if not job.error else "The export failed.",
                code="export_not_ready",
                details={"status": job.status, "percent": job.percent, "error": job.error},
            )
        path = exports.export_path(job)
        if not export_ready(job) or not job.file_name or not path.is_file():
            raise NotFound("The export's file has expired; export the list again.", code="export_expired")
        endpoint = ENDPOINTS[job.endpoint]
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=exports.export_file_name(endpoint, job.export_format, on=job.created_at),
            content_type=exports.CONTENT_TYPES[exports.export_format_validate(job.export_format)],
        )
