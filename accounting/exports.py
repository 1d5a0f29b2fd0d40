"""Exports of a filtered entity list as CSV or Excel (XLSX).

Columns: exactly the fields of the endpoint's API list, in the same order (`id`, `provider`, the record's
columns, `linked`); they change only when the list's shape does.

Cells: each holds the text of the value the API list shows in its JSON, rendered by the same serializer:
amounts as the API's decimal strings (`"1250.0000"`, never a float), dates and times in ISO 8601, booleans
`true`/`false`, null as an empty cell, JSON lists and objects as compact JSON text. In XLSX, integer
fields (`id`, references to other records) are numbers and everything else is text, so values are the
API's to the character; a text that starts with `=` stays text, never a formula. CSV is UTF-8 with a byte
order mark (Excel reads accents right; read it with the `utf-8-sig` codec) and CRLF line ends.

Rows are read as plain column values (`values_list`: the columns shown, and the connection's provider by a
join; never the raw payload) and each cell is rendered by a function made once per export from the list
serializer's field for that column, which gives exactly the text `to_representation` gives (tested against
the serializer for every kind of value), at several times its speed.

Up to `EXPORT_SYNC_MAX_ROWS` rows the file is the response: CSV streamed as it is read, XLSX written
row by row to a temporary file and then sent (openpyxl writes the workbook; the rows are streamed into its
sheet as the XML openpyxl writes for them); either way memory stays bounded, however long the list.
Which path is taken is decided by a count that stops at the limit, never a COUNT over the whole list.
Above it the export runs in the background (`ExportJob`, 202), writing to `EXPORT_DIR`, and is
downloaded from `/api/v1/exports/{id}/download/` until it expires. A running job beats a heartbeat with its
progress; one whose heartbeat stopped for `STALE_AFTER` (its worker died) is marked failed."""

from __future__ import annotations

import contextlib
import csv
import decimal
import functools
import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from rest_framework import ISO_8601, serializers, status
from rest_framework.relations import PrimaryKeyRelatedField, RelatedField
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

from accounting.choices import ExportFormatChoices, ExportJobStatusChoices
from accounting.families import ENDPOINTS, Endpoint
from accounting.models import ExportJob
from core.errors import InvalidInput
from core.paginators import rows_more_than
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
XLSX_TOO_LONG = f"Excel holds at most {XLSX_MAX_ROWS:,} rows; export CSV or filter more."
# A running background export beats its heartbeat at every chunk of rows (well under a second apart); one
# whose heartbeat is older than this lost its worker (killed, out of memory, the machine restarted).
STALE_AFTER = timedelta(minutes=5)
STALE_ERROR = "The export worker stopped; ask for the export again."
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


def export_columns(endpoint: Endpoint) -> list[str]:
    """The export's columns: the API list's fields, in order."""
    return [column.name for column in _column_plan(endpoint)]


# --- Rendering rows -------------------------------------------------------------------------------------

# The list serializer's method fields, as (the column read, what the method makes of it): a method takes a
# record, and an export reads no records. A method field missing here fails the first export loudly.
METHOD_COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "linked": ("link_object_id", bool),  # MirrorSerializer.get_linked
}
# Database columns whose values come back as text (or None), and as integers (or None).
TEXT_COLUMNS = frozenset({"CharField", "TextField"})
INTEGER_COLUMNS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)
# BigIntegerField (for ids) is newer than the type stubs.
INTEGER_FIELDS = (serializers.IntegerField, getattr(serializers, "BigIntegerField", serializers.IntegerField))


@dataclass(frozen=True)
class PlannedColumn:
    name: str
    # What `values_list` reads for it ("connection__provider" for the serializer's "connection.provider").
    path: str
    field: serializers.Field
    # The database column that path ends at (for a foreign key, the key it holds).
    stored: str


@functools.cache
def _column_plan(endpoint: Endpoint) -> tuple[PlannedColumn, ...]:
    """The fields of the endpoint's list serializer, in order, each with the database column it shows."""
    serializer = cast("type[MirrorSerializer]", _viewset(endpoint).serializer_class)(context={})
    plan = []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.SerializerMethodField):
            if name not in METHOD_COLUMNS:
                raise ImproperlyConfigured(f"Export column {endpoint.key}.{name}: add it to METHOD_COLUMNS.")
            path = METHOD_COLUMNS[name][0]
        elif isinstance(field, RelatedField) and not isinstance(field, PrimaryKeyRelatedField):
            raise ImproperlyConfigured(f"Export column {endpoint.key}.{name}: only ids of related records.")
        else:
            path = "__".join(field.source_attrs)
        plan.append(PlannedColumn(name, path, field, _stored_type(endpoint.family.model, path)))
    return tuple(plan)


def _stored_type(model: type[models.Model], path: str) -> str:
    field: Any = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    if field.is_relation:
        field = field.target_field
    return str(field.get_internal_type())


def cell_of(value: Any) -> Any:
    """A JSON value of the API list as an export cell: None stays None (an empty cell), an integer stays a
    number (Excel shows ids as numbers), anything else becomes its text (`cell_text`)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return cell_text(value)


def _cell_renderer(column: PlannedColumn) -> Callable[[Any], Any] | None:
    """A column's database value -> its cell, exactly `cell_of(field.to_representation(value))` (None for
    None, as the serializer gives), made once per export. None when the database value already is its cell
    (text and id columns: about half of them), so rows skip the column. The common field types are
    inlined, with their settings read here; anything else, or a value of an unexpected type, goes through
    the field's own `to_representation`."""
    field = column.field
    represent = field.to_representation

    def generic(value: Any) -> Any:
        return None if value is None else cell_of(represent(value))

    if isinstance(field, serializers.SerializerMethodField):
        method = METHOD_COLUMNS[column.name][1]
        return lambda value: cell_of(method(value))
    if isinstance(field, PrimaryKeyRelatedField):
        # The serializer hands the field the related id (its pk-only optimisation); so does values_list.
        pk_field: Any = field.pk_field
        if pk_field is None:
            return None if column.stored in INTEGER_COLUMNS else cell_of
        return lambda value: None if value is None else cell_of(pk_field.to_representation(value))
    kind = type(field)
    if kind is serializers.CharField and column.stored in TEXT_COLUMNS:
        return None
    if kind is serializers.ChoiceField and column.stored in TEXT_COLUMNS:
        choices = cast("serializers.ChoiceField", field).choice_strings_to_values
        if all(type(value) is str and value == key for key, value in choices.items()):
            return None
    if kind in INTEGER_FIELDS and represent(1) == 1 and column.stored in INTEGER_COLUMNS:
        return None  # not a BigIntegerField that sends its numbers as strings
    if kind is serializers.BooleanField:
        return lambda value: "true" if value is True else "false" if value is False else generic(value)
    if kind is serializers.DecimalField:
        decimal_field = cast("serializers.DecimalField", field)
        if (
            getattr(decimal_field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            and not decimal_field.localize
            and not decimal_field.normalize_output
            and decimal_field.decimal_places is not None
        ):
            # DecimalField.quantize, with its context made once rather than per value.
            exponent = Decimal(".1") ** decimal_field.decimal_places
            context = decimal.getcontext().copy()
            if decimal_field.max_digits is not None:
                context.prec = decimal_field.max_digits
            rounding = decimal_field.rounding
            return lambda value: (
                format(value.quantize(exponent, rounding=rounding, context=context), "f")
                if type(value) is Decimal
                else generic(value)
            )
    if kind is serializers.DateField and _iso(field, api_settings.DATE_FORMAT):
        return lambda value: value.isoformat() if type(value) is date else generic(value)
    if kind is serializers.DateTimeField and _iso(field, api_settings.DATETIME_FORMAT):
        datetime_field = cast("serializers.DateTimeField", field)
        zone: Any = (
            datetime_field.timezone
            if hasattr(datetime_field, "timezone")
            else datetime_field.default_timezone()
        )
        if zone is not None:

            def render_datetime(value: Any) -> Any:
                if type(value) is not datetime or value.tzinfo is None:
                    return generic(value)
                text = value.astimezone(zone).isoformat()
                return text[:-6] + "Z" if text.endswith("+00:00") else text

            return render_datetime
    return generic


def _iso(field: serializers.Field, default: Any) -> bool:
    output_format = getattr(field, "format", default)
    return isinstance(output_format, str) and output_format.lower() == ISO_8601


def export_rows(endpoint: Endpoint, queryset: QuerySet[Any]) -> Iterator[list[Any]]:
    """Each record's cells (`cell_of` the API list's JSON values), in column order, read in chunks of plain
    column values: no model instances, no raw payload."""
    plan = _column_plan(endpoint)
    converters = [
        (index, convert)
        for index, column in enumerate(plan)
        if (convert := _cell_renderer(column)) is not None
    ]
    values = queryset.values_list(*(column.path for column in plan))
    for row in values.iterator(chunk_size=CHUNK_SIZE):
        cells = list(row)
        for index, convert in converters:
            cells[index] = convert(cells[index])
        yield cells


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
    """The CSV file in pieces of a few hundred rows, for streaming or writing to disk. Rows are cells
    (`export_rows`): the csv module writes None as an empty field and an integer as its digits, which is
    their `cell_text`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % CSV_ROWS_PER_PIECE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


# The characters Excel cannot hold (a ledger may keep control characters in free text): dropped.
# openpyxl's list, so a cell holds what openpyxl would have let through.
XLSX_ILLEGAL = ILLEGAL_CHARACTERS_RE
# Excel's longest text in a cell; openpyxl truncates to it as well.
XLSX_MAX_TEXT = 32767
# Rows of sheet XML gathered into one write to the (compressing) zip stream.
XLSX_ROWS_PER_PIECE = 200


def _xlsx_text(value: Any) -> str:
    """One non-integer cell as the XML openpyxl writes for a text cell (inline string): the API's text,
    never a formula or an error value, whatever it starts with."""
    text = cell_text(value)
    if XLSX_ILLEGAL.search(text):
        text = XLSX_ILLEGAL.sub("", text)
    text = text[:XLSX_MAX_TEXT]
    if not text:
        return ' t="inlineStr" />'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _xlsx_rows(rows: Iterable[list[Any]], *, width: int, first: int) -> Iterator[str]:
    """The sheet's `<row>` elements, as openpyxl's write-only worksheet writes them for these cells:
    integers (ids, references to other records) are numbers, None is no cell, all else is text."""
    letters = [get_column_letter(index) for index in range(1, width + 1)]
    for number, row in enumerate(rows, start=first):
        at = str(number)
        parts = [f'<row r="{at}">']
        for letter, value in zip(letters, row, strict=True):
            if value is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                parts.append(f'<c r="{letter}{at}" t="n"><v>{format(value, ".16g")}</v></c>')
            else:
                parts.append(f'<c r="{letter}{at}"{_xlsx_text(value)}')
        parts.append("</row>")
        yield "".join(parts)


def xlsx_write(target: IO[bytes], *, title: str, columns: list[str], rows: Iterable[list[Any]]) -> None:
    """Write the XLSX file to `target`, streaming rows into it as they come.

    openpyxl writes the workbook with its header row (every part of the package: styles, workbook,
    properties); the rows are then streamed into its sheet, as the XML openpyxl's write-only mode writes for
    them (tested against it), at a small fraction of the cost of its cell objects."""
    skeleton = io.BytesIO()
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=title[:31])
    worksheet.append(columns)
    workbook.save(skeleton)
    with (
        zipfile.ZipFile(skeleton) as source,
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as package,
    ):
        (sheet_name,) = (name for name in source.namelist() if name.startswith("xl/worksheets/sheet"))
        for item in source.infolist():
            if item.filename != sheet_name:
                package.writestr(item, source.read(item))
                continue
            head, tail = source.read(item).decode().split("</sheetData>")
            with package.open(sheet_name, "w", force_zip64=True) as sheet:
                sheet.write(head.encode())
                piece: list[str] = []
                for row in _xlsx_rows(rows, width=len(columns), first=2):
                    piece.append(row)
                    if len(piece) == XLSX_ROWS_PER_PIECE:
                        sheet.write("".join(piece).encode())
                        piece.clear()
                sheet.write("".join(piece).encode())
                sheet.write(f"</sheetData>{tail}".encode())


def export_file_name(endpoint: Endpoint, export_format: str, *, on: Any = None) -> str:
    day = timezone.localdate(on) if on is not None else timezone.localdate()
    return f"{endpoint.path}-{day.isoformat()}.{export_format}"


def export_respond(
    *, request: Request, endpoint: Endpoint, queryset: QuerySet[Any], export_format: str
) -> HttpResponseBase:
    """The export action's response: the file itself, or 202 with the background export that will make it."""
    chosen = export_format_validate(export_format)
    if rows_more_than(queryset, settings.EXPORT_SYNC_MAX_ROWS):
        if chosen == ExportFormatChoices.XLSX and rows_more_than(queryset, XLSX_MAX_ROWS):
            raise InvalidInput(fields={"export_format": [XLSX_TOO_LONG]})
        query = request.query_params.copy()
        query.pop("export_format", None)
        job = export_job_create(
            endpoint=endpoint,
            export_format=chosen,
            query=query.urlencode(),
            rows_total=None,  # counted exactly by the job, for its progress
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


class ExportAbandoned(Exception):
    """The job stopped being this worker's while it wrote (declared stale, or deleted): stop writing."""


def export_job_run(*, export_id: int) -> ExportJob | None:
    """Write a background export's file, recording progress and a heartbeat every chunk; ends succeeded or
    failed. Must be idempotent: a job that is no longer queued (run twice, or already failed as stale) is
    left as it is, and every later write happens only while the job is still this run's."""
    now = timezone.now()
    started = ExportJob.objects.filter(pk=export_id, status=ExportJobStatusChoices.QUEUED).update(
        status=ExportJobStatusChoices.RUNNING, started_at=now, heartbeat_at=now, updated_at=now
    )
    job = ExportJob.objects.filter(pk=export_id).first()
    if job is None or not started:
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
        rows = _counted(export_rows(endpoint, queryset), lambda done: _progress(job, done))
        columns = export_columns(endpoint)
        with partial.open("wb") as target:
            if job.export_format == ExportFormatChoices.XLSX:
                xlsx_write(target, title=endpoint.label, columns=columns, rows=rows)
            else:
                for piece in csv_pieces(columns, rows):
                    target.write(piece)
        partial.replace(export_path(job))
        finished = timezone.now()
        # Downloads ask for a succeeded job: a file whose job was failed meanwhile is never served.
        _running_update(
            job,
            at=finished,
            status=ExportJobStatusChoices.SUCCEEDED,
            rows_done=job.rows_done,
            file_size=export_path(job).stat().st_size,
            finished_at=finished,
            expires_at=finished + timedelta(hours=settings.EXPORT_KEEP_HOURS),
        )
    except ExportAbandoned:
        logger.warning(
            "Export abandoned: no longer running", extra={"export": job.pk, "entity": job.endpoint}
        )
        _files_delete(job)
        return ExportJob.objects.filter(pk=export_id).first()
    except Exception as exc:
        logger.exception("Export failed", extra={"export": job.pk, "entity": job.endpoint})
        _files_delete(job)
        ExportJob.objects.filter(pk=job.pk, status=ExportJobStatusChoices.RUNNING).update(
            status=ExportJobStatusChoices.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            file_name="",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
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
    now = at or timezone.now()
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportJobStatusChoices.RUNNING).update(
        **values, heartbeat_at=now, updated_at=now
    )
    if not updated:
        raise ExportAbandoned(job.pk)


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
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff),
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
