"""Exports of a filtered entity list as CSV or Excel (XLSX).

Columns: exactly the fields of the endpoint's API list, in the same order (`id`, `provider`, the record's
columns, `linked`); they change only when the list's shape does.

Cells: each holds the text of the value the API list shows in its JSON, rendered by the same serializer:
amounts as the API's decimal strings (`"1250.0000"`, never a float), dates and times in ISO 8601, booleans
`true`/`false`, null as an empty cell, JSON lists and objects as compact JSON text. In XLSX, integer
fields (`id`, references to other records) are numbers and everything else is text, so values are the
API's to the character; a text that starts with `=` stays text, never a formula. CSV is UTF-8 with a byte
order mark (Excel reads accents right; read it with the `utf-8-sig` codec) and CRLF line ends.

Up to `EXPORT_SYNC_MAX_ROWS` rows the file is the response: CSV streamed as it is read, XLSX written
row by row to a temporary file and then sent; either way memory stays bounded, however long the list.
Above that the export runs in the background (`ExportJob`, 202), writing to `EXPORT_DIR`, and is
downloaded from `/api/v1/exports/{id}/download/` until it expires."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from accounting.choices import ExportFormatChoices, ExportJobStatusChoices
from accounting.families import ENDPOINTS, Endpoint
from accounting.models import ExportJob
from core.errors import InvalidInput
from core.queue import task_enqueue_on_commit

if TYPE_CHECKING:
    from accounting.api.serializers import MirrorSerializer
    from accounting.api.views import MirrorViewSet

logger = logging.getLogger(__name__)

# Records read from the database at a time (a server-side cursor on PostgreSQL), and how often a
# background export records its progress.
CHUNK_SIZE = 2000
# Rows of CSV gathered into one piece of the streamed response.
CSV_ROWS_PER_PIECE = 500
# Excel's limit, less the header row.
XLSX_MAX_ROWS = 1_048_575
CONTENT_TYPES = {
    ExportFormatChoices.CSV: "text/csv; charset=utf-8",
    ExportFormatChoices.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_format_validate(value: str) -> ExportFormatChoices:
    try:
        return ExportFormatChoices(value)
    except ValueError:
        allowed = ", ".join(ExportFormatChoices.values)
        raise InvalidInput(
            fields={"export_format": [f"Unknown format {value!r}. Allowed: {allowed}."]}
        ) from None


def _viewset(endpoint: Endpoint) -> type[MirrorViewSet]:
    # Imported here: the API module imports this one for its export action.
    from accounting.api.views import VIEWSETS

    return VIEWSETS[endpoint.key]


def _list_serializer(endpoint: Endpoint) -> type[MirrorSerializer]:
    return cast("type[MirrorSerializer]", _viewset(endpoint).serializer_class)


def export_columns(endpoint: Endpoint) -> list[str]:
    """The export's columns: the API list's fields, in order."""
    return list(_list_serializer(endpoint)().fields)


def export_rows(endpoint: Endpoint, queryset: QuerySet[Any]) -> Iterator[list[Any]]:
    """Each record as the API list renders it (its JSON values, in column order), read in chunks."""
    serializer = _list_serializer(endpoint)(context={})
    render = serializer.to_representation
    for record in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield list(render(record).values())


def cell_text(value: Any) -> str:
    """The text of one JSON value of the API list, as a CSV cell holds it."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def csv_pieces(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """The CSV file in pieces of a few hundred rows, for streaming or writing to disk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell_text(value) for value in row])
        if count % CSV_ROWS_PER_PIECE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx_cell(worksheet: Any, value: Any) -> Any:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    text = cell_text(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        # Control characters Excel cannot hold (a ledger may keep them in free text) are dropped.
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith("=") or text in ERROR_CODES:
        # openpyxl would take these for a formula or an error value; the API's value is text.
        cell = WriteOnlyCell(worksheet, value=text)
        cell.data_type = "s"
        return cell
    return text


def xlsx_write(target: IO[bytes], *, title: str, columns: list[str], rows: Iterable[list[Any]]) -> None:
    """Write the XLSX file to `target`, streaming rows to disk as they come (openpyxl's write-only mode)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=title[:31])
    worksheet.append(columns)
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    workbook.save(target)


def export_file_name(endpoint: Endpoint, export_format: str, *, on: Any = None) -> str:
    day = timezone.localdate(on) if on is not None else timezone.localdate()
    return f"{endpoint.path}-{day.isoformat()}.{export_format}"


def export_respond(
    *, request: Request, endpoint: Endpoint, queryset: QuerySet[Any], export_format: str
) -> HttpResponseBase:
    """The export action's response: the file itself, or 202 with the background export that will make it."""
    chosen = export_format_validate(export_format)
    rows_total = queryset.count()
    if chosen == ExportFormatChoices.XLSX and rows_total > XLSX_MAX_ROWS:
        raise InvalidInput(
            fields={
                "export_format": [f"Excel holds at most {XLSX_MAX_ROWS:,} rows; export CSV or filter more."]
            }
        )
    if rows_total > settings.EXPORT_SYNC_MAX_ROWS:
        query = request.query_params.copy()
        query.pop("export_format", None)
        job = export_job_create(
            endpoint=endpoint,
            export_format=chosen,
            query=query.urlencode(),
            rows_total=rows_total,
            user_id=request.user.pk,
        )
        from accounting.api.exports import ExportJobSerializer  # the API module imports this one

        data = ExportJobSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
    columns = export_columns(endpoint)
    rows = export_rows(endpoint, queryset)
    filename = export_file_name(endpoint, chosen)
    if chosen == ExportFormatChoices.CSV:
        response = StreamingHttpResponse(csv_pieces(columns, rows), content_type=CONTENT_TYPES[chosen])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    target = tempfile.TemporaryFile()  # noqa: SIM115  # FileResponse closes it, which deletes it
    try:
        xlsx_write(target, title=endpoint.label, columns=columns, rows=rows)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return FileResponse(target, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[chosen])


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


def export_job_run(*, export_id: int) -> ExportJob | None:
    """Write a background export's file, recording progress every chunk; ends succeeded or failed."""
    job = ExportJob.objects.filter(pk=export_id).first()
    if job is None or job.status != ExportJobStatusChoices.QUEUED:
        return job
    job.status = ExportJobStatusChoices.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at", "updated_at"])
    endpoint = ENDPOINTS[job.endpoint]
    directory = Path(settings.EXPORT_DIR)
    job.file_name = f"export-{job.pk}-{export_file_name(endpoint, job.export_format, on=job.created_at)}"
    partial = directory / f"{job.file_name}.partial"
    try:
        queryset = endpoint_queryset(endpoint=endpoint, query=job.query)
        job.rows_total = queryset.count()
        job.save(update_fields=["rows_total", "file_name", "updated_at"])
        directory.mkdir(parents=True, exist_ok=True)
        rows = _counted(export_rows(endpoint, queryset), lambda done: _progress(job, done))
        columns = export_columns(endpoint)
        with partial.open("wb") as target:
            if job.export_format == ExportFormatChoices.XLSX:
                xlsx_write(target, title=endpoint.label, columns=columns, rows=rows)
            else:
                for piece in csv_pieces(columns, rows):
                    target.write(piece)
        partial.replace(export_path(job))
    except Exception as exc:
        logger.exception("Export failed", extra={"export": job.pk, "entity": job.endpoint})
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        job.status = ExportJobStatusChoices.FAILED
        job.error = f"{type(exc).__name__}: {exc}"
        job.file_name = ""
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "file_name", "finished_at", "updated_at"])
        return job
    job.status = ExportJobStatusChoices.SUCCEEDED
    job.file_size = export_path(job).stat().st_size
    job.finished_at = timezone.now()
    job.expires_at = job.finished_at + timedelta(hours=settings.EXPORT_KEEP_HOURS)
    job.save(update_fields=["status", "rows_done", "file_size", "finished_at", "expires_at", "updated_at"])
    logger.info("Export written", extra={"export": job.pk, "entity": job.endpoint, "rows": job.rows_done})
    return job


def _counted(rows: Iterator[list[Any]], on_chunk: Callable[[int], None]) -> Iterator[list[Any]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % CHUNK_SIZE == 0:
            on_chunk(done)
    on_chunk(done)


def _progress(job: ExportJob, done: int) -> None:
    job.rows_done = done
    ExportJob.objects.filter(pk=job.pk).update(rows_done=done, updated_at=timezone.now())


def exports_purge() -> int:
    """Delete the files of expired exports and their records; returns how many."""
    expired = list(ExportJob.objects.filter(expires_at__lt=timezone.now()))
    for job in expired:
        if job.file_name:
            with contextlib.suppress(OSError):
                export_path(job).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[job.pk for job in expired]).delete()
    return len(expired)
