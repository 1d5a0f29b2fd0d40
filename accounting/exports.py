"""Exports of a filtered mirror list, through the one export path of `core.exports`: the API's export
action, the admin's export actions and background exports write the same file (columns and cells: those of
the list serializer, see `core.exports`).

Up to `EXPORT_SYNC_MAX_ROWS` rows the file is made in the request and sent by the caller (CSV streamed as it
is read, XLSX from a temporary file). Which path is taken is decided by a count that stops at the limit,
never a COUNT over the whole list. Above it the export runs in the background (`ExportJob`, 202), writing to
`EXPORT_DIR`, and is downloaded from `/api/v1/exports/{id}/download/` until it expires. A running job beats a
heartbeat with its progress; one whose heartbeat stopped for `STALE_AFTER` (its worker died) is marked
failed. Nothing here makes an HTTP response: the views and admin actions wrap what it returns."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from rest_framework.request import Request

from accounting.api.serializers import serializers_for
from accounting.choices import ExportFormatChoices, ExportJobStatusChoices
from accounting.families import ENDPOINTS, Endpoint, Family
from accounting.models import ExportJob
from core import exports as core_exports
from core.errors import InvalidInput
from core.exports import (
    CONTENT_TYPES,
    INTEGER_COLUMNS,
    TEXT_COLUMNS,
    XLSX_MAX_ROWS,
    XLSX_TOO_LONG,
    ExportFile,
    PlannedColumn,
    cell_of,
    cell_text,
    csv_pieces,
    export_file_make,
    export_file_write,
    xlsx_write,
)
from core.jobs import job_finish, job_heartbeat, job_stale_q, job_start
from core.paginators import rows_more_than
from core.queue import task_enqueue_on_commit

if TYPE_CHECKING:
    from accounting.api.views import MirrorViewSet

__all__ = [
    "CONTENT_TYPES",
    "INTEGER_COLUMNS",
    "TEXT_COLUMNS",
    "XLSX_MAX_ROWS",
    "XLSX_TOO_LONG",
    "ExportFile",
    "PlannedColumn",
    "cell_of",
    "cell_text",
    "csv_pieces",
    "xlsx_write",
]

logger = logging.getLogger(__name__)

# A background export records its progress (and beats its heartbeat) every this many rows.
CHUNK_SIZE = 2000
# A running background export beats its heartbeat at every chunk of rows (well under a second apart); one
# whose heartbeat is older than this lost its worker (killed, out of memory, the machine restarted).
STALE_AFTER = timedelta(minutes=5)
STALE_ERROR = "The export worker stopped; ask for the export again."
# What a background export calls, with the job and the rows written so far, each time it records progress.
ProgressObserver = Callable[[ExportJob, int], None]


def export_format_validate(value: str) -> ExportFormatChoices:
    return ExportFormatChoices(core_exports.export_format_check(value))


def _viewset(endpoint: Endpoint) -> type[MirrorViewSet]:
    # Imported here: the API module imports this one for its export action.
    from accounting.api.views import VIEWSETS

    return VIEWSETS[endpoint.key]


def _list_serializer(family: Family) -> Any:
    return serializers_for(family)[0]


def export_column_plan(endpoint: Endpoint) -> tuple[PlannedColumn, ...]:
    """The endpoint's list serializer's fields, in order, each with the database column it shows."""
    return core_exports.column_plan(_list_serializer(endpoint.family))


def export_columns(endpoint: Endpoint) -> list[str]:
    """The export's columns: the API list's fields, in order."""
    return core_exports.export_columns_of(_list_serializer(endpoint.family))


def export_rows(endpoint: Endpoint, queryset: QuerySet[Any]) -> Iterator[list[Any]]:
    """Each record's cells, in column order (`core.exports.rows_export`)."""
    return core_exports.rows_export(_list_serializer(endpoint.family), queryset)


def export_file_name(endpoint: Endpoint, export_format: str, *, on: Any = None) -> str:
    return core_exports.export_file_name(endpoint.path, export_format, on=on)


def export_make(
    *, endpoint: Endpoint, queryset: QuerySet[Any], export_format: str, query: str, user_id: int | None
) -> ExportFile | ExportJob:
    """An export of the endpoint's filtered list (`query`: its query string): the file itself, or the
    background export that will make it when the list is longer than `EXPORT_SYNC_MAX_ROWS`."""
    chosen = export_format_validate(export_format)
    if rows_more_than(queryset, settings.EXPORT_SYNC_MAX_ROWS):
        if chosen == ExportFormatChoices.XLSX and rows_more_than(queryset, XLSX_MAX_ROWS):
            raise InvalidInput(fields={"export_format": [XLSX_TOO_LONG]})
        return export_job_create(
            endpoint=endpoint,
            export_format=chosen,
            query=query,
            rows_total=None,  # counted exactly by the job, for its progress
            user_id=user_id,
        )
    return export_file_make(
        serializer_class=_list_serializer(endpoint.family),
        queryset=queryset,
        export_format=chosen,
        title=endpoint.label,
        stem=endpoint.path,
    )


# --- Background exports ---------------------------------------------------------------------------------


def export_job_create(
    *, endpoint: Endpoint, export_format: str, query: str, rows_total: int | None, user_id: int | None
) -> ExportJob:
    """Record the export and queue it (after commit); returns the job as it stands once queued."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            endpoint=endpoint.key,
            export_format=export_format,
            query=query,
            rows_total=rows_total,
            requested_by_id=user_id,
        )
        task_enqueue_on_commit("accounting.tasks.export_run", job.pk, task_name=f"export-{job.pk}")
    # Where tasks run on commit (tests, a fast worker), the job may already be done.
    job.refresh_from_db()
    return job


def endpoint_queryset(*, endpoint: Endpoint, query: str) -> QuerySet[Any]:
    """The endpoint's list queryset for a query string: its scope, filters and ordering, through the
    viewset's own filter backends (so an export holds exactly the rows and order of the list)."""
    http_request = HttpRequest()
    http_request.method = "GET"
    http_request.GET = QueryDict(query)
    view = _viewset(endpoint)(
        request=Request(http_request), action="export", args=(), kwargs={}, format_kwarg=None
    )
    return view.filter_queryset(view.get_queryset())


def export_path(job: ExportJob) -> Path:
    return Path(settings.EXPORT_DIR) / job.file_name


class ExportAbandoned(Exception):
    """The job stopped being this worker's while it wrote (declared stale, or deleted): stop writing."""


def export_job_run(*, export_id: int, on_progress: ProgressObserver | None = None) -> ExportJob | None:
    """Write a background export's file, recording progress and a heartbeat every chunk; ends succeeded or
    failed. Must be idempotent: a job that is no longer queued (run twice, or already failed as stale) is
    left as it is, and every later write happens only while the job is still this run's. `on_progress` is
    called before each progress record (a test's pause, a future progress feed)."""
    job = ExportJob.objects.filter(pk=export_id).first()
    if job is None:
        return None
    if not job_start(job, status=ExportJobStatusChoices.RUNNING, only_while=[ExportJobStatusChoices.QUEUED]):
        return job
    endpoint = ENDPOINTS[job.endpoint]
    directory = Path(settings.EXPORT_DIR)
    job.file_name = f"export-{job.pk}-{export_file_name(endpoint, job.export_format, on=job.created_at)}"
    partial = _partial_path(job)
    try:
        queryset = endpoint_queryset(endpoint=endpoint, query=job.query)
        job.rows_total = queryset.count()
        _running_update(job, rows_total=job.rows_total, file_name=job.file_name)
        if job.export_format == ExportFormatChoices.XLSX and job.rows_total > XLSX_MAX_ROWS:
            raise InvalidInput(XLSX_TOO_LONG)
        directory.mkdir(parents=True, exist_ok=True)
        rows = _counted(export_rows(endpoint, queryset), lambda done: _progress(job, done, on_progress))
        with partial.open("wb") as target:
            export_file_write(
                target,
                export_format=job.export_format,
                title=endpoint.label,
                columns=export_columns(endpoint),
                rows=rows,
            )
        partial.replace(export_path(job))
        finished = timezone.now()
        # Downloads ask for a succeeded job: a file whose job was failed meanwhile is never served.
        succeeded = job_finish(
            job,
            status=ExportJobStatusChoices.SUCCEEDED,
            now=finished,
            only_while=[ExportJobStatusChoices.RUNNING],
            values={
                "heartbeat_at": finished,
                "rows_done": job.rows_done,
                "file_size": export_path(job).stat().st_size,
                "expires_at": finished + timedelta(hours=settings.EXPORT_KEEP_HOURS),
            },
        )
        if not succeeded:
            raise ExportAbandoned(job.pk)
    except ExportAbandoned:
        logger.warning(
            "Export abandoned: no longer running", extra={"export": job.pk, "entity": job.endpoint}
        )
        _files_delete(job)
        return ExportJob.objects.filter(pk=export_id).first()
    except Exception as exc:
        logger.exception("Export failed", extra={"export": job.pk, "entity": job.endpoint})
        _files_delete(job)
        job_finish(
            job,
            status=ExportJobStatusChoices.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            only_while=[ExportJobStatusChoices.RUNNING],
            values={"file_name": ""},
        )
        return ExportJob.objects.filter(pk=export_id).first()
    job.refresh_from_db()
    logger.info("Export written", extra={"export": job.pk, "entity": job.endpoint, "rows": job.rows_done})
    return job


def _partial_path(job: ExportJob) -> Path:
    return Path(settings.EXPORT_DIR) / f"{job.file_name}.partial"


def _files_delete(job: ExportJob) -> None:
    """Delete what a run that did not succeed wrote (the file being written, or written in full)."""
    if not job.file_name:
        return
    for path in (_partial_path(job), export_path(job)):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _running_update(job: ExportJob, *, at: datetime | None = None, **values: Any) -> None:
    """Write to the job, beating its heartbeat, only while it is still running; otherwise stop the run."""
    if not job_heartbeat(job, now=at, only_while=[ExportJobStatusChoices.RUNNING], values=values):
        raise ExportAbandoned(job.pk)


def _counted(rows: Iterator[list[Any]], on_chunk: Callable[[int], None]) -> Iterator[list[Any]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % CHUNK_SIZE == 0:
            on_chunk(done)
    on_chunk(done)


def _progress(job: ExportJob, done: int, on_progress: ProgressObserver | None) -> None:
    if on_progress is not None:
        on_progress(job, done)
    logger.debug("Export progress", extra={"export": job.pk, "entity": job.endpoint, "rows": done})
    job.rows_done = done
    _running_update(job, rows_done=done)


def export_jobs_fail_stale() -> int:
    """Mark failed the running exports whose heartbeat stopped `STALE_AFTER` ago (their worker died: killed,
    out of memory, the machine restarted), deleting what they had written; returns how many. Their worker, if
    it ever comes back, stops at its next heartbeat. Called by the periodic purge, and before the API and
    the admin show exports, so a client polling a job sees it fail within minutes."""
    now = timezone.now()
    cutoff = now - STALE_AFTER
    # Jobs started before heartbeats existed: their last change is their last sign of life.
    stale = ExportJob.objects.filter(
        job_stale_q(before=cutoff, fallback="updated_at"),
        status=ExportJobStatusChoices.RUNNING,
    )
    failed = 0
    for job in stale.only("pk", "endpoint", "file_name"):
        # Again for this job alone, in one statement: it may have beaten, or ended, in the meantime.
        marked = stale.filter(pk=job.pk).update(
            status=ExportJobStatusChoices.FAILED,
            error=STALE_ERROR,
            file_name="",
            finished_at=now,
            updated_at=now,
        )
        if not marked:
            continue
        failed += 1
        logger.warning("Export worker stopped", extra={"export": job.pk, "entity": job.endpoint})
        if job.file_name:
            _files_delete(job)
    return failed


def exports_purge() -> int:
    """Fail the exports whose worker stopped, then delete the files of expired exports and their records;
    returns how many were deleted."""
    export_jobs_fail_stale()
    expired = list(ExportJob.objects.filter(expires_at__lt=timezone.now()))
    for job in expired:
        if job.file_name:
            with contextlib.suppress(OSError):
                export_path(job).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[job.pk for job in expired]).delete()
    return len(expired)
