"""The paginator shared by the admin and the API: capped counts, and deep pages read by key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.paginators import EstimatedCountPaginator
from tests.testapp.models import Widget


class SmallPaginator(EstimatedCountPaginator):
    exact_limit = 30
    keys_first_from = 10


class CountingPaginator(SmallPaginator):
    exact_limit = 1000


@pytest.fixture
def widgets(db):
    # Amounts repeat, so the order needs its tie-breaker, as every list's does.
    Widget.objects.bulk_create(
        Widget(name=f"w{n:03d}", status="active" if n % 3 else "draft", amount=Decimal(n % 7))
        for n in range(45)
    )


def _names(objects) -> list[str]:
    return [widget.name for widget in objects]


@pytest.mark.parametrize("ordering", [("amount", "pk"), ("-amount", "-pk"), ("status", "-name")])
def test_deep_pages_read_by_key_hold_the_same_rows_in_the_same_order(widgets, ordering):
    queryset = Widget.objects.filter(amount__gte=1).order_by(*ordering)
    expected = _names(queryset)
    paginator = CountingPaginator(queryset, 8)
    seen: list[str] = []
    for number in paginator.page_range:
        page = paginator.page(number)
        if (number - 1) * 8 >= SmallPaginator.keys_first_from:
            assert isinstance(page.object_list, list)  # the by-key path served it
        seen += _names(page)
    assert seen == expected


def test_a_deep_page_costs_two_small_queries(widgets):
    paginator = SmallPaginator(Widget.objects.order_by("amount", "pk"), 8)
    paginator.count  # noqa: B018 - counted before, as the views do
    with CaptureQueriesContext(connection) as queries:
        rows = list(paginator.page(3))
    assert len(rows) == 8
    assert len(queries) == 2
    keys, page = (query["sql"] for query in queries)
    assert "OFFSET 16" in keys
    assert '"testapp_widget"."name"' not in keys
    assert "OFFSET" not in page
    assert " IN (" in page


def test_count_is_exact_to_the_limit_and_capped_past_it(widgets):
    assert SmallPaginator(Widget.objects.filter(status="draft").order_by("pk"), 10).count == 15
    big = SmallPaginator(Widget.objects.order_by("pk"), 10)
    if connection.vendor == "postgresql":
        assert big.count >= 31  # the planner's estimate, never below what was counted
    else:
        assert big.count == 31  # a lower bound: one past the limit
    assert big.count_is_estimate
    assert not SmallPaginator(Widget.objects.filter(status="draft").order_by("pk"), 10).count_is_estimate


def test_a_first_page_that_holds_the_whole_list_costs_one_query(widgets):
    paginator = CountingPaginator(Widget.objects.filter(status="draft").order_by("pk"), 20)
    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(1)
        rows = list(page)
        count = paginator.count
    assert len(queries) == 1
    assert count == len(rows) == 15
    assert not page.has_next()


def test_a_full_first_page_is_read_once_and_counted_once(widgets):
    # Filtered, so PostgreSQL too counts rather than first asking the planner for the table's size.
    paginator = CountingPaginator(Widget.objects.filter(amount__gte=0).order_by("pk"), 10)
    with CaptureQueriesContext(connection) as queries:
        page = paginator.page("1")
        rows = _names(page)
    assert len(queries) == 2  # the page (and one row more), then the count
    assert rows == _names(Widget.objects.order_by("pk")[:10])
    assert paginator.count == 45
    assert page.has_next()
