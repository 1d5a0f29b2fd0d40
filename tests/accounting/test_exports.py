"""Exports of entity lists, on data that came through a real sync from the sandbox: CSV and XLSX reopen
(csv module, openpyxl) with exactly the rows and values of the API list under the same filters and
ordering; large exports run in the background with progress and are downloaded once written."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from accounting import exports
from accounting.choices import ExportFormatChoices
from accounting.families import ENDPOINTS, Endpoint
from accounting.models import Contact, ExportJob, Invoice
from core import exports as core_exports
from integrations.models import Connection
from integrations.providers import get_provider

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


@pytest.fixture(params=["xero", "quickbooks"])
def mirrored(request, pull) -> Connection:
    connection = request.getfixturevalue(f"{'qbo' if request.param == 'quickbooks' else 'xero'}_connection")
    runs = pull(connection, full=True)
    assert {run.status for run in runs.values()} == {"succeeded"}
    return connection


def endpoints_of(connection: Connection) -> list[Endpoint]:
    keys = get_provider(connection.provider).entity_keys
    return [endpoint for endpoint in ENDPOINTS.values() if endpoint.family.key in keys]


def text(value: Any) -> str:
    """A JSON value of the API list as the export's documented cell text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def cell(value: Any) -> Any:
    """A JSON value of the API list as the export's documented cell: None is an empty cell, an integer a
    number (in XLSX), everything else its text (JSON as the API's encoder writes it)."""
    from rest_framework.utils.encoders import JSONEncoder

    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def api_table(api_client, endpoint: Endpoint, params: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    response = api_client.get(f"/api/v1/{endpoint.path}/", {"page_size": 1000, **params})
    assert response.status_code == 200, (endpoint.key, response.content[:500])
    body = response.json()
    assert body["count"] == len(body["results"])
    columns = list(body["results"][0]) if body["results"] else exports.export_columns(endpoint)
    return columns, [[text(row[column]) for column in columns] for row in body["results"]]


def csv_table(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def xlsx_table(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [
        ["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)
    ]


def export(api_client, endpoint: Endpoint, export_format: str, params: dict[str, Any]):
    return api_client.get(f"/api/v1/{endpoint.path}/export/", {"export_format": export_format, **params})


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_exports_reopen_with_the_rows_and_values_of_the_list(mirrored, api_client):
    # A name Excel would take for a formula and an email it would take for an error stay text.
    customer = Contact.objects.filter(connection=mirrored, is_customer=True, archived=False)[0]
    Contact.objects.filter(pk=customer.pk).update(name="=1+2", email="#N/A")
    seen_rows = 0
    for endpoint in endpoints_of(mirrored):
        first = endpoint.family.columns[0]
        for params in ({"connection": mirrored.pk}, {"connection": mirrored.pk, "ordering": f"-{first},id"}):
            columns, rows = api_table(api_client, endpoint, params)
            assert columns == exports.export_columns(endpoint)
            assert columns[:2] == ["id", "provider"]
            seen_rows += len(rows)

            response = export(api_client, endpoint, "csv", params)
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "text/csv; charset=utf-8"
            assert response["Content-Disposition"].startswith(f'attachment; filename="{endpoint.path}-')
            assert response["Content-Disposition"].endswith('.csv"')
            assert csv_table(content_of(response)) == [columns, *rows], (endpoint.key, params)

            response = export(api_client, endpoint, "xlsx", params)
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == exports.CONTENT_TYPES[ExportFormatChoices.XLSX]
            assert response["Content-Disposition"].endswith('.xlsx"')
            content = content_of(response)
            assert xlsx_table(content) == [columns, *rows], (endpoint.key, params)
            sheet = load_workbook(io.BytesIO(content)).worksheets[0]
            assert all(isinstance(cell.value, int) for cell in sheet["A"][1:])  # ids are numbers
            if endpoint.key == "customers":
                cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
                assert cells["=1+2"] == "s"
                assert cells["#N/A"] == "s"
    assert seen_rows > 100


def test_filters_apply_to_the_export(mirrored, api_client):
    invoices = ENDPOINTS["invoices"]
    columns, everything = api_table(api_client, invoices, {"connection": mirrored.pk})
    number = everything[0][columns.index("number")]
    for params in (
        {"connection": mirrored.pk, "status": "paid"},
        {"connection": mirrored.pk, "status__in": "authorised,partially_paid", "ordering": "amount_due"},
        {"connection": mirrored.pk, "q": number},
    ):
        columns, rows = api_table(api_client, invoices, params)
        assert rows, params
        assert len(rows) < len(everything), params
        assert csv_table(content_of(export(api_client, invoices, "csv", params))) == [columns, *rows]
        assert xlsx_table(content_of(export(api_client, invoices, "xlsx", params))) == [columns, *rows]
    paid = api_table(api_client, invoices, {"status": "paid"})[1]
    status_column = exports.export_columns(invoices).index("status")
    assert {row[status_column] for row in paid} == {"paid"}


def test_unknown_format_or_filter_is_a_400(api_client):
    response = api_client.get("/api/v1/invoices/export/", {"export_format": "pdf"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["export_format"]
    response = api_client.get("/api/v1/invoices/export/", {"export_format": "csv", "colour": "red"})
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["fields"]
    response = api_client.get("/api/v1/invoices/export/", {"ordering": "colour"})
    assert response.status_code == 400
    assert ExportJob.objects.count() == 0


def test_export_needs_staff(anon_client, plain_user):
    assert anon_client.get("/api/v1/invoices/export/").status_code == 401
    anon_client.force_authenticate(plain_user)
    assert anon_client.get("/api/v1/invoices/export/").status_code == 403
    assert anon_client.get("/api/v1/exports/").status_code == 403


def test_large_exports_run_in_the_background(mirrored, api_client, settings, monkeypatch, export_dir, caplog):
    settings.EXPORT_SYNC_MAX_ROWS = 5
    monkeypatch.setattr(exports, "CHUNK_SIZE", 7)
    caplog.set_level(logging.DEBUG, logger=exports.logger.name)
    for endpoint_key, export_format, params in (
        ("invoices", "csv", {"connection": mirrored.pk, "ordering": "-total,id"}),
        ("bills", "xlsx", {"connection": mirrored.pk}),
        ("payments", "csv", {"connection": mirrored.pk}),
    ):
        endpoint = ENDPOINTS[endpoint_key]
        columns, rows = api_table(api_client, endpoint, params)
        assert len(rows) > 7, endpoint_key
        caplog.clear()
        response = export(api_client, endpoint, export_format, params)
        assert response.status_code == 202, response.content
        body = response.json()
        job = ExportJob.objects.get(pk=body["id"])
        assert response["Location"] == body["url"]
        # Tasks run synchronously on commit in tests: the export is written.
        assert job.status == "succeeded", job.error
        assert (job.endpoint, job.export_format) == (endpoint_key, export_format)
        assert job.rows_total == job.rows_done == len(rows)
        progress = [record.rows for record in caplog.records if record.getMessage() == "Export progress"]
        assert progress == [*range(7, len(rows) + 1, 7), len(rows)]
        assert job.expires_at is not None
        assert job.finished_at is not None
        assert job.expires_at > job.finished_at
        assert "export_format" not in job.query

        detail = api_client.get(f"/api/v1/exports/{job.pk}/").json()
        assert detail["status"] == "succeeded"
        assert detail["percent"] == 100
        assert detail["rows_done"] == len(rows)
        assert detail["download_url"].endswith(f"/api/v1/exports/{job.pk}/download/")
        download = api_client.get(detail["download_url"])
        assert download.status_code == 200
        assert download["Content-Disposition"].startswith(f'attachment; filename="{endpoint.path}-')
        reopen = csv_table if export_format == "csv" else xlsx_table
        assert reopen(content_of(download)) == [columns, *rows]
        assert (export_dir / job.file_name).stat().st_size == job.file_size
    listed = api_client.get("/api/v1/exports/", {"status": "succeeded"}).json()
    assert listed["count"] == 3
    assert [job["endpoint"] for job in listed["results"]] == ["payments", "bills", "invoices"]


def test_download_of_an_unfinished_or_failed_export_is_409(api_client, staff_user):
    queued = ExportJob.objects.create(endpoint="invoices", export_format="csv", requested_by=staff_user)
    response = api_client.get(f"/api/v1/exports/{queued.pk}/download/")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == "queued"
    detail = api_client.get(f"/api/v1/exports/{queued.pk}/").json()
    assert detail["download_url"] is None
    assert detail["requested_by"] == staff_user.username
    failed = ExportJob.objects.create(endpoint="invoices", export_format="csv", status="failed", error="boom")
    response = api_client.get(f"/api/v1/exports/{failed.pk}/download/")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["error"] == "boom"


def test_a_failed_export_says_why_and_leaves_no_file(api_client, export_dir):
    job = ExportJob.objects.create(endpoint="invoices", export_format="csv", query="ordering=colour")
    exports.export_job_run(export_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "ordering" in job.error
    assert job.file_name == ""
    assert not export_dir.exists() or not any(export_dir.iterdir())


def test_expired_exports_are_purged(api_client, export_dir):
    from datetime import timedelta

    from django.utils import timezone

    export_dir.mkdir(parents=True)
    (export_dir / "old.csv").write_text("id\r\n")
    old = ExportJob.objects.create(
        endpoint="invoices",
        export_format="csv",
        status="succeeded",
        file_name="old.csv",
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert api_client.get(f"/api/v1/exports/{old.pk}/download/").status_code == 404
    fresh = ExportJob.objects.create(
        endpoint="invoices", export_format="csv", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert exports.exports_purge() == 1
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not (export_dir / "old.csv").exists()


# --- Rendering: every kind of value, as the serializer renders it ------------------------------------------

UNICODE = "Ünïcødé \u2013 東京 🚀 עברית"
TEXTS = (
    "",
    UNICODE,
    "=1+2",
    "#N/A",
    "  padded  ",
    'comma, "quote"\r\nnew line',
    "bell\x07 & <tag>",
)


def _candidates(field: Any, connection: Connection, contact: Contact | None) -> list[Any]:
    """Values of every kind a column of this type can hold: nulls, zero, negatives, the largest decimals,
    empty and unusual strings, dates, booleans, JSON."""
    from datetime import UTC, date, datetime, timedelta, timezone

    from django.db import connection as db_connection
    from django.db import models

    null = [None] if field.null else []
    if isinstance(field, models.ForeignKey):
        if field.name == "connection":
            return [connection]
        if field.name == "contact":
            return [contact, None]
        return [None]
    if isinstance(field, models.DecimalField):
        places, whole = field.decimal_places, field.max_digits - field.decimal_places
        largest = Decimal(10**whole) - Decimal(1).scaleb(-places)
        if db_connection.vendor != "postgresql":
            # SQLite keeps a decimal as a double: the largest that survives it, 15 significant digits.
            largest = Decimal(10 ** (15 - places) - 1) + Decimal("0." + "9" * places)
        return [
            *null,
            Decimal(0),
            Decimal("-1250.5"),
            largest,
            -largest,
            Decimal(1).scaleb(-places),
            Decimal("1E+3"),
        ]
    if isinstance(field, models.DateTimeField):
        return [
            *null,
            datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
            datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
        ]
    if isinstance(field, models.DateField):
        return [*null, date(2024, 2, 29), date(1900, 1, 1)]
    if isinstance(field, models.BooleanField):
        return [*null, True, False]
    if isinstance(field, models.JSONField):
        return [[], {"rate": Decimal("12.5000"), "items": ["x", None, True, 3]}, [{"Name": "Ünï"}], "text"]
    if isinstance(field, models.IntegerField):
        return [*null, 0, 2**31]
    if field.choices:
        return [value for value, _ in field.choices] + ["legacy"[: field.max_length]]
    if isinstance(field, models.CharField | models.TextField):
        texts = [text for text in TEXTS if field.blank or text]
        return [text[: field.max_length] if field.max_length else text for text in texts]
    raise AssertionError(f"No values for {field!r}")


def _records_of_every_kind(
    family, connection: Connection, contact: Contact | None, count: int = 8
) -> list[int]:
    skipped = {"id", "created_at", "updated_at", "remote_id", "link_content_type"}
    fields = [field for field in family.model._meta.concrete_fields if field.name not in skipped]
    pks = []
    for index in range(count):
        values = {}
        for offset, field in enumerate(fields):
            choices = _candidates(field, connection, contact)
            values[field.name] = choices[(index + offset) % len(choices)]
        values["link_object_id"] = "" if index % 2 else "42"
        record = family.model._default_manager.create(remote_id=f"every-kind-{index}", **values)
        pks.append(record.pk)
    return pks


def test_rows_render_every_kind_of_value_exactly_as_the_serializer_does():
    from accounting.api.views import VIEWSETS

    connection = Connection.objects.create(provider="xero", display_name="Every kind", tenant_id="t-1")
    contact = Contact.objects.create(connection=connection, remote_type="Contact", remote_id="c-1", name="C")
    for endpoint in ENDPOINTS.values():
        family = endpoint.family
        manager = family.model._default_manager
        if not manager.filter(remote_id__startswith="every-kind-").exists():
            _records_of_every_kind(family, connection, contact)
        queryset = (
            manager.filter(remote_id__startswith="every-kind-").select_related("connection").order_by("pk")
        )
        serializer: Any = VIEWSETS[endpoint.key].serializer_class(context={})  # type: ignore[misc]
        expected = [list(serializer.to_representation(record).values()) for record in queryset]
        assert len(expected) == 8
        assert exports.export_columns(endpoint) == list(serializer.fields)
        cells = list(exports.export_rows(endpoint, queryset))
        # Compared with their types (1 == True == Decimal(1) in Python).
        typed = [[(type(value), value) for value in row] for row in cells]
        assert typed == [[(type(cell(value)), cell(value)) for value in row] for row in expected], (
            endpoint.key
        )
    # The values above are of every kind the columns hold: nulls, zero, negatives and the largest amounts.
    amounts = {
        row[0] for row in Invoice.objects.filter(remote_id__startswith="every-kind-").values_list("total")
    }
    assert {Decimal(0), Decimal("-1250.5")} <= amounts
    assert Invoice.objects.filter(remote_id__startswith="every-kind-", amount_due=None).exists()


def test_cell_renderers_agree_with_the_fields_beyond_what_the_database_returns():
    """What a database hands back is already at its column's scale and time zone; the renderers also agree
    with the fields on values that are not (other scales, rounding, other zones, unexpected types)."""
    from datetime import UTC, date, datetime, timedelta, timezone

    odd_values: dict[str, list[Any]] = {
        "DecimalField": [
            Decimal("1E+3"),
            Decimal("-0"),
            Decimal("1.234567891234"),
            Decimal("-0.00005"),
            7,
            "2.5",
        ],
        "DateTimeField": [
            datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=45))),
            datetime(2026, 1, 1, tzinfo=UTC),
        ],
        "DateField": [date(1, 1, 1), date(9999, 12, 31)],
        "BooleanField": [True, False, 1, 0],
        "JSONField": [[], {"a": [1, None]}, "text", 3],
    }
    seen = set()
    for endpoint in ENDPOINTS.values():
        for column in exports.export_column_plan(endpoint):
            kind = type(column.field).__name__
            render = core_exports.cell_renderer(column)
            if render is None:
                # Read as it is: only text and id columns, whose database values are their own cells.
                assert kind in {"CharField", "ChoiceField", "BigIntegerField", "PrimaryKeyRelatedField"}
                assert column.stored in exports.TEXT_COLUMNS | exports.INTEGER_COLUMNS
                continue
            assert render(None) is None or column.name == "linked"
            for value in odd_values.get(kind, []):
                assert render(value) == cell(column.field.to_representation(value)), (
                    endpoint.key,
                    column.name,
                )
                assert type(render(value)) is type(cell(column.field.to_representation(value)))
                seen.add(kind)
    assert seen == set(odd_values)


# --- XLSX: the sheet openpyxl would write ------------------------------------------------------------------


def _openpyxl_sheet(columns: list[str], rows: list[list[Any]]) -> bytes:
    """The file as openpyxl's write-only worksheet writes it, cell by cell (how exports were written before):
    integers as numbers, everything else as the API's text, never a formula or an error value."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Sheet")
    sheet.append(columns)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if value is None or (isinstance(value, int) and not isinstance(value, bool)):
                cells.append(value)
                continue
            value = ILLEGAL_CHARACTERS_RE.sub("", exports.cell_text(value))
            if value.startswith("=") or value in ERROR_CODES:
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                value = cell
            cells.append(value)
        sheet.append(cells)
    target = io.BytesIO()
    workbook.save(target)
    return target.getvalue()


def _parts(content: bytes) -> dict[str, str]:
    import zipfile
    from xml.etree.ElementTree import canonicalize

    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return {
            name: canonicalize(package.read(name).decode())
            for name in package.namelist()
            if name != "docProps/core.xml"  # holds the time it was written
        }


def test_xlsx_sheet_is_what_openpyxl_writes_for_every_kind_of_cell():
    columns = [f"column {index}" for index in range(30)]
    values: list[Any] = [
        1,
        0,
        -7,
        2**53 + 1,
        2**63 - 1,
        None,
        "",
        True,
        False,
        "1250.0000",
        "-0.0001",
        "2026-03-29T01:30:15.123456Z",
        "=1+2",
        "=",
        "#N/A",
        "#DIV/0!",
        "  padded  ",
        "   ",
        " \tlead",
        "tail\n",
        "a & b < c > d \"e\" 'f'",
        "line one\r\nline two",
        "bell\x07 vertical\x0b tab\t",
        UNICODE,
        "x" * 40000,
        {"rate": Decimal("12.5"), "items": ["a", None]},
        [],
        "]]>",
        "&amp;",
        "<![CDATA[x]]>",
    ]
    rows = [values, list(reversed(values)), [None] * 29 + [1], values[5:] + values[:5]]
    ours = io.BytesIO()
    exports.xlsx_write(ours, title="Sheet", columns=columns, rows=iter(rows))
    assert _parts(ours.getvalue()) == _parts(_openpyxl_sheet(columns, rows))
    # And it reads back as the API's text, ids as numbers.
    sheet = load_workbook(ours, read_only=False).worksheets[0]
    assert [cell.value for cell in sheet[1]] == columns
    assert sheet["A2"].value == 1
    assert sheet["A2"].data_type == "n"
    assert sheet["M2"].value == "=1+2"
    assert sheet["M2"].data_type == "s"
    assert sheet["O2"].value == "#N/A"
    assert sheet["X2"].value == UNICODE
    assert len(sheet["Y2"].value) == 32767


# --- Streaming or background: a capped count ---------------------------------------------------------------


def _invoices(count: int) -> Connection:
    from datetime import date

    connection = Connection.objects.create(provider="xero", display_name="Capped", tenant_id="t-capped")
    Invoice.objects.bulk_create(
        Invoice(
            connection=connection,
            remote_type="Invoice",
            remote_id=f"inv-{index}",
            kind="sales",
            status="authorised",
            number=f"INV-{index:04d}",
            issue_date=date(2026, 1, 1 + index % 28),
            total=Decimal(index),
        )
        for index in range(count)
    )
    return connection


def test_streaming_or_background_is_chosen_by_a_count_capped_at_the_limit(api_client, settings):
    from django.db import connection as db_connection
    from django.test.utils import CaptureQueriesContext

    connection = _invoices(12)
    settings.EXPORT_SYNC_MAX_ROWS = 12
    with CaptureQueriesContext(db_connection) as queries:
        response = export(api_client, ENDPOINTS["invoices"], "csv", {"connection": connection.pk})
        assert response.status_code == 200
        assert len(csv_table(content_of(response))) == 13
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert "LIMIT 13" in counts[0].upper()
    # Only the shown columns are read: never the raw payload.
    selects = [q["sql"] for q in queries.captured_queries if '"accounting_invoice"."number"' in q["sql"]]
    assert selects
    assert all('"raw"' not in sql for sql in selects)

    settings.EXPORT_SYNC_MAX_ROWS = 11
    response = export(api_client, ENDPOINTS["invoices"], "csv", {"connection": connection.pk})
    assert response.status_code == 202
    job = ExportJob.objects.get()
    # Counted exactly by the job, for its progress.
    assert (job.status, job.rows_total, job.rows_done) == ("succeeded", 12, 12)
    assert job.heartbeat_at is not None
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.started_at <= job.heartbeat_at <= job.finished_at


def test_xlsx_longer_than_excel_holds_is_refused_up_front_or_by_the_job(api_client, settings, monkeypatch):
    connection = _invoices(6)
    settings.EXPORT_SYNC_MAX_ROWS = 2
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 5)
    response = export(api_client, ENDPOINTS["invoices"], "xlsx", {"connection": connection.pk})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["export_format"]
    assert ExportJob.objects.count() == 0
    # The list grew past the limit between the request and the run: the job fails, saying why.
    job = ExportJob.objects.create(
        endpoint="invoices", export_format="xlsx", query=f"connection={connection.pk}"
    )
    exports.export_job_run(export_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "Excel holds at most" in job.error
    assert job.file_name == ""


# --- Heartbeats: a job whose worker died ends failed ----------------------------------------------------


def test_a_running_export_whose_worker_stopped_is_failed(api_client, export_dir):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    export_dir.mkdir(parents=True)
    (export_dir / "export-dead.csv.partial").write_text("id\r\n1\r\n")
    dead = ExportJob.objects.create(
        endpoint="invoices",
        export_format="csv",
        status="running",
        file_name="export-dead.csv",
        rows_total=10,
        rows_done=4,
        heartbeat_at=now - exports.STALE_AFTER - timedelta(seconds=1),
    )
    alive = ExportJob.objects.create(
        endpoint="invoices",
        export_format="csv",
        status="running",
        heartbeat_at=now - exports.STALE_AFTER + timedelta(seconds=30),
    )
    # Started before heartbeats existed: its last change is its last sign of life.
    legacy = ExportJob.objects.create(endpoint="bills", export_format="xlsx", status="running")
    ExportJob.objects.filter(pk=legacy.pk).update(updated_at=now - timedelta(hours=1))
    queued = ExportJob.objects.create(endpoint="bills", export_format="csv")

    assert exports.exports_purge() == 0  # nothing expired; the stale ones are failed, not deleted
    statuses = dict(ExportJob.objects.values_list("pk", "status"))
    assert statuses == {dead.pk: "failed", alive.pk: "running", legacy.pk: "failed", queued.pk: "queued"}
    dead.refresh_from_db()
    assert dead.error == exports.STALE_ERROR == "The export worker stopped; ask for the export again."
    assert dead.finished_at is not None
    assert dead.file_name == ""
    assert not any(export_dir.iterdir())
    detail = api_client.get(f"/api/v1/exports/{dead.pk}/").json()
    assert (detail["status"], detail["error"], detail["download_url"]) == (
        "failed",
        exports.STALE_ERROR,
        None,
    )
    # A second pass finds nothing more to do.
    assert exports.export_jobs_fail_stale() == 0


def test_the_api_fails_a_stale_export_before_showing_it(api_client):
    from datetime import timedelta

    from django.utils import timezone

    job = ExportJob.objects.create(
        endpoint="invoices",
        export_format="csv",
        status="running",
        heartbeat_at=timezone.now() - exports.STALE_AFTER - timedelta(minutes=1),
    )
    assert api_client.get(f"/api/v1/exports/{job.pk}/").json()["status"] == "failed"
    response = api_client.get(f"/api/v1/exports/{job.pk}/download/")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["error"] == exports.STALE_ERROR


def test_a_worker_declared_dead_stops_writing_and_leaves_the_job_failed(api_client, monkeypatch, export_dir):
    connection = _invoices(9)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)
    job = ExportJob.objects.create(
        endpoint="invoices", export_format="csv", query=f"connection={connection.pk}"
    )

    def declared_dead_meanwhile(job: Any, done: int) -> None:
        # The purge ran while this worker was paused (say, swapped out) for longer than STALE_AFTER.
        ExportJob.objects.filter(pk=job.pk).update(status="failed", error=exports.STALE_ERROR, file_name="")

    outcome = exports.export_job_run(export_id=job.pk, on_progress=declared_dead_meanwhile)
    assert outcome is not None
    assert (outcome.status, outcome.error, outcome.file_name) == ("failed", exports.STALE_ERROR, "")
    assert outcome.rows_done == 0
    assert not export_dir.exists() or not any(export_dir.iterdir())
    # Run again (a retried task): the job is no longer queued, so nothing happens.
    again = exports.export_job_run(export_id=job.pk)
    assert again is not None
    assert again.status == "failed"


# --- Admin ---------------------------------------------------------------------------------------------

# Queries of the export jobs' change list, whatever its length: session, user, the stale jobs, the count,
# the jobs with who asked for them.
EXPORT_CHANGELIST_QUERIES = 5


@pytest.fixture
def admin_client(staff_user):
    from django.test import Client

    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


def test_admin_lists_export_jobs_read_only_with_download_links(admin_client, staff_user, export_dir):
    from datetime import timedelta

    from django.db import connection as db_connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    now = timezone.now()
    export_dir.mkdir(parents=True)
    (export_dir / "ready.csv").write_text("id\r\n1\r\n")
    ready = ExportJob.objects.create(
        endpoint="invoices",
        export_format="csv",
        status="succeeded",
        file_name="ready.csv",
        rows_total=1,
        rows_done=1,
        requested_by=staff_user,
        expires_at=now + timedelta(hours=1),
    )
    expired = ExportJob.objects.create(
        endpoint="bills",
        export_format="xlsx",
        status="succeeded",
        file_name="gone.xlsx",
        expires_at=now - timedelta(minutes=1),
    )
    running = ExportJob.objects.create(
        endpoint="payments",
        export_format="csv",
        status="running",
        rows_total=400,
        rows_done=100,
        heartbeat_at=now,
    )
    failed = ExportJob.objects.create(
        endpoint="invoices", export_format="xlsx", status="failed", error="boom"
    )

    url = "/admin/accounting/exportjob/"
    counted = []
    for extra in (0, 20):
        ExportJob.objects.bulk_create(ExportJob(endpoint="items", export_format="csv") for _ in range(extra))
        with CaptureQueriesContext(db_connection) as queries:
            response = admin_client.get(url)
        assert response.status_code == 200
        counted.append(len(queries))
    assert counted == [EXPORT_CHANGELIST_QUERIES] * 2, "\n".join(
        q["sql"][:150] for q in queries.captured_queries
    )
    page = response.content.decode()
    download = f'href="/api/v1/exports/{ready.pk}/download/"'
    assert download in page
    for job in (expired, running, failed):
        assert f"/api/v1/exports/{job.pk}/download/" not in page
    assert '<progress max="100" value="25">25%</progress> 25%' in page
    assert "100 / 400" in page
    assert "bookkeeper" in page
    assert 'title="boom"' in page
    # The link downloads the file with the admin's session (the API is staff only).
    file = admin_client.get(f"/api/v1/exports/{ready.pk}/download/")
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == b"id\r\n1\r\n"

    # Filters on status, format and entity.
    def listed(params: dict[str, str]) -> set[int]:
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return {
            int(pk)
            for pk in re.findall(r"/admin/accounting/exportjob/(\d+)/change/", response.content.decode())
        }

    assert listed({"status__exact": "failed"}) == {failed.pk}
    assert listed({"export_format__exact": "xlsx"}) == {expired.pk, failed.pk}
    assert listed({"endpoint": "invoices"}) == {ready.pk, failed.pk}

    # Read-only: a detail page to look at, nothing to add, change or delete.
    detail = admin_client.get(f"{url}{ready.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert admin_client.get(f"{url}add/").status_code == 403
    assert admin_client.post(f"{url}{ready.pk}/delete/").status_code == 403
    assert admin_client.post(f"{url}{ready.pk}/change/", {"status": "failed"}).status_code == 403
    ready.refresh_from_db()
    assert ready.status == "succeeded"
