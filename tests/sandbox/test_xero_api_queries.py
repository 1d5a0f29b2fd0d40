"""Listing: paging, If-Modified-Since, where, order and the list parameters, through the SDK and raw HTTP;
plus the `where` parser and its SQL translation on their own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from xero_python.exceptions import AccountingBadRequestException

from sandbox.models.xero_records import XeroRecord
from sandbox.xero.api import services, wire
from sandbox.xero.api.entities import INVOICES
from sandbox.xero.api.services import ListQuery
from sandbox.xero.api.where import (
    And,
    Compare,
    Literal,
    Not,
    Or,
    Path,
    QueryParseError,
    matches,
    parse_order,
    parse_where,
    to_q,
)
from tests.sandbox.test_xero_api_support import D, RawXero, line, seed_contact

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def raw(sandbox_url, xero_token, xero_org) -> RawXero:
    return RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], xero_org.tenant_id)


@pytest.fixture
def book(xero_org) -> dict:
    """Five invoices and a bill across two contacts, dates and statuses."""
    acme = seed_contact(xero_org, "Acme")
    bolt = seed_contact(xero_org, "Bolt & Co")

    def invoice(contact, day, status, unit, reference, kind="ACCREC"):
        return {
            "Type": kind,
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": f"2026-03-{day:02d}",
            "DueDate": "2026-04-30",
            "Status": status,
            "Reference": reference,
            "LineItems": [line("Work", "1", unit)],
        }

    created = services.records_create(
        tenant=xero_org,
        collection="Invoices",
        payloads=[
            invoice(acme, 1, "DRAFT", "10.00", "order 1"),
            invoice(acme, 5, "AUTHORISED", "100.00", "Order 2"),
            invoice(bolt, 5, "AUTHORISED", "40.00", "order 3"),
            invoice(bolt, 9, "SUBMITTED", "250.00", "misc"),
            invoice(acme, 12, "AUTHORISED", "5.00", ""),
            invoice(bolt, 12, "AUTHORISED", "60.00", "bill 7", kind="ACCPAY"),
        ],
    )
    return {"acme": acme, "bolt": bolt, "invoices": created}


def numbers(invoices) -> list:
    return [invoice.invoice_number or invoice.reference for invoice in invoices]


def test_paging_at_the_largest_page_size(accounting_api, xero_org):
    contact = seed_contact(xero_org, "Volume Buyer")
    payloads = [
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": "2026-01-02",
            "LineItems": [line("x", "1", "1.00")],
        }
        for _ in range(1050)
    ]
    services.records_create(tenant=xero_org, collection="Invoices", payloads=payloads, emit_events=False)
    first = accounting_api.get_invoices(xero_org.tenant_id, page=1, page_size=1000)
    second = accounting_api.get_invoices(xero_org.tenant_id, page=2, page_size=1000)
    beyond = accounting_api.get_invoices(xero_org.tenant_id, page=3, page_size=1000)
    assert (len(first.invoices), len(second.invoices), len(beyond.invoices)) == (1000, 50, 0)
    assert (first.invoices[0].invoice_number, first.invoices[-1].invoice_number) == ("INV-0001", "INV-1000")
    assert (second.invoices[0].invoice_number, second.invoices[-1].invoice_number) == ("INV-1001", "INV-1050")
    assert (
        second.pagination.page,
        second.pagination.page_size,
        second.pagination.page_count,
        second.pagination.item_count,
    ) == (2, 1000, 2, 1050)
    assert first.invoices[0].line_items[0].line_amount == D("1.00")
    default = accounting_api.get_invoices(xero_org.tenant_id)
    assert (len(default.invoices), default.pagination.page_size, default.pagination.page_count) == (
        100,
        100,
        11,
    )
    # A filter evaluated over bodies pages the same way.
    filtered = accounting_api.get_invoices(xero_org.tenant_id, where="AmountDue>0", page=2, page_size=1000)
    assert [i.invoice_number for i in filtered.invoices][:2] == ["INV-1001", "INV-1002"]
    assert filtered.pagination.item_count == 1050


def test_page_size_limits(raw):
    for query in ("pageSize=1001", "pageSize=0", "page=0", "page=two"):
        response = raw.get(f"Invoices?{query}")
        assert response.status_code == 400, query
        assert response.json()["Type"] == "QueryParseException"
    assert raw.get("Invoices?pageSize=1000").status_code == 200


def test_if_modified_since_is_strictly_later(accounting_api, xero_org, raw):
    contact = seed_contact(xero_org, "Timely")
    payload = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "LineItems": [line("x", "1", "1.00")],
    }
    [older] = services.records_create(tenant=xero_org, collection="Invoices", payloads=[payload])
    time.sleep(0.01)
    [newer] = services.records_create(tenant=xero_org, collection="Invoices", payloads=[payload])
    older_at = wire.parse_ms(older["UpdatedDateUTC"])
    assert older_at is not None
    tenant = xero_org.tenant_id
    assert numbers(accounting_api.get_invoices(tenant, if_modified_since=older_at).invoices) == [
        newer["InvoiceNumber"]
    ]
    # A naive datetime means UTC.
    naive = older_at.replace(tzinfo=None)
    assert numbers(accounting_api.get_invoices(tenant, if_modified_since=naive).invoices) == [
        newer["InvoiceNumber"]
    ]
    before = older_at - timedelta(milliseconds=1)
    assert len(accounting_api.get_invoices(tenant, if_modified_since=before).invoices) == 2
    # An offset is honoured: the same instant written in UTC+02:00.
    local = (older_at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+02:00"
    response = raw.get("Invoices", headers={"If-Modified-Since": local})
    assert [i["InvoiceID"] for i in response.json()["Invoices"]] == [newer["InvoiceID"]]
    # The contact was updated before both invoices: nothing newer.
    assert accounting_api.get_contacts(tenant, if_modified_since=older_at).contacts == []


def test_where_operators(accounting_api, xero_org, book):
    tenant = xero_org.tenant_id
    acme = book["acme"]["ContactID"]

    def where(clause: str) -> list:
        return numbers(accounting_api.get_invoices(tenant, where=clause).invoices)

    assert where('Status=="AUTHORISED"') == ["INV-0002", "INV-0003", "INV-0005", "bill 7"]
    assert where('Status!="AUTHORISED"') == ["INV-0001", "INV-0004"]
    assert where('Type=="ACCREC" AND AmountDue>50') == ["INV-0002", "INV-0004"]
    assert where("Total>=48 AND Total<=120") == ["INV-0002", "INV-0003", "bill 7"]
    assert where("Total<12.00") == ["INV-0005"]
    assert where("Total<=12") == ["INV-0001", "INV-0005"]
    assert where("Total==120.00") == ["INV-0002"]
    assert where(f'Contact.ContactID==Guid("{acme.upper()}")') == ["INV-0001", "INV-0002", "INV-0005"]
    assert where(f'Contact.ContactID!=Guid("{acme}")') == ["INV-0003", "INV-0004", "bill 7"]
    assert where('Contact.Name=="Bolt & Co"') == ["INV-0003", "INV-0004", "bill 7"]
    assert where("Date>=DateTime(2026,03,05) AND Date<DateTime(2026, 3, 12)") == [
        "INV-0002",
        "INV-0003",
        "INV-0004",
    ]
    assert where("Date==DateTime(2026,03,12)") == ["INV-0005", "bill 7"]
    assert where("Date>DateTime(2026,03,09,12,00,00)") == ["INV-0005", "bill 7"]
    assert where('Reference.Contains("rder")') == ["INV-0001", "INV-0002", "INV-0003"]
    assert where('Reference.StartsWith("order")') == ["INV-0001", "INV-0003"]
    assert where('Reference.ToLower().StartsWith("order")') == ["INV-0001", "INV-0002", "INV-0003"]
    assert where('Reference.EndsWith("7")') == ["bill 7"]
    assert where('(Status=="DRAFT" OR Status=="SUBMITTED") AND Total<100') == ["INV-0001"]
    assert where('Status=="DRAFT" || Status=="SUBMITTED"') == ["INV-0001", "INV-0004"]
    assert where('NOT (Status=="AUTHORISED") && Total > 100') == ["INV-0004"]
    assert where('Reference==""') == ["INV-0005"]
    assert where("BrandingThemeID==null AND HasErrors==false AND IsDiscounted==False") == numbers(
        accounting_api.get_invoices(tenant).invoices
    )
    assert where('InvoiceNumber="INV-0003"') == ["INV-0003"]
    with pytest.raises(AccountingBadRequestException) as raised:
        where('Status=="AUTHORISED" AND')
    assert raised.value.error_data["Type"] == "QueryParseException"
    assert raised.value.error_data["ErrorNumber"] == 16


def test_order_and_list_parameters(accounting_api, xero_org, book):
    tenant = xero_org.tenant_id
    assert numbers(accounting_api.get_invoices(tenant, order="Total DESC").invoices) == [
        "INV-0004",
        "INV-0002",
        "bill 7",
        "INV-0003",
        "INV-0001",
        "INV-0005",
    ]
    assert numbers(accounting_api.get_invoices(tenant, order="Date DESC, InvoiceNumber ASC").invoices) == [
        "bill 7",
        "INV-0005",
        "INV-0004",
        "INV-0002",
        "INV-0003",
        "INV-0001",
    ]
    assert numbers(accounting_api.get_invoices(tenant, order="Contact.Name DESC,Total").invoices) == [
        "INV-0003",
        "bill 7",
        "INV-0004",
        "INV-0005",
        "INV-0001",
        "INV-0002",
    ]
    invoices = book["invoices"]
    ids = [invoices[3]["InvoiceID"], invoices[0]["InvoiceID"]]
    assert numbers(accounting_api.get_invoices(tenant, i_ds=ids).invoices) == ["INV-0001", "INV-0004"]
    assert numbers(accounting_api.get_invoices(tenant, statuses=["DRAFT", "SUBMITTED"]).invoices) == [
        "INV-0001",
        "INV-0004",
    ]
    assert numbers(
        accounting_api.get_invoices(tenant, contact_i_ds=[book["bolt"]["ContactID"]]).invoices
    ) == [
        "INV-0003",
        "INV-0004",
        "bill 7",
    ]
    assert numbers(
        accounting_api.get_invoices(tenant, invoice_numbers=["INV-0005", "INV-0002"]).invoices
    ) == [
        "INV-0002",
        "INV-0005",
    ]
    assert numbers(accounting_api.get_invoices(tenant, search_term="ORDER").invoices) == [
        "INV-0001",
        "INV-0002",
        "INV-0003",
    ]
    summary = accounting_api.get_invoices(tenant, summary_only=True, statuses=["DRAFT"]).invoices[0]
    assert (summary.line_items, summary.payments, summary.total) == (None, None, D("12.00"))
    combined = accounting_api.get_invoices(
        tenant, statuses=["AUTHORISED"], where='Type=="ACCREC"', order="Total ASC", page=1, page_size=2
    )
    assert numbers(combined.invoices) == ["INV-0005", "INV-0003"]
    assert (combined.pagination.page_count, combined.pagination.item_count) == (2, 3)


def test_envelope_and_json_types(raw, book):
    response = raw.get("Invoices", params={"Statuses": "DRAFT", "summaryOnly": "false"})
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    text = response.text
    assert text.startswith('{"Id":"')
    body = wire.decode(text)
    assert (body["Status"], body["ProviderName"]) == ("OK", "Ledgerlink tests")
    assert wire.MS_DATE.match(body["DateTimeUTC"])
    assert "+" not in body["DateTimeUTC"]
    assert body["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 1}
    [invoice] = body["Invoices"]
    assert invoice["Date"] == "/Date(1772323200000+0000)/"  # 2026-03-01
    assert invoice["DateString"] == "2026-03-01T00:00:00"
    assert invoice["HasErrors"] is False
    assert '"Total":12.00,' in text
    assert '"SubTotal":10.00,' in text
    assert isinstance(invoice["Total"], Decimal)


def test_where_translation_agrees_with_evaluation(xero_org, book):
    """Every clause gives the same documents whether SQL or the evaluator decides it."""
    bodies = [
        wire.decode(text)
        for text in XeroRecord.objects.filter(collection="Invoices")
        .order_by("id")
        .values_list("body", flat=True)
    ]
    acme = book["acme"]["ContactID"]
    clauses = [
        'Status=="AUTHORISED"',
        'Status!="DRAFT"',
        "InvoiceNumber==null",
        "InvoiceNumber!=null",
        'InvoiceNumber=="INV-0002" OR InvoiceNumber=="INV-0004"',
        f'Contact.ContactID==Guid("{acme}")',
        f'Contact.ContactID!=Guid("{acme}") AND Type=="ACCREC"',
        "Date>DateTime(2026,3,5)",
        "Date<=DateTime(2026,3,5)",
        "Date!=DateTime(2026,3,5)",
        "Date>=DateTime(2026,3,5,10,0,0)",
        "Date<DateTime(2026,3,5,10,0,0)",
        "Date==DateTime(2026,3,5,10,0,0)",
        "UpdatedDateUTC>DateTime(2000,1,1)",
        f'InvoiceID==Guid("{book["invoices"][2]["InvoiceID"]}")',
    ]
    for clause in clauses:
        node = parse_where(clause)
        _q, exact = to_q(node, INVOICES.columns())
        assert exact, clause
        via_sql = services.records_list(
            tenant=xero_org, collection="Invoices", query=ListQuery(where=clause, page_size=1000)
        )
        sql_ids = [wire.decode(text)["InvoiceID"] for text in via_sql.items]
        evaluated = [body["InvoiceID"] for body in bodies if matches(node, body)]
        assert sql_ids == evaluated, clause


def test_parser_shapes_and_errors():
    assert parse_where('Status=="A" AND (Total>1 OR !IsDiscounted)') == And(
        (
            Compare("==", Path(("Status",)), Literal("A")),
            Or((Compare(">", Path(("Total",)), Literal(Decimal(1))), Not(Path(("IsDiscounted",))))),
        )
    )
    assert parse_where('Name=="say \\"hi\\""') == Compare("==", Path(("Name",)), Literal('say "hi"'))
    assert parse_where('Status<>"X"') == Compare("!=", Path(("Status",)), Literal("X"))
    assert parse_where("Date>=DateTime(2020,01,31)") == Compare(
        ">=", Path(("Date",)), Literal(datetime(2020, 1, 31, tzinfo=UTC))
    )
    assert matches(parse_where('Contact.Name.StartsWith("Ac")'), {"Contact": {"Name": "Acme"}})
    assert not matches(parse_where("Total>5"), {"Total": "10"})  # a string is not a number
    assert matches(parse_where("Total>5"), {"Total": Decimal("5.01")})
    assert matches(
        parse_where("UpdatedDateUTC>DateTime(2018,11,2)"), {"UpdatedDateUTC": "/Date(1541176290160+0000)/"}
    )
    for bad in (
        'Status=="open',
        "Status==",
        "Name.Explode()",
        "Guid(1)",
        "DateTime(2020,13,1)",
        "DateTime(1)",
        "(A==1",
        "A==1 B==2",
        "#",
    ):
        with pytest.raises(QueryParseError):
            parse_where(bad)
    assert [(term.parts, term.descending) for term in parse_order("Date DESC, Contact.Name")] == [
        (("Date",), True),
        (("Contact", "Name"), False),
    ]
    with pytest.raises(QueryParseError):
        parse_order("Date DOWN")
