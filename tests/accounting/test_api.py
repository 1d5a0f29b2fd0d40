"""The entity API contract, run over every entity type of both ledgers on data that came through a
real sync from the sandbox: list (active by default), get with lines, filters, ordering, pagination,
delete, bulk delete, archive/unarchive, refresh and statistics, with exact expected values computed from
the database independently of the API."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from accounting.api.pagination import HybridPagination
from accounting.families import ENDPOINTS, Endpoint
from accounting.filtersets import FILTERSETS, filter_fields
from accounting.models import Invoice, PurchaseOrder
from core.jsontext import decode
from integrations.models import Connection, SyncRun
from integrations.providers import get_provider
from sandbox.models import Tenant
from sandbox.models.qbo_records import QboRecord
from sandbox.models.xero_records import XeroRecord

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture(params=["xero", "quickbooks"])
def mirrored(request, pull) -> Connection:
    connection = request.getfixturevalue(f"{'qbo' if request.param == 'quickbooks' else 'xero'}_connection")
    runs = pull(connection, full=True)
    assert {run.status for run in runs.values()} == {"succeeded"}
    return connection


def endpoints_of(connection: Connection) -> list[Endpoint]:
    keys = get_provider(connection.provider).entity_keys
    return [endpoint for endpoint in ENDPOINTS.values() if endpoint.family.key in keys]


def scoped(endpoint: Endpoint, connection: Connection) -> models.QuerySet[Any]:
    return endpoint.family.model._default_manager.filter(connection=connection, **dict(endpoint.scope))


def listing(api_client, endpoint: Endpoint, **params: Any) -> list[dict[str, Any]]:
    response = api_client.get(f"/api/v1/{endpoint.path}/", {"page_size": 1000, **params})
    assert response.status_code == 200, (endpoint.key, response.content[:500])
    return response.json()["results"]


def as_api(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    return value


def test_every_normalised_column_has_a_filter():
    for key, filterset in FILTERSETS.items():
        family = filterset.family
        for field in family.model._meta.concrete_fields:
            if field.name in filter_fields(family):
                assert field.name in filterset.base_filters, (key, field.name)


def test_list_and_get_show_exactly_what_was_mirrored(mirrored, api_client):
    for endpoint in endpoints_of(mirrored):
        expected = scoped(endpoint, mirrored).filter(archived=False, remote_deleted=False)
        rows = listing(api_client, endpoint, connection=mirrored.pk)
        assert sorted(row["id"] for row in rows) == sorted(expected.values_list("pk", flat=True)), (
            endpoint.key
        )
        by_id = {row["id"]: row for row in rows}
        columns = [c for c in endpoint.family.columns if c != "contact"]
        for record in expected[:20]:
            row = by_id[record.pk]
            assert row["provider"] == mirrored.provider
            assert row["remote_id"] == record.remote_id
            for column in columns:
                assert row[column] == as_api(getattr(record, column)), (endpoint.key, column)
        if not rows:
            continue
        record = expected[0]
        detail = api_client.get(f"/api/v1/{endpoint.path}/{record.pk}/", {"include": "raw"}).json()
        assert detail["raw"] == record.raw or detail["raw"] == _jsonish(record.raw)
        for child in endpoint.family.children:
            assert len(detail[child.key]) == getattr(record, child.key).count(), (endpoint.key, child.key)
        assert api_client.get(f"/api/v1/{endpoint.path}/{record.pk}/").json()["raw"] is None
    assert_documents_show_what_they_were_made_from(mirrored, api_client)


def ledger_bills_by_order(connection: Connection) -> dict[str, list[str]]:
    """Per purchase order (its remote id), the bills the ledger made from it, read from the sandbox's own
    records: QBO lists them in the order's LinkedTxn; Xero keeps no link but the order's number, which
    "Copy to > Bill" puts in the bill's Reference (the bill is the order's contact's)."""
    tenant = Tenant.objects.get(tenant_id=connection.tenant_id)
    if connection.provider == "quickbooks":
        orders = QboRecord.objects.filter(tenant=tenant, entity="PurchaseOrder", deleted=False)
        return {
            record_id: [
                link["TxnId"] for link in decode(body).get("LinkedTxn", []) if link["TxnType"] == "Bill"
            ]
            for record_id, body in orders.values_list("record_id", "body")
        }
    records = XeroRecord.objects.filter(tenant=tenant, collection__in=["PurchaseOrders", "Invoices"])
    bodies = [(collection, decode(body)) for collection, body in records.values_list("collection", "body")]
    return {
        order["PurchaseOrderID"]: [
            bill["InvoiceID"]
            for kind, bill in bodies
            if kind == "Invoices"
            and bill["Type"] == "ACCPAY"
            and bill["Reference"] == order["PurchaseOrderNumber"]
            and bill["Contact"]["ContactID"] == order["Contact"]["ContactID"]
        ]
        for collection, order in bodies
        if collection == "PurchaseOrders"
    }


def summary(record: Any) -> dict[str, Any]:
    return {
        "id": record.pk,
        "remote_id": record.remote_id,
        "number": record.number,
        "status": record.status,
        "total": as_api(record.total),
    }


def assert_documents_show_what_they_were_made_from(connection: Connection, api_client) -> None:
    """A bill made from a purchase order shows that order, the order lists its bills, and every other bill
    and sales invoice shows no order: each exactly as the ledger made them."""
    made_from = ledger_bills_by_order(connection)
    orders = {o.remote_id: o for o in PurchaseOrder.objects.filter(connection=connection)}
    invoices = {i.remote_id: i for i in Invoice.objects.filter(connection=connection, remote_deleted=False)}
    billed = {order_id: bills for order_id, bills in made_from.items() if bills}
    # Each seeded ledger bills one of its orders in full: the order reads as billed.
    assert len(billed) == 1, made_from
    [(order_id, [bill_id])] = billed.items()
    order, bill = orders[order_id], invoices[bill_id]
    assert (bill.kind, order.status) == ("purchase", "billed")

    detail = api_client.get(f"/api/v1/bills/{bill.pk}/").json()
    assert detail["purchase_order"] == summary(order)
    detail = api_client.get(f"/api/v1/purchase-orders/{order.pk}/").json()
    assert detail["bills"] == [summary(bill)]
    for other in orders.values():
        if other.remote_id != order_id:
            assert api_client.get(f"/api/v1/purchase-orders/{other.pk}/").json()["bills"] == []
    unlinked = [i for i in invoices.values() if i.kind == "purchase" and i.remote_id != bill_id]
    sales = [i for i in invoices.values() if i.kind == "sales"]
    assert unlinked
    assert sales
    assert api_client.get(f"/api/v1/bills/{unlinked[0].pk}/").json()["purchase_order"] is None
    assert api_client.get(f"/api/v1/invoices/{sales[0].pk}/").json()["purchase_order"] is None
    # The ledger's own link, where it gives one, is a column like any other, filtered exactly.
    rows = listing(
        api_client, ENDPOINTS["bills"], connection=connection.pk, purchase_order_remote_id=order_id
    )
    linked_by_id = Invoice.objects.filter(connection=connection, purchase_order_remote_id=order_id)
    assert [row["id"] for row in rows] == list(linked_by_id.values_list("pk", flat=True))


def _jsonish(value: Any) -> Any:
    import json

    from core.jsontext import encode

    return json.loads(encode(value))


def test_deleted_and_archived_records_leave_the_default_list(mirrored, api_client):
    for endpoint in endpoints_of(mirrored):
        records = list(scoped(endpoint, mirrored).filter(remote_deleted=False, archived=False)[:3])
        if len(records) < 2:
            continue
        ids = [record.pk for record in records[:2]]
        response = api_client.post(f"/api/v1/{endpoint.path}/archive/", {"ids": ids}, format="json")
        assert response.json() == {"count": 2}, endpoint.key
        visible = {row["id"] for row in listing(api_client, endpoint, connection=mirrored.pk)}
        assert not visible & set(ids)
        archived = {row["id"] for row in listing(api_client, endpoint, connection=mirrored.pk, archived=True)}
        assert archived == set(ids)
        assert api_client.post(f"/api/v1/{endpoint.path}/unarchive/", {"ids": ids}, format="json").json() == {
            "count": 2
        }
        deleted = set(scoped(endpoint, mirrored).filter(remote_deleted=True).values_list("pk", flat=True))
        gone = {
            row["id"] for row in listing(api_client, endpoint, connection=mirrored.pk, remote_deleted=True)
        }
        assert gone == deleted, endpoint.key


def test_filters_and_ordering_return_exactly_the_matching_rows(mirrored, api_client):
    for endpoint in endpoints_of(mirrored):
        family = endpoint.family
        base = scoped(endpoint, mirrored).filter(archived=False, remote_deleted=False)
        if not base.exists():
            continue
        if family.has_status:
            status = base.values_list("status", flat=True).first()
            rows = listing(api_client, endpoint, connection=mirrored.pk, status=status)
            assert {row["id"] for row in rows} == set(base.filter(status=status).values_list("pk", flat=True))
        if family.amount_field:
            amounts = sorted(base.values_list(family.amount_field, flat=True))
            middle = amounts[len(amounts) // 2]
            rows = listing(
                api_client, endpoint, connection=mirrored.pk, **{f"{family.amount_field}__gte": middle}
            )
            assert {row["id"] for row in rows} == set(
                base.filter(**{f"{family.amount_field}__gte": middle}).values_list("pk", flat=True)
            )
        if family.date_field:
            dates = sorted(d for d in base.values_list(family.date_field, flat=True) if d)
            low, high = dates[len(dates) // 4], dates[3 * len(dates) // 4]
            rows = listing(
                api_client,
                endpoint,
                connection=mirrored.pk,
                **{f"{family.date_field}__gte": low, f"{family.date_field}__lte": high},
            )
            expected = base.filter(**{f"{family.date_field}__gte": low, f"{family.date_field}__lte": high})
            assert {row["id"] for row in rows} == set(expected.values_list("pk", flat=True))
        # Free text finds a record by its first search field.
        first = base[0]
        needle = next((getattr(first, f) for f in family.search_fields if getattr(first, f)), first.remote_id)
        rows = listing(api_client, endpoint, connection=mirrored.pk, q=needle)
        assert first.pk in {row["id"] for row in rows}, (endpoint.key, needle)
        # Ordering on each list column, both ways, equals the database's order with the id tiebreaker.
        for column in family.columns:
            for term in (column, f"-{column}"):
                rows = listing(api_client, endpoint, connection=mirrored.pk, ordering=term)
                expected_ids = list(base.order_by(term, "pk").values_list("pk", flat=True))
                assert [row["id"] for row in rows] == expected_ids, (endpoint.key, term)


def test_bad_filters_and_values_are_400_with_field_messages(mirrored, api_client):
    endpoint = ENDPOINTS["invoices"]
    for params, field in (
        ({"colour": "red"}, "colour"),
        ({"total__gte": "lots"}, "total__gte"),
        ({"issue_date__gte": "yesterday"}, "issue_date__gte"),
        ({"ordering": "shoe_size"}, "ordering"),
        ({"include": "everything"}, "include"),
        ({"page_size": "0"}, None),
    ):
        response = api_client.get(f"/api/v1/{endpoint.path}/", params)
        if field is None:
            assert response.status_code in (200, 400)
            continue
        assert response.status_code == 400, (params, response.content)
        assert field in response.json()["error"]["fields"], params
    response = api_client.post(f"/api/v1/{endpoint.path}/archive/", {"ids": ["x"]}, format="json")
    assert response.status_code == 400
    assert "ids" in response.json()["error"]["fields"]


def _walk(api_client, url: str, params: dict[str, Any]) -> tuple[list[int], list[dict[str, Any]]]:
    seen: list[int] = []
    pages: list[dict[str, Any]] = []
    query: dict[str, Any] | None = params
    next_url: str | None = url
    while next_url:
        response = api_client.get(next_url, query)
        assert response.status_code == 200, response.content
        page = response.json()
        seen += [row["id"] for row in page.pop("results")]
        pages.append(page)
        next_url, query = page["next"], None
    return seen, pages


def test_pagination_by_page_and_by_cursor_walks_every_row_once(mirrored, api_client, monkeypatch):
    """With the count's cap and the by-key threshold below the list's length, as a big ledger's are."""
    monkeypatch.setattr(HybridPagination, "count_exact_limit", 10)
    monkeypatch.setattr(HybridPagination, "keys_first_from", 12)
    endpoint = ENDPOINTS["invoices"]
    url = f"/api/v1/{endpoint.path}/"
    expected = list(
        scoped(endpoint, mirrored)
        .filter(archived=False, remote_deleted=False)
        .order_by("-pk")
        .values_list("pk", flat=True)
    )
    assert len(expected) > 20
    for size in (1, 7, 10, 11, len(expected), len(expected) + 1, 1000):
        seen, pages = _walk(
            api_client, url, {"page_size": size, "connection": mirrored.pk, "ordering": "-id"}
        )
        assert seen == expected, size
        for page in pages:
            if page["count_is"] == "exact":
                assert page["count"] == len(expected), size
            elif page["count_is"] == "at_least":
                assert len(expected) >= page["count"] > 10, size
    seen, pages = _walk(api_client, url, {"page_size": 7, "paginate": "cursor", "connection": mirrored.pk})
    assert "count" not in pages[0]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(expected)


def test_forged_cursors_and_unknown_modes_are_400_not_500(mirrored, api_client):
    url = f"/api/v1/{ENDPOINTS['invoices'].path}/"
    for params, field in (
        ({"paginate": "cursor", "ordering": "total", "cursor": "cD1hYmM="}, "cursor"),  # p=abc
        ({"paginate": "cursor", "cursor": "cD14"}, "cursor"),  # p=x, on the primary key
        ({"cursor": "not base64 at all"}, "cursor"),
        ({"paginate": "bogus"}, "paginate"),
        ({"ordering": "--total"}, "ordering"),
        ({"page": "abc"}, "page"),
        ({"page_size": "100000"}, "page_size"),
        ({"paginate": "cursor", "page_size": "0"}, "page_size"),
    ):
        response = api_client.get(url, params)
        assert response.status_code == 400, (params, response.content)
        assert field in response.json()["error"]["fields"], params


def test_delete_and_bulk_delete_remove_mirror_rows_and_their_lines(mirrored, api_client):
    endpoint = ENDPOINTS["invoices"]
    family = endpoint.family
    records = list(scoped(endpoint, mirrored).filter(remote_deleted=False)[:3])
    line_model = family.children[0].model
    response = api_client.delete(f"/api/v1/{endpoint.path}/{records[0].pk}/")
    assert response.status_code == 204
    response = api_client.post(
        f"/api/v1/{endpoint.path}/bulk-delete/", {"ids": [r.pk for r in records[1:]]}, format="json"
    )
    assert response.json() == {"count": 2}
    assert not family.model._default_manager.filter(pk__in=[r.pk for r in records]).exists()
    assert not line_model._default_manager.filter(invoice_id__in=[r.pk for r in records]).exists()
    # A full resync brings them back, as the API says.
    run = api_client.post(
        f"/api/v1/{endpoint.path}/refresh/", {"connection": mirrored.pk, "full_sync": True}, format="json"
    )
    assert run.status_code == 202
    finished = SyncRun.objects.get(pk=run.json()["id"])
    assert finished.status == "succeeded"
    assert finished.created == 3
    assert (
        family.model._default_manager.filter(
            connection=mirrored, remote_id__in=[r.remote_id for r in records]
        ).count()
        == 3
    )


def test_statistics_add_up_exactly(mirrored, api_client):
    today = timezone.localdate()
    for endpoint in endpoints_of(mirrored):
        family = endpoint.family
        rows = list(scoped(endpoint, mirrored).filter(archived=False, remote_deleted=False))
        stats = api_client.get(f"/api/v1/{endpoint.path}/statistics/", {"connection": mirrored.pk}).json()
        assert stats["count"] == len(rows), endpoint.key
        if family.has_status:
            assert stats["by_status"] == dict(Counter(r.status for r in rows)), endpoint.key
        if family.amount_field:
            for bucket in stats["by_currency"]:
                mine = [r for r in rows if getattr(r, "currency", "") == bucket["currency"]]
                assert bucket["count"] == len(mine)
                assert Decimal(bucket["total"]) == sum(
                    (getattr(r, family.amount_field) for r in mine), Decimal(0)
                )
                if family.due_amount_field and family.due_date_field:
                    overdue = [
                        r
                        for r in mine
                        if getattr(r, family.due_date_field)
                        and getattr(r, family.due_date_field) < today
                        and (getattr(r, family.due_amount_field) or 0) > 0
                    ]
                    assert bucket["overdue_count"] == len(overdue)
                    assert Decimal(bucket["overdue"]) == sum(
                        (getattr(r, family.due_amount_field) for r in overdue), Decimal(0)
                    )
        if family.date_field:
            assert sum(month["count"] for month in stats["by_month"]) == sum(
                1 for r in rows if getattr(r, family.date_field)
            )


def test_query_counts_do_not_grow_with_the_page(mirrored, api_client, django_assert_num_queries):
    """List: token, permissions, the capped count, the page with its connection; detail: token, permissions,
    the record with its contact, each child list, payments applied, each document it was made from or that
    was made from it (a bill's purchase order, an order's bills). Neither grows with the rows or lines."""
    for endpoint in endpoints_of(mirrored):
        base = scoped(endpoint, mirrored).filter(archived=False, remote_deleted=False)
        if base.count() < 3:
            continue
        counts = []
        for size in (1, 3):
            from django.db import connection as db
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(db) as captured:
                response = api_client.get(f"/api/v1/{endpoint.path}/", {"page_size": size})
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1], (endpoint.key, counts)
        expected_detail = 1 + len(endpoint.family.children) + (1 if endpoint.family.due_amount_field else 0)
        expected_detail += len(endpoint.detail_links)
        record = base[0]
        # + the token lookup, and the user's permissions (their own, their groups') for the action's check.
        with django_assert_num_queries(expected_detail + 3):
            assert api_client.get(f"/api/v1/{endpoint.path}/{record.pk}/").status_code == 200
