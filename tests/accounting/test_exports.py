"""Exports of entity lists, on data that came through a real sync from the sandbox: CSV and XLSX reopen
(csv module, openpyxl) with exactly the rows and values of the API list under the same filters and
ordering; large exports run in the background with progress and are downloaded once written."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook

from accounting import exports
from accounting.choices import ExportFormatChoices
from accounting.families import ENDPOINTS, Endpoint
from accounting.models import Contact, ExportJob
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


def test_large_exports_run_in_the_background(mirrored, api_client, settings, monkeypatch, export_dir):
    settings.EXPORT_SYNC_MAX_ROWS = 5
    monkeypatch.setattr(exports, "CHUNK_SIZE", 7)
    progress: list[int] = []
    record = exports._progress

    def progress_recorded(job: Any, done: int) -> None:
        progress.append(done)
        record(job, done)

    monkeypatch.setattr(exports, "_progress", progress_recorded)
    for endpoint_key, export_format, params in (
        ("invoices", "csv", {"connection": mirrored.pk, "ordering": "-total,id"}),
        ("bills", "xlsx", {"connection": mirrored.pk}),
        ("payments", "csv", {"connection": mirrored.pk}),
    ):
        endpoint = ENDPOINTS[endpoint_key]
        columns, rows = api_table(api_client, endpoint, params)
        assert len(rows) > 7, endpoint_key
        progress.clear()
        response = export(api_client, endpoint, export_format, params)
        assert response.status_code == 202, response.content
        body = response.json()
        job = ExportJob.objects.get(pk=body["id"])
        assert response["Location"] == body["url"]
        # Tasks run synchronously on commit in tests: the export is written.
        assert job.status == "succeeded", job.error
        assert (job.endpoint, job.export_format) == (endpoint_key, export_format)
        assert job.rows_total == job.rows_done == len(rows)
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
