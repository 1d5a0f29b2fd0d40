"""Exports of a list of records as CSV or Excel (XLSX), for any entity type: the API's export action, the
admin's export actions and background exports all write their files here, so they are the same file.

Columns: exactly the fields of the type's list serializer, in order. Cells: each holds the text of the value
the API list shows in its JSON, rendered by the same serializer: amounts as the API's decimal strings
(`"1250.0000"`, never a float), dates and times in ISO 8601, booleans `true`/`false`, null as an empty cell,
JSON lists and objects as compact JSON text. In XLSX, integer fields (`id`, references to other records)
are numbers and everything else is text, so values are the API's to the character; a text that starts with
`=` stays text, never a formula. CSV is UTF-8 with a byte order mark (Excel reads accents right; read it
with the `utf-8-sig` codec) and CRLF line ends.

Rows are read as plain column values (`values_list`) and each cell is rendered by a function made once per
export from the serializer's field for that column, which gives exactly the text `to_representation` gives
(tested against the serializer for every kind of value), at several times its speed. CSV is streamed as it
is read; XLSX is written row by row (openpyxl writes the workbook; the rows are streamed into its sheet as
the XML openpyxl writes for them); either way memory stays bounded, however long the list.

This module makes files and their pieces; wrapping them in an HTTP response is the caller's
(`core.responses.export_file_response`)."""

from __future__ import annotations

import csv
import decimal
import functools
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from rest_framework import ISO_8601, serializers
from rest_framework.relations import PrimaryKeyRelatedField, RelatedField
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

from core.errors import InvalidInput

# Records read from the database at a time (a server-side cursor on PostgreSQL).
CHUNK_SIZE = 2000
# Rows of CSV gathered into one piece of the streamed response.
CSV_ROWS_PER_PIECE = 500
# Excel's limit, less the header row.
XLSX_MAX_ROWS = 1_048_575
XLSX_TOO_LONG = f"Excel holds at most {XLSX_MAX_ROWS:,} rows; export CSV or filter more."
CSV = "csv"
XLSX = "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_format_check(value: str) -> str:
    """The format asked for, if it is one we write; `InvalidInput` naming the allowed ones if not."""
    if value not in CONTENT_TYPES:
        raise InvalidInput(
            fields={"export_format": [f"Unknown format {value!r}. Allowed: {', '.join(CONTENT_TYPES)}."]}
        )
    return value


def export_columns_of(serializer_class: type[serializers.ModelSerializer]) -> list[str]:
    """The export's columns: the list serializer's fields, in order."""
    return [column.name for column in column_plan(serializer_class)]


# --- Rendering rows -------------------------------------------------------------------------------------

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
    # For a method field: what the method makes of the column read (`export_method_columns`).
    method: Callable[[Any], Any] | None = None


@functools.cache
def column_plan(serializer_class: type[serializers.ModelSerializer]) -> tuple[PlannedColumn, ...]:
    """The fields of a list serializer, in order, each with the database column it shows. A method field
    takes a record, and an export reads no records: the serializer declares, in `export_method_columns`,
    the column each of its method fields reads and what the method makes of it; one missing there fails
    the first export loudly."""
    model: Any = serializer_class.Meta.model
    methods: dict[str, tuple[str, Callable[[Any], Any]]] = getattr(
        serializer_class, "export_method_columns", {}
    )
    name_of = serializer_class.__name__
    plan = []
    for name, field in serializer_class(context={}).fields.items():
        method = None
        if isinstance(field, serializers.SerializerMethodField):
            if name not in methods:
                raise ImproperlyConfigured(
                    f"Export column {name_of}.{name}: add it to export_method_columns."
                )
            path, method = methods[name]
        elif isinstance(field, RelatedField) and not isinstance(field, PrimaryKeyRelatedField):
            raise ImproperlyConfigured(f"Export column {name_of}.{name}: only ids of related records.")
        else:
            path = "__".join(field.source_attrs)
        plan.append(PlannedColumn(name, path, field, _stored_type(model, path), method))
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


def cell_renderer(column: PlannedColumn) -> Callable[[Any], Any] | None:
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
        method = cast("Callable[[Any], Any]", column.method)
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


def rows_export(
    serializer_class: type[serializers.ModelSerializer], queryset: QuerySet[Any]
) -> Iterator[list[Any]]:
    """Each record's cells (`cell_of` the list serializer's JSON values), in column order, read in chunks of
    plain column values: no model instances, no raw payload."""
    plan = column_plan(serializer_class)
    converters = [
        (index, convert)
        for index, column in enumerate(plan)
        if (convert := cell_renderer(column)) is not None
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


def export_file_name(stem: str, export_format: str, *, on: Any = None) -> str:
    """`<stem>-<local date>.<format>`: the date the export was asked for (today unless `on`)."""
    day = timezone.localdate(on) if on is not None else timezone.localdate()
    return f"{stem}-{day.isoformat()}.{export_format}"


def export_file_write(
    target: IO[bytes], *, export_format: str, title: str, columns: list[str], rows: Iterable[list[Any]]
) -> None:
    """Write the whole file to `target` (a background export's file on disk, or a temporary file)."""
    if export_format == XLSX:
        xlsx_write(target, title=title, columns=columns, rows=rows)
        return
    for piece in csv_pieces(columns, rows):
        target.write(piece)


@dataclass
class ExportFile:
    """An export to send: CSV as `pieces` to stream as they are made, XLSX as a temporary `file` (deleted
    when closed) that is complete. Exactly one of the two is set."""

    file_name: str
    content_type: str
    pieces: Iterator[bytes] | None = None
    file: IO[bytes] | None = None


def export_file_make(
    *,
    serializer_class: type[serializers.ModelSerializer],
    queryset: QuerySet[Any],
    export_format: str,
    title: str,
    stem: str,
) -> ExportFile:
    """The export of `queryset` in the shape of `serializer_class` (its list serializer): the same file
    whether the API or the admin asks. Callers bound the rows (`rows_more_than`) before asking."""
    chosen = export_format_check(export_format)
    columns = export_columns_of(serializer_class)
    rows = rows_export(serializer_class, queryset)
    made = ExportFile(export_file_name(stem, chosen), CONTENT_TYPES[chosen])
    if chosen == CSV:
        made.pieces = csv_pieces(columns, rows)
        return made
    target = tempfile.TemporaryFile()  # noqa: SIM115  # whoever sends it closes it, which deletes it
    try:
        xlsx_write(target, title=title, columns=columns, rows=rows)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    made.file = target
    return made
