"""The service API the seed generator and the importer use, called without HTTP; what it stores is then
read through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.vendor import Vendor

from sandbox.models.qbo_records import QboRecord
from sandbox.qbo.api import services, wire

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def invoice_payload(customer_id: str, amount: str) -> dict:
    return {
        "CustomerRef": {"value": customer_id},
        "TxnDate": "2025-05-01",
        "Line": [
            {
                "Amount": Decimal(amount),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "1"},
                    "Qty": 2,
                    "UnitPrice": Decimal(amount) / 2,
                },
            }
        ],
    }


def test_records_create_validates_computes_and_bulk_writes(qbo_company, qbo_client):
    customers = services.records_create(
        tenant=qbo_company,
        entity="Customer",
        payloads=[{"DisplayName": f"Seeded {number:03d}"} for number in range(1, 51)],
    )
    assert [c["Id"] for c in customers[:3]] == ["1", "2", "3"]
    invoices = services.records_create(
        tenant=qbo_company,
        entity="Invoice",
        payloads=[invoice_payload(customers[number % 50]["Id"], f"{number}.50") for number in range(1, 301)],
    )
    assert len(invoices) == 300
    assert [i["DocNumber"] for i in invoices[:2]] == ["1001", "1002"]
    assert invoices[0]["DueDate"] == "2025-05-31"
    assert invoices[0]["TotalAmt"] == Decimal("1.50")
    # Customer 1 holds invoices 50, 100, ..., 300: 50.50 + 100.50 + ... + 300.50.
    expected = sum(Decimal(f"{number}.50") for number in range(50, 301, 50))
    qbo_client.use_decimal = True
    assert str(Customer.get(customers[0]["Id"], qb=qbo_client).Balance) == str(expected)
    assert Invoice.count(qb=qbo_client) == 300


def test_records_create_is_all_or_nothing(qbo_company):
    with pytest.raises(services.CreateFailed) as failed:
        services.records_create(
            tenant=qbo_company,
            entity="Customer",
            payloads=[{"DisplayName": "First"}, {"DisplayName": "first"}, {"DisplayName": "Third"}],
        )
    assert failed.value.index == 1
    assert failed.value.fault.code == "6240"
    assert not QboRecord.objects.filter(tenant=qbo_company, entity="Customer").exists()


def test_bulk_insert_fills_system_fields_and_refuses_existing_ids(qbo_company, qbo_client):
    stored = services.records_bulk_insert(
        tenant=qbo_company,
        entity="Vendor",
        bodies=[{"DisplayName": "Prebuilt Vendor", "Active": True, "Balance": Decimal("12.30")}],
    )
    assert stored == 1
    [vendor] = QboRecord.objects.filter(tenant=qbo_company, entity="Vendor")
    assert vendor.record_id == "1"
    read = Vendor.get("1", qb=qbo_client)
    assert (read.SyncToken, read.domain, read.DisplayName) == ("0", "QBO", "Prebuilt Vendor")
    # python-quickbooks' Vendor keeps MetaData as the raw dict.
    assert read.MetaData["CreateTime"] == read.MetaData["LastUpdatedTime"]
    with pytest.raises(ValueError, match="Vendor 1 already exists"):
        services.records_bulk_insert(
            tenant=qbo_company, entity="Vendor", bodies=[{"Id": "1", "DisplayName": "X"}]
        )
    # The next id continues after the inserted one.
    assert (
        services.record_save(tenant=qbo_company, entity="Vendor", payload={"DisplayName": "Next"})["Id"]
        == "2"
    )


def test_numbers_are_written_as_intuit_writes_them():
    assert wire.encode({"Amount": wire.money(Decimal("100")), "Zero": wire.money(Decimal("0.00"))}) == (
        '{"Amount":100.00,"Zero":0}'
    )
    # Computed cents round half-up, never half-even, and never through float.
    assert wire.money(Decimal("3") * Decimal("0.335")) == Decimal("1.01")
    assert wire.money(Decimal("0.125")) == Decimal("0.13")
    assert [str(wire.plain(Decimal(text))) for text in ("75.00", "4.50", "22.5", "0.000")] == [
        "75",
        "4.5",
        "22.5",
        "0",
    ]
    # A decoded recording keeps its digits: 337.50 is not 337.5.
    assert (
        wire.encode(wire.decode('{"Amount":337.50,"Qty":4.5,"Rate":-646.8}'))
        == '{"Amount":337.50,"Qty":4.5,"Rate":-646.8}'
    )
