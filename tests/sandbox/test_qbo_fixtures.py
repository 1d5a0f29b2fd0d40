"""Real QBO payloads (shared/fixtures/qbo) imported into a company come back through the API
unchanged: ids, SyncTokens, MetaData and amounts to the digit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice

from sandbox.qbo import fixtures
from sandbox.qbo.api import wire

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "qbo"
ENTITY_FILES = sorted(
    path.name for path in FIXTURES.glob("*.json") if fixtures.entities_in(wire.decode(path.read_bytes()))[0]
)


def test_the_entity_payloads_are_the_expected_files():
    # A new recording in the corpus must be looked at (and is then imported by the tests below).
    assert ENTITY_FILES == [
        "account_deactivate.json",
        "account_query.json",
        "account_read.json",
        "batch_response.json",
        "bill_read.json",
        "cdc_deposit.json",
        "cdc_estimate.json",
        "customer_query.json",
        "customer_read.json",
        "customer_update_full.json",
        "invoice_create.json",
        "invoice_delete.json",
        "invoice_void.json",
        "item_read.json",
        "preferences_query.json",
        "salesreceipt_query.json",
        "taxcode_read.json",
        "taxrate_read.json",
        "vendor_query.json",
        "vendor_query_last_page.json",
        "vendor_read.json",
    ]


@pytest.fixture
def read(qbo_url, qbo_company, qbo_token):
    def get(entity: str, record_id: str) -> requests.Response:
        path = "preferences" if entity == "Preferences" else f"{entity.lower()}/{record_id}"
        return requests.get(
            f"{qbo_url}/v3/company/{qbo_company.tenant_id}/{path}",
            params={"minorversion": "75"},
            headers={"Authorization": f"Bearer {qbo_token['access_token']}", "Accept": "application/json"},
            timeout=10,
        )

    return get


@pytest.mark.parametrize("name", [name for name in ENTITY_FILES if name != "invoice_delete.json"])
def test_fixture_imports_and_reads_back_unchanged(name, qbo_company, read):
    payload = wire.decode((FIXTURES / name).read_bytes())
    found, _ = fixtures.entities_in(payload)
    report = fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / name)
    assert sum(report.counts.values()) == len(found)
    for entity, body in found:
        response = read(entity, body["Id"])
        assert response.status_code == 200, response.text
        # Byte for byte: "337.50" stays "337.50", property order is kept.
        assert response.text.startswith(f'{{"{entity}":{wire.encode(body)},"time":"')
        assert response.json(parse_float=Decimal)[entity] == body


def test_recorded_query_is_answered_with_the_recorded_response(qbo_company, qbo_client):
    recorded = wire.decode((FIXTURES / "customer_query.json").read_bytes())
    fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "customer_query.json")
    qbo_client.use_decimal = True
    answer = qbo_client.query("SELECT * FROM Customer MAXRESULTS 1000 STARTPOSITION 1")
    assert answer["QueryResponse"] == recorded["QueryResponse"]
    assert (
        Customer.count(qb=qbo_client)
        == wire.decode((FIXTURES / "customer_count.json").read_bytes())["QueryResponse"]["totalCount"]
    )


def test_import_all_then_the_api_carries_on_from_the_imported_numbers(qbo_company, qbo_client, read):
    qbo_client.use_decimal = True
    report = fixtures.qbo_path_import(tenant=qbo_company, path=FIXTURES)
    assert report.counts["Customer"] == 43  # 41 listed, then customer 5 and 68 again as read/updated
    assert report.counts["Invoice"] == 3  # created, deleted, and another voided
    assert {
        "Deposit",
        "Estimate",
        "SalesReceipt",
        "Preferences",
        "TaxCode",
        "TaxRate",
        "Bill",
        "Item",
    } <= set(report.counts)
    skipped = "\n".join(report.skipped)
    for name in ("fault_invalid_id_2030.json", "oauth_discovery.json", "webhook.json", "customer_count.json"):
        assert name in skipped
    # The recorded deletion of invoice 266 came after its creation: it is gone.
    with pytest.raises(ObjectNotFoundException):
        Invoice.get("266", qb=qbo_client)
    assert Invoice.get("264", qb=qbo_client).PrivateNote == "Voided"

    amy = Customer.get("1", qb=qbo_client)
    sale = Invoice()
    sale.CustomerRef = amy.to_ref()
    line = SalesItemLine()
    line.Amount = 10
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = "1"
    sale.Line = [line]
    created = sale.save(qb=qbo_client)
    # Ids and document numbers continue above the imported ones (cdc_deposit's 12039 is the highest).
    assert created.Id == "12040"
    assert created.DocNumber == "1044"
    assert created.BillAddr.Line1 == "4581 Finch St."
    # The imported balance (639.00) carries the new invoice.
    assert str(Customer.get("1", qb=qbo_client).Balance) == "649.00"


def test_a_recorded_deletion_leaves_a_tombstone(qbo_company, qbo_client, read):
    fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "invoice_create.json")
    fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "invoice_delete.json")
    assert read("Invoice", "266").status_code == 400
    changes = change_data_capture(
        [Invoice], (timezone.now() - timedelta(minutes=1)).isoformat(), qb=qbo_client
    )
    [tombstone] = changes.Invoice
    assert (tombstone.Id, tombstone.status) == ("266", "Deleted")


def test_files_without_entities_are_refused_alone(qbo_company):
    with pytest.raises(fixtures.ImportFailed):
        fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "customer_count.json")
    with pytest.raises(fixtures.ImportFailed):
        fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "invoice_create_request.json")


# --- recorded requests replayed against imported data give the recorded answers --------------------------

SERVER_CHOSEN = ("Id", "MetaData", "DocNumber", "TxnDate", "DueDate")


def post(qb, path: str, body: dict, **params) -> dict:
    return qb.post(f"{qb.api_url}/company/{qb.company_id}/{path}", wire.encode(body), params=params)


def without(body: dict, keys: tuple[str, ...]) -> dict:
    return {key: value for key, value in body.items() if key not in keys}


def test_recorded_invoice_create_and_void(qbo_company, qbo_client):
    qbo_client.use_decimal = True
    fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "customer_query.json")
    request = wire.decode((FIXTURES / "invoice_create_request.json").read_bytes())
    recorded = wire.decode((FIXTURES / "invoice_create.json").read_bytes())["Invoice"]
    created = post(qbo_client, "invoice", request)["Invoice"]
    # Every property Intuit wrote, with Intuit's values, except those the server picks (id, clock, number).
    assert without(created, SERVER_CHOSEN) == without(recorded, SERVER_CHOSEN)
    assert set(created) == set(recorded)
    assert created["DueDate"] == (date.fromisoformat(created["TxnDate"]) + timedelta(days=30)).isoformat()

    recorded_void = wire.decode((FIXTURES / "invoice_void.json").read_bytes())["Invoice"]
    voided = qbo_client.post(
        f"{qbo_client.api_url}/company/{qbo_client.company_id}/invoice",
        wire.encode({"Id": created["Id"], "SyncToken": created["SyncToken"]}),
        params={"operation": "void"},
    )["Invoice"]
    assert without(voided, SERVER_CHOSEN) == without(recorded_void, SERVER_CHOSEN)


def test_recorded_account_deactivation_is_a_no_op_on_the_recorded_state(qbo_company, qbo_client):
    qbo_client.use_decimal = True
    fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "account_deactivate.json")
    request = wire.decode((FIXTURES / "account_deactivate_request.json").read_bytes())
    recorded = wire.decode((FIXTURES / "account_deactivate.json").read_bytes())["Account"]
    # Already inactive and named so: QBO changes nothing, not even the SyncToken or LastUpdatedTime.
    assert post(qbo_client, "account", request)["Account"] == recorded


def test_recorded_batch_gets_the_recorded_outcomes(qbo_company, qbo_client):
    qbo_client.use_decimal = True
    fixtures.qbo_file_import(tenant=qbo_company, path=FIXTURES / "salesreceipt_query.json")
    request = wire.decode((FIXTURES / "batch_request.json").read_bytes())
    recorded = wire.decode((FIXTURES / "batch_response.json").read_bytes())["BatchItemResponse"]
    answers = post(qbo_client, "batch", request)["BatchItemResponse"]
    assert [answer["bId"] for answer in answers] == [answer["bId"] for answer in recorded]
    assert without(answers[0]["Vendor"], ("Id", "MetaData")) == without(
        recorded[0]["Vendor"], ("Id", "MetaData")
    )
    for mine, theirs in zip(answers[1:3], recorded[1:3], strict=True):
        assert mine["Fault"]["Error"][0]["code"] == theirs["Fault"]["Error"][0]["code"]
        assert mine["Fault"]["type"] == theirs["Fault"]["type"]
    assert answers[1]["Fault"] == recorded[1]["Fault"]
    found = {receipt["Id"]: receipt for receipt in answers[3]["QueryResponse"]["SalesReceipt"]}
    assert found == {receipt["Id"]: receipt for receipt in recorded[3]["QueryResponse"]["SalesReceipt"]}


def test_import_command_loads_the_qbo_fixture_directory(qbo_company):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sandbox_import", "qbo", str(FIXTURES), "--org", qbo_company.tenant_id, stdout=out)
    assert "Imported " in out.getvalue()
    assert f"into {qbo_company.name}." in out.getvalue()
