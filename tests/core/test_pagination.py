"""Numbered pages never end before the list does: a client following `next` reads every row exactly once,
whatever the page size against the count's cap, and `count` says whether it is exact, a lower bound or an
estimate. The caps are lowered so a few dozen rows cross them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from core.api.pagination import PageNumberPagination
from tests.testapp.models import Widget

WIDGETS = "/api/v1/testapp/widgets/"
ROWS = 45


@pytest.fixture
def many_widgets(db, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "count_exact_limit", 10)
    monkeypatch.setattr(PageNumberPagination, "keys_first_from", 12)
    Widget.objects.bulk_create(
        Widget(name=f"w{n:03d}", status="active" if n % 3 else "draft", amount=Decimal(n % 7))
        for n in range(ROWS)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE testapp_widget")


def walk(client, params: dict) -> tuple[list[int], list[dict]]:
    """Every id reached by following `next` from page 1, and each page's body without its rows."""
    ids, pages = [], []
    url: str | None = WIDGETS
    query: dict | None = params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.json()
        body = response.json()
        ids += [row["id"] for row in body.pop("results")]
        pages.append(body)
        url, query = body["next"], None
    return ids, pages


@pytest.mark.parametrize("size", [1, 7, 10, 11, 44, 45, 46, 1000])
@pytest.mark.parametrize(
    ("filters", "ordering"),
    [({}, "-name"), ({"status": "active"}, "amount"), ({}, "-amount,name")],
)
def test_following_next_reads_every_row_once(api_client, many_widgets, size, filters, ordering):
    ids, pages = walk(api_client, {"page_size": size, "ordering": ordering, **filters})

    expected = list(
        Widget.objects.filter(**filters).order_by(*[*ordering.split(","), "pk"]).values_list("pk", flat=True)
    )
    assert ids == expected
    assert len(pages) == max(1, -(-len(expected) // size))
    for page in pages:
        assert page["count"] >= len(expected) if page["count_is"] == "estimate" else True
        if page["count_is"] == "exact":
            assert page["count"] == len(expected)
        if page["count_is"] == "at_least":
            assert len(expected) >= page["count"] > PageNumberPagination.count_exact_limit
        assert page["count_is_estimate"] is (page["count_is"] != "exact")


def test_a_list_under_the_cap_has_an_exact_count_and_past_it_says_so(api_client, many_widgets, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "count_exact_limit", 20)
    small = api_client.get(WIDGETS, {"status": "draft", "page_size": 5}).json()
    assert (small["count"], small["count_is"]) == (15, "exact")

    big = api_client.get(WIDGETS, {"page_size": 5}).json()
    if connection.vendor == "postgresql":
        assert big["count_is"] in ("estimate", "at_least")
        assert big["count"] >= 21
    else:
        assert (big["count"], big["count_is"]) == (21, "at_least")  # "at least 21", never "21 in all"


def test_a_page_number_past_the_count_still_serves_the_rows_that_exist(api_client, many_widgets):
    body = api_client.get(WIDGETS, {"page_size": 5, "page": 9}).json()  # rows 41 to 45, past "at least 11"
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert api_client.get(WIDGETS, {"page_size": 5, "page": 10}).status_code == 404
