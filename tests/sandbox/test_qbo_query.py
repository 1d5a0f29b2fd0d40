"""The QBO query language: the parser on its own, then queries through the unmodified SDK and plain HTTP
over a company bulk-loaded with more than 1,000 customers."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from quickbooks.exceptions import ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from sandbox.qbo import query as ql
from sandbox.qbo.api import services, wire

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

COUNT = 1250


# --- the parser ------------------------------------------------------------------------------------------


def test_parse_full_statement():
    parsed = ql.parse(
        "select * from Customer where DisplayName = 'Amy\\'s' AND Balance >= 10.5 AND Id IN ('1', '2') "
        "AND MetaData.LastUpdatedTime > '2024-06-01T00:00:00' AND CompanyName LIKE '%Bird%' "
        "ORDER BY DisplayName DESC, Id STARTPOSITION 11 MAXRESULTS 5"
    )
    assert parsed.entity == "Customer"
    assert (parsed.count, parsed.start_position, parsed.max_results) == (False, 11, 5)
    assert [(c.path, c.op, [v.text for v in c.values]) for c in parsed.conditions] == [
        (("DisplayName",), "=", ["Amy's"]),
        (("Balance",), ">=", ["10.5"]),
        (("Id",), "IN", ["1", "2"]),
        (("MetaData", "LastUpdatedTime"), ">", ["2024-06-01T00:00:00"]),
        (("CompanyName",), "LIKE", ["%Bird%"]),
    ]
    assert parsed.order == [ql.OrderTerm(("DisplayName",), True), ql.OrderTerm(("Id",), False)]


def test_parse_count_extra_fields_defaults_and_cap():
    assert ql.parse("SELECT COUNT(*) FROM Vendor").count is True
    item = ql.parse("SELECT *, Sku FROM Item ORDERBY Name")
    assert (item.extra_fields, item.order, item.max_results, item.start_position) == (
        ("Sku",),
        [ql.OrderTerm(("Name",), False)],
        100,
        1,
    )
    assert ql.parse("SELECT * FROM Item MAXRESULTS 5000").max_results == 1000
    # MAXRESULTS before STARTPOSITION, as some clients write it.
    both = ql.parse("SELECT * FROM Customer MAXRESULTS 1000 STARTPOSITION 1")
    assert (both.start_position, both.max_results) == (1, 1000)
    assert ql.parse("SELECT * FROM Customer WHERE Active = True").conditions[0].values[0].boolean is True


@pytest.mark.parametrize(
    ("statement", "detail"),
    [
        (
            "SELECT * FROM Customer STARTPOSITION 0",
            "QueryValidationError: value 0 is too small. Min allowed value is 1",
        ),
        ("SELECT * FROM Customer WHERE Active = true OR Active = false", "QueryParserError:"),
        ("SELECT * Customer", "QueryParserError:"),
        ("SELECT * FROM Customer WHERE DisplayName = 'open", "QueryParserError:"),
        (
            "SELECT * FROM Customer WHERE DisplayName != 'x'",
            "QueryValidationError: operator != is not supported",
        ),
        ("SELECT * FROM Customer ORDERBY", "QueryParserError:"),
        ("", "QueryParserError:"),
    ],
)
def test_parse_errors(statement, detail):
    with pytest.raises(ql.QueryError) as error:
        ql.parse(statement)
    assert error.value.detail.startswith(detail)


def test_matching_rules_on_bodies():
    body = {
        "DisplayName": "Amy's Bird Sanctuary",
        "Balance": Decimal("639.00"),
        "Active": True,
        "CustomerRef": {"value": "12", "name": "x"},
        "MetaData": {"LastUpdatedTime": "2020-09-29T06:02:35-07:00"},
        "TxnDate": "2020-09-29",
    }

    def where(clause: str) -> bool:
        statement = f"SELECT * FROM Customer WHERE {clause}"  # noqa: S608 - QBO's query language, not SQL
        return all(ql.matches(body, c) for c in ql.parse(statement).conditions)

    assert where("DisplayName = 'amy\\'s bird sanctuary'")
    assert where("DisplayName LIKE 'Amy%Sanctuary'")
    assert not where("DisplayName LIKE 'Bird%'")
    assert where("Balance > '638.99'")
    assert where("Balance = 639")
    assert not where("Balance < 639")
    assert where("Active IN (true, false)")
    assert not where("Active = false")
    assert where("CustomerRef = '12'")
    assert where("MetaData.LastUpdatedTime > '2020-09-29T13:02:34Z'")
    assert not where("MetaData.LastUpdatedTime > '2020-09-29T06:02:35-07:00'")
    assert where("TxnDate >= '2020-09-29'")
    assert not where("TxnDate > '2020-09-29'")
    assert not where("CompanyName = 'x'")


# --- through HTTP ----------------------------------------------------------------------------------------


@pytest.fixture
def many_customers(qbo_company):
    """1,250 customers: ids 1..1250, names "Customer 0001"..., Balance = number, the last 250 changed in
    2025, every 100th inactive."""
    early = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    late = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    bodies = []
    for number in range(1, COUNT + 1):
        changed = (late if number > 1000 else early) + timedelta(minutes=number)
        name = f"Customer {number:04d}" if number % 100 else f"Customer {number:04d} (deleted)"
        bodies.append(
            {
                "domain": "QBO",
                "sparse": False,
                "Id": str(number),
                "SyncToken": "0",
                "MetaData": {"CreateTime": wire.stamp(early), "LastUpdatedTime": wire.stamp(changed)},
                "DisplayName": name,
                "FullyQualifiedName": name,
                "CompanyName": "Even Co" if number % 2 == 0 else "Odd Co",
                "Balance": Decimal(number),
                "Active": bool(number % 100),
            }
        )
    assert services.records_bulk_insert(tenant=qbo_company, entity="Customer", bodies=bodies) == COUNT
    return bodies


def http_query(qbo_url, qbo_company, qbo_token, statement: str) -> requests.Response:
    return requests.get(
        f"{qbo_url}/v3/company/{qbo_company.tenant_id}/query",
        params={"query": statement, "minorversion": "75"},
        headers={"Authorization": f"Bearer {qbo_token['access_token']}", "Accept": "application/json"},
        timeout=30,
    )


def test_paging_at_1000_over_more_rows(many_customers, qbo_client, qbo_url, qbo_company, qbo_token):
    active = COUNT - COUNT // 100
    started = time.perf_counter()
    response = http_query(
        qbo_url, qbo_company, qbo_token, "SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1000"
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    page = response.json(parse_float=Decimal)["QueryResponse"]
    assert (page["startPosition"], page["maxResults"], len(page["Customer"])) == (1, 1000, 1000)
    assert page["Customer"][0] == wire.decode(wire.encode(many_customers[0]))
    assert elapsed < 2.0, f"a 1,000-row page took {elapsed:.3f}s"

    rest = Customer.query("SELECT * FROM Customer STARTPOSITION 1001 MAXRESULTS 1000", qb=qbo_client)
    assert len(rest) == active - 1000
    assert rest[-1].DisplayName == "Customer 1250"
    statement = f"SELECT * FROM Customer STARTPOSITION {COUNT + 1}"  # noqa: S608 - QBO's query language
    beyond = http_query(qbo_url, qbo_company, qbo_token, statement)
    assert set(beyond.json()) == {"QueryResponse", "time"}
    assert beyond.json()["QueryResponse"] == {}
    # Without MAXRESULTS a page holds 100 (what python-quickbooks' filter() silently gets).
    assert len(Customer.filter(CompanyName="Odd Co", qb=qbo_client)) == 100


def test_count_active_filter_and_inactive_rows(many_customers, qbo_client):
    assert Customer.count(qb=qbo_client) == COUNT - COUNT // 100
    assert Customer.count("Active IN (true, false)", qb=qbo_client) == COUNT
    assert Customer.count("Active = false", qb=qbo_client) == COUNT // 100
    assert Customer.count("CompanyName = 'Even Co'", qb=qbo_client) == 625 - 12


def test_order_by_indexed_and_body_properties(many_customers, qbo_client):
    newest = Customer.filter(order_by="DisplayName DESC", max_results=3, qb=qbo_client)
    assert [c.DisplayName for c in newest] == ["Customer 1250", "Customer 1249", "Customer 1248"]
    richest = Customer.where("Balance > '1240'", order_by="Balance DESC", max_results=3, qb=qbo_client)
    assert [c.Balance for c in richest] == [1250, 1249, 1248]
    by_company = Customer.query(
        "SELECT * FROM Customer WHERE Id IN ('1', '2', '3', '4') ORDER BY CompanyName, Id DESC", qb=qbo_client
    )
    assert [c.Id for c in by_company] == ["4", "2", "3", "1"]
    updated = Customer.query(
        "SELECT * FROM Customer ORDERBY MetaData.LastUpdatedTime DESC MAXRESULTS 2", qb=qbo_client
    )
    assert [c.Id for c in updated] == ["1250", "1249"]


def test_like_in_and_dotted_properties(many_customers, qbo_client):
    def active(predicate) -> int:
        return sum(1 for body in many_customers if body["Active"] and predicate(body))

    assert Customer.count("DisplayName LIKE 'Customer 12%'", qb=qbo_client) == 50
    assert Customer.count("DisplayName LIKE '%99'", qb=qbo_client) == 12
    # An inner wildcard is decided on the bodies, with the same rules.
    inner = re.compile(r"^customer.*0.*1$")
    assert Customer.count("DisplayName LIKE 'customer%0%1'", qb=qbo_client) == active(
        lambda body: inner.match(body["DisplayName"].lower())
    )
    chosen = Customer.choose(["Customer 0001", "Customer 0003"], field="DisplayName", qb=qbo_client)
    assert [c.Id for c in chosen] == ["1", "3"]
    recent = "MetaData.LastUpdatedTime >= '2025-01-01T00:00:00-08:00'"
    assert Customer.count(recent, qb=qbo_client) == 248
    assert Customer.count(f"{recent} AND Active IN (true, false)", qb=qbo_client) == 250
    assert Customer.count("Metadata.CreateTime < '2024-03-02'", qb=qbo_client) == COUNT - COUNT // 100
    assert Customer.count("Id > '1240'", qb=qbo_client) == 10
    assert Customer.count("Balance >= '1000' AND CompanyName = 'Odd Co'", qb=qbo_client) == 125


def test_strings_with_quotes_and_sdk_queries(qbo_client):
    amy = Customer()
    amy.DisplayName = "Amy's Bird Sanctuary"
    amy.save(qb=qbo_client)
    found = Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qbo_client)
    assert [c.DisplayName for c in found] == ["Amy's Bird Sanctuary"]
    # python-quickbooks' Item.all() asks for `SELECT *, Sku`.
    assert [item.Name for item in Item.all(qb=qbo_client)] == ["Services"]
    # No rows: the QueryResponse is empty and the SDK gets an empty list.
    assert Invoice.all(qb=qbo_client) == []
    assert Customer.query("select * from customer where active = true", qb=qbo_client)[0].Id == amy.Id


def test_unknown_property_is_not_queryable(qbo_client):
    with pytest.raises(ValidationException) as error:
        Customer.where("Colour = 'blue'", qb=qbo_client)
    assert error.value.error_code == 4001
    assert error.value.detail == "QueryValidationError: property 'Colour' is not queryable"
