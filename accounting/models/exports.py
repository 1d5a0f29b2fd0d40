"""Exports of a filtered entity list that are too large to stream in the request, run in the background."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from accounting.choices import ExportFormatChoices, ExportJobStatusChoices
from core.models import TimeStampedModel


class ExportJob(TimeStampedModel):
    """One background export: which list (endpoint and the query string of its filters and ordering), in
    which format, for whom; its progress, and the file it wrote under `EXPORT_DIR` until it expires.

    The query string is replayed through the endpoint's own filter backends when the job runs, so the file
    holds the rows the API list would have shown at that moment. A running job's worker beats `heartbeat_at`
    with its progress; a job whose heartbeat stopped is marked failed (`accounting.exports.STALE_AFTER`)."""

    endpoint = models.CharField(max_length=40, help_text="The entity type, e.g. invoices.")
    export_format = models.CharField(max_length=8, choices=ExportFormatChoices.choices)
    query = models.TextField(blank=True, help_text="Filters and ordering, as the list's query string.")
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=ExportJobStatusChoices.choices, default=ExportJobStatusChoices.QUEUED
    )
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True, help_text="Relative to EXPORT_DIR.")
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker writing it last showed progress."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When the file is deleted.")

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="exportjob_endpoint"),
            models.Index(fields=["status"], name="exportjob_status"),
            models.Index(fields=["expires_at"], name="exportjob_expires"),
        ]

    def __str__(self) -> str:
        return f"Export #{self.pk} {self.endpoint} {self.export_format} ({self.status})"

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.status == ExportJobStatusChoices.SUCCEEDED else None
        return min(100, int(self.rows_done * 100 / self.rows_total))
