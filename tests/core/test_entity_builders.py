"""An entity type declared with `core` alone (tests.testapp.entities, as `books/` will) gets its API, admin
and exports from the core builders, and the admin's export is the API's file: one export path."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.http import StreamingHttpResponse
from django.test import RequestFactory

from tests.testapp.entities import WIDGETS, WidgetRecordAdmin
from tests.testapp.models import Widget

pytestmark = pytest.mark.django_db
LIST = f"/api/v1/testapp/{WIDGETS.path}/"


@pytest.fixture
def widgets(db) -> list[Widget]:
    rows = [("alpha", "draft", "10.00", "2026-01-05"), ("bravo", "active", "250.50", None)]
    return [
        Widget.objects.create(name=name, status=status, amount=Decimal(amount), issued_on=issued)
        for name, status, amount, issued in rows
    ]


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_api_lists_filters_searches_gets_and_exports(api_client, widgets):
    listed = api_client.get(LIST, {"status": "active"}).json()["results"]
    assert [row["name"] for row in listed] == ["bravo"]
    assert listed[0]["amount"] == "250.50"
    assert [row["name"] for row in api_client.get(LIST, {"q": "alp"}).json()["results"]] == ["alpha"]
    assert api_client.get(LIST, {"colour": "red"}).status_code == 400
    assert api_client.get(f"{LIST}{widgets[0].pk}/").json()["name"] == "alpha"
    response = api_client.get(f"{LIST}export/", {"ordering": "name"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="{WIDGETS.path}-')
    rows = _csv(b"".join(response.streaming_content))
    assert rows[0] == ["id", "name", "amount", "issued_on", "created_at"]
    assert [row[1:4] for row in rows[1:]] == [
        ["alpha", "10.00", "2026-01-05"],
        ["bravo", "250.50", ""],
    ]


def test_the_admin_exports_the_api_file_and_searches_as_the_api(api_client, widgets, staff_user):
    model_admin = WidgetRecordAdmin(Widget, admin.site)
    assert model_admin.list_display == ["name", "status", "amount", "issued_on"]
    assert model_admin.date_hierarchy == "issued_on"
    queryset = Widget.objects.order_by("name")
    found, _ = model_admin.get_search_results(RequestFactory().get("/"), queryset, "brav")
    assert [widget.name for widget in found] == ["bravo"]

    request = RequestFactory().post("/")
    request.user = staff_user
    from_admin = model_admin.export_csv(request, queryset)
    from_api = api_client.get(f"{LIST}export/", {"ordering": "name"})
    assert isinstance(from_admin, StreamingHttpResponse)
    assert b"".join(from_admin.streaming_content) == b"".join(from_api.streaming_content)  # type: ignore[arg-type]
    xlsx = model_admin.export_xlsx(request, queryset)
    assert xlsx is not None
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
