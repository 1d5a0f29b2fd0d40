"""The v3 protocol around the entities: requestid replay, envelopes and headers, batch, change data
capture, Preferences and CompanyInfo, and the webhook events writes report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone
from quickbooks.batch import batch_create, batch_delete
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ValidationException
from quickbooks.mixins import DecimalEncoder
from quickbooks.objects.base import CustomField, Ref
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.vendor import Vendor

from sandbox.models import WebhookEvent
from sandbox.models.qbo_records import QboRecord
from sandbox.qbo.api import services, wire

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")


def ref(value: str) -> Ref:
    reference = Ref()
    reference.value = value
    return reference


def customer(qb, name: str) -> Customer:
    made = Customer()
    made.DisplayName = name
    return made.save(qb=qb)


def invoice(qb, buyer: Customer, amount: str = "100.00") -> Invoice:
    sale = Invoice()
    sale.CustomerRef = buyer.to_ref()
    line = SalesItemLine()
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("1")
    sale.Line = [line]
    return sale.save(qb=qb)


@pytest.fixture
def http(qbo_url, qbo_company, qbo_token):
    """Plain HTTP to the company's v3 API, for what the SDK hides (headers, raw envelopes)."""

    def call(method: str, path: str, headers: dict[str, str] | None = None, **kwargs) -> requests.Response:
        return requests.request(
            method,
            f"{qbo_url}/v3/company/{qbo_company.tenant_id}/{path}",
            headers={
                "Authorization": f"Bearer {qbo_token['access_token']}",
                "Accept": "application/json",
                **(headers or {}),
            },
            timeout=30,
            **kwargs,
        )

    return call


# --- requestid, envelopes, headers -----------------------------------------------------------------------


def test_requestid_replays_the_original_response_without_executing_again(qbo_client, http):
    first = Customer()
    first.DisplayName = "Replayed Customer"
    created = first.save(qb=qbo_client, request_id="req-1")
    retry = Customer()
    retry.DisplayName = "Different Body Same Id"
    replayed = retry.save(qb=qbo_client, request_id="req-1")
    assert replayed.to_json() == created.to_json()
    assert Customer.count(qb=qbo_client) == 1
    # Faults are replayed too; another requestid executes afresh.
    clash = {"DisplayName": "Replayed Customer"}
    refused = http("POST", "customer", params={"requestid": "req-2"}, json=clash)
    again = http("POST", "customer", params={"requestid": "req-2"}, json={"DisplayName": "Would Work"})
    assert refused.status_code == again.status_code == 400
    assert refused.text == again.text
    assert json.loads(again.text)["Fault"]["Error"][0]["code"] == "6240"
    fresh = http("POST", "customer", params={"requestid": "req-3"}, json={"DisplayName": "Would Work"})
    assert fresh.json()["Customer"]["DisplayName"] == "Would Work"


def test_envelopes_headers_and_minorversion(qbo_client, http):
    made = customer(qbo_client, "Envelope Check")
    response = http("GET", f"customer/{made.Id}", params={"minorversion": "4"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.headers["intuit_tid"].startswith("1-")
    body = response.json()
    assert set(body) == {"Customer", "time"}
    assert TIME.match(body["time"])
    assert body["Customer"]["Id"] == made.Id
    assert re.match(
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", body["Customer"]["MetaData"]["CreateTime"]
    )
    fault = http("POST", "customer", json={"DisplayName": "Envelope Check"})
    assert fault.status_code == 400
    assert fault.headers["Content-Type"] == "application/json"
    assert set(fault.json()) == {"Fault", "time"}
    assert TIME.match(fault.json()["time"])
    posted = http(
        "POST", "query", data="SELECT * FROM Customer", headers={"Content-Type": "application/text"}
    )
    assert [found["Id"] for found in posted.json()["QueryResponse"]["Customer"]] == [made.Id]
    count = http("GET", "query", params={"query": "SELECT COUNT(*) FROM Customer"}).json()
    assert set(count) == {"QueryResponse", "time"}
    assert count["QueryResponse"] == {"totalCount": 1}


# --- batch -----------------------------------------------------------------------------------------------


def test_sdk_batch_create_and_delete_with_per_item_faults(qbo_client):
    customer(qbo_client, "Taken Name")
    objects = []
    for name in ("Batch One", "Taken Name", "Batch Three"):
        made = Customer()
        made.DisplayName = name
        objects.append(made)
    result = batch_create(objects, qb=qbo_client)
    assert sorted(found.DisplayName for found in result.successes) == ["Batch One", "Batch Three"]
    assert len(result.faults) == 1
    assert result.faults[0].Error[0].code == "6240"
    assert result.faults[0].original_object.DisplayName == "Taken Name"

    invoices = [invoice(qbo_client, result.successes[0], amount) for amount in ("10.00", "20.00")]
    deleted = batch_delete(invoices, qb=qbo_client)
    assert len(deleted.successes) == 2
    assert Invoice.count(qb=qbo_client) == 0


def test_raw_batch_mixed_operations_bids_and_void(qbo_client, http):
    buyer = customer(qbo_client, "Mixed Batch Buyer")
    stale = invoice(qbo_client, buyer, "30.00")
    voidable = invoice(qbo_client, buyer, "40.00")
    items = [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "129", "SyncToken": "0"}},
        {"bId": "bid3", "operation": "update", "Invoice": {"Id": stale.Id, "SyncToken": "7", "sparse": True}},
        {"bId": "bid4", "Query": "select * from Invoice where TotalAmt > '35.00'"},
        {
            "bId": "bid5",
            "operation": "update",
            "optionsData": "void",
            "Invoice": {"Id": voidable.Id, "SyncToken": "0"},
        },
        {
            "bId": "bid6",
            "operation": "create",
            "Customer": {"DisplayName": "Batch Customer", "Colour": "blue"},
        },
    ]
    response = http("POST", "batch", json={"BatchItemRequest": items})
    assert response.status_code == 200
    body = response.json(parse_float=Decimal)
    assert TIME.match(body["time"])
    answers = body["BatchItemResponse"]
    assert [answer["bId"] for answer in answers] == ["bid1", "bid2", "bid3", "bid4", "bid5", "bid6"]
    vendor = answers[0]["Vendor"]
    assert (vendor["DisplayName"], vendor["PrintOnCheckName"], vendor["Vendor1099"], vendor["Balance"]) == (
        "Boraski Family Store",
        "Boraski Family Store",
        False,
        0,
    )
    assert [answer.get("Fault", {}).get("Error", [{}])[0].get("code") for answer in answers] == [
        None,
        "610",
        "5010",
        None,
        None,
        "2010",
    ]
    assert answers[1]["Fault"]["type"] == "ValidationFault"
    query = answers[3]["QueryResponse"]
    assert (query["startPosition"], query["maxResults"], [i["Id"] for i in query["Invoice"]]) == (
        1,
        1,
        [voidable.Id],
    )
    assert (answers[4]["Invoice"]["TotalAmt"], answers[4]["Invoice"]["PrivateNote"]) == (0, "Voided")
    assert Vendor.count(qb=qbo_client) == 1
    assert Customer.count("DisplayName = 'Batch Customer'", qb=qbo_client) == 0


def test_batch_holds_at_most_30_items(qbo_client, http):
    items = [{"bId": f"b{n}", "Query": "SELECT * FROM Customer"} for n in range(31)]
    refused = http("POST", "batch", json={"BatchItemRequest": items})
    assert refused.status_code == 400
    assert refused.json()["Fault"]["Error"][0]["code"] == "6000"
    accepted = http("POST", "batch", json={"BatchItemRequest": items[:30]})
    assert accepted.status_code == 200
    assert len(accepted.json()["BatchItemResponse"]) == 30
    assert accepted.json()["BatchItemResponse"][0] == {"QueryResponse": {}, "bId": "b0"}


# --- change data capture ---------------------------------------------------------------------------------


def test_cdc_changes_tombstones_and_inactive_objects(qbo_client, http):
    since = timezone.now() - timedelta(seconds=5)
    buyer = customer(qbo_client, "Changing Customer")
    kept = invoice(qbo_client, buyer, "12.00")
    gone = invoice(qbo_client, buyer, "13.00")
    gone.delete(qb=qbo_client)
    retired = customer(qbo_client, "Retired Customer")
    retired.Active = False
    retired.save(qb=qbo_client)

    result = change_data_capture(
        [Invoice, Customer], since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), qb=qbo_client
    )
    invoices = {found.Id: found for found in result.Invoice}
    assert set(invoices) == {kept.Id, gone.Id}
    assert invoices[gone.Id].status == "Deleted"
    assert invoices[kept.Id].TotalAmt == 12.0
    assert {found.DisplayName for found in result.Customer} == {
        "Changing Customer",
        "Retired Customer (deleted)",
    }

    raw = http(
        "GET",
        "cdc",
        params={"entities": "Invoice,Customer", "changedSince": since.isoformat(), "minorversion": "75"},
    ).json()
    assert set(raw) == {"CDCResponse", "time"}
    [block] = raw["CDCResponse"]
    invoice_page, customer_page = block["QueryResponse"]
    assert (invoice_page["startPosition"], invoice_page["maxResults"]) == (1, 2)
    tombstone = next(found for found in invoice_page["Invoice"] if found["Id"] == gone.Id)
    assert set(tombstone) == {"domain", "status", "Id", "MetaData"}
    assert (tombstone["domain"], tombstone["status"], set(tombstone["MetaData"])) == (
        "QBO",
        "Deleted",
        {"LastUpdatedTime"},
    )
    assert customer_page["maxResults"] == 2


def test_cdc_nothing_changed_and_the_30_day_limit(qbo_client, http):
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    nothing = http("GET", "cdc", params={"entities": "Invoice", "changedSince": later}).json()
    assert nothing["CDCResponse"] == [{"QueryResponse": [{}]}]
    result = change_data_capture([Invoice], later, qb=qbo_client)
    assert not hasattr(result, "Invoice")
    with pytest.raises(ValidationException) as too_old:
        change_data_capture([Invoice], datetime.now() - timedelta(days=31), qb=qbo_client)  # noqa: DTZ005
    assert too_old.value.error_code == 4001
    assert "older than fixed days is not supported" in too_old.value.detail


def test_cdc_returns_at_most_1000_objects_oldest_first(qbo_company, qbo_client):
    start = timezone.now() - timedelta(days=2)
    bodies = [
        {
            "Id": str(number),
            "SyncToken": "0",
            "DisplayName": f"Bulk {number:04d}",
            "Active": True,
            "MetaData": {
                "CreateTime": wire.stamp(start),
                "LastUpdatedTime": wire.stamp(start + timedelta(seconds=number)),
            },
        }
        for number in range(1, 1101)
    ]
    services.records_bulk_insert(tenant=qbo_company, entity="Customer", bodies=bodies)
    # python-quickbooks writes a datetime without offset, which QBO reads in the company's (Pacific) time.
    local = (start - timedelta(hours=1)).astimezone(wire.INTUIT_ZONE).replace(tzinfo=None)
    result = change_data_capture([Customer], local, qb=qbo_client)
    assert len(result.Customer) == 1000
    assert result.Customer[0].DisplayName == "Bulk 0001"
    assert result.Customer[-1].DisplayName == "Bulk 1000"


# --- Preferences, CompanyInfo ----------------------------------------------------------------------------


def test_preferences_read_update_and_legacy_custom_fields(qbo_client, qbo_company, http):
    prefs = Preferences.get(qb=qbo_client)
    assert prefs.Id == "1"
    groups = prefs.SalesFormsPrefs.CustomField
    flags = {field["Name"]: field.get("BooleanValue") for group in groups for field in group["CustomField"]}
    assert flags["SalesFormsPrefs.UseSalesCustom1"] is True
    assert flags["SalesFormsPrefs.UseSalesCustom2"] is False
    assert {field.get("StringValue") for group in groups for field in group["CustomField"]} >= {"Crew #"}

    answer = http(
        "POST",
        "preferences",
        json={"Id": "1", "SyncToken": "0", "sparse": True, "SalesFormsPrefs": {"AllowDiscount": False}},
    ).json()["Preferences"]
    assert answer["SyncToken"] == "1"
    assert answer["SalesFormsPrefs"]["AllowDiscount"] is False
    assert answer["SalesFormsPrefs"]["DefaultTerms"] == {"value": "3"}
    assert answer["SalesFormsPrefs"]["CustomField"] == json.loads(json.dumps(groups))

    # The definitions are read-only through the API; a company is configured by importing Preferences.
    enabled = json.loads(json.dumps(answer, cls=DecimalEncoder))
    enabled["SalesFormsPrefs"]["CustomField"] = [
        {
            "CustomField": [
                {"Name": f"SalesFormsPrefs.UseSalesCustom{n}", "Type": "BooleanType", "BooleanValue": n < 3}
                for n in (1, 2, 3)
            ]
        },
        {
            "CustomField": [
                {"Name": "SalesFormsPrefs.SalesCustomName1", "Type": "StringType", "StringValue": "Crew #"},
                {"Name": "SalesFormsPrefs.SalesCustomName2", "Type": "StringType", "StringValue": "PO Ref"},
            ]
        },
    ]
    services.records_bulk_insert(tenant=qbo_company, entity="Preferences", bodies=[enabled], replace=True)
    sale = Invoice()
    sale.CustomerRef = customer(qbo_client, "Custom Field Buyer").to_ref()
    line = SalesItemLine()
    line.Amount = 5
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("1")
    sale.Line = [line]
    value = CustomField()
    value.DefinitionId, value.StringValue, value.Type = "2", "PO-778", "StringType"
    sale.CustomField = [value]
    created = sale.save(qb=qbo_client)
    assert [
        (f.DefinitionId, f.Name, getattr(f, "StringValue", None) or None) for f in created.CustomField
    ] == [
        ("1", "Crew #", None),
        ("2", "PO Ref", "PO-778"),
    ]


def test_company_info_by_realm_id_and_update(qbo_client, qbo_company):
    info = CompanyInfo.get(qbo_company.tenant_id, qb=qbo_client)
    assert (info.Id, info.CompanyName, info.Country) == ("1", "Sandbox Company_US_1", "US")
    info.CompanyName = "Renamed Company"
    updated = info.save(qb=qbo_client)
    assert (updated.SyncToken, updated.CompanyName) == ("1", "Renamed Company")
    assert CompanyInfo.query("SELECT * FROM CompanyInfo", qb=qbo_client)[0].CompanyName == "Renamed Company"


# --- webhooks --------------------------------------------------------------------------------------------


def test_writes_report_webhook_events_after_commit(qbo_client, qbo_app, settings):
    settings.SANDBOX_WEBHOOK_SENDER = False
    qbo_app.webhook_url = "http://127.0.0.1:9/qbo/webhooks"
    qbo_app.save()
    buyer = customer(qbo_client, "Webhook Buyer")
    sale = invoice(qbo_client, buyer)
    sale.void(qb=qbo_client)
    Invoice.get(sale.Id, qb=qbo_client).delete(qb=qbo_client)
    buyer = Customer.get(buyer.Id, qb=qbo_client)
    buyer.Active = False
    buyer.save(qb=qbo_client)
    # A refused write reports nothing.
    with pytest.raises(ValidationException):
        Invoice().save(qb=qbo_client)
    events = list(WebhookEvent.objects.order_by("id").values_list("category", "event_type", "resource_id"))
    assert events == [
        ("Customer", "Create", buyer.Id),
        ("Invoice", "Create", sale.Id),
        ("Invoice", "Void", sale.Id),
        ("Invoice", "Delete", sale.Id),
        ("Customer", "Delete", buyer.Id),
    ]
    # Balance changes are QBO's own bookkeeping: no event, no SyncToken, but stored.
    assert QboRecord.objects.get(entity="Customer", record_id=buyer.Id).deleted is False
