"""Real Xero payloads (the examples in shared/fixtures/xero) imported into an organisation come back through
the API unchanged: compared as the SDK reads them, and as raw documents."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from xero_python.accounting import Account, Invoice, Payment
from xero_python.api_client.deserializer import deserialize

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.models.xero_records import XeroRecord
from sandbox.xero.fixtures import ImportFailed, normalise, xero_path_import, xero_payload_import
from tests.sandbox.test_xero_api_support import RawXero, decoded

# The corpus lives beside the repository, in the workspace's shared/ directory.
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "xero"

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
    pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"the Xero fixture corpus is not at {FIXTURES}"),
]

# fixture file → (SDK list method, SDK response type, path, array key)
GET_FIXTURES = {
    "accounts": ("get_accounts", "Accounts", "Accounts", "Accounts"),
    "contacts": ("get_contacts", "Contacts", "Contacts", "Contacts"),
    "contact_groups": ("get_contact_groups", "ContactGroups", "ContactGroups", "ContactGroups"),
    "invoices": ("get_invoices", "Invoices", "Invoices", "Invoices"),
    "credit_notes": ("get_credit_notes", "CreditNotes", "CreditNotes", "CreditNotes"),
    "items": ("get_items", "Items", "Items", "Items"),
    "manual_journals": ("get_manual_journals", "ManualJournals", "ManualJournals", "ManualJournals"),
    "payments": ("get_payments", "Payments", "Payments", "Payments"),
    "batch_payments": ("get_batch_payments", "BatchPayments", "BatchPayments", "BatchPayments"),
    "purchase_orders": ("get_purchase_orders", "PurchaseOrders", "PurchaseOrders", "PurchaseOrders"),
    "tax_rates": ("get_tax_rates", "TaxRates", "TaxRates", "TaxRates"),
    "tracking_categories": (
        "get_tracking_categories",
        "TrackingCategories",
        "TrackingCategories",
        "TrackingCategories",
    ),
    "organisation": ("get_organisations", "Organisations", "Organisation", "Organisations"),
}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture
def imported(xero_org) -> Tenant:
    for name in GET_FIXTURES:
        xero_path_import(tenant=xero_org, path=FIXTURES / f"{name}.json")
    return xero_org


@pytest.mark.parametrize("name", list(GET_FIXTURES))
def test_fixture_round_trips_through_the_sdk(name, imported, accounting_api, sandbox_url, xero_token):
    method, response_type, path, array_key = GET_FIXTURES[name]
    expected = normalise(fixture(name))
    got = getattr(accounting_api, method)(imported.tenant_id)
    as_sdk_reads_it = deserialize(response_type, expected, accounting_api.get_model_finder()).to_dict()
    returned = got.to_dict()
    for model in (as_sdk_reads_it, returned):
        model.pop("pagination", None)
    assert returned == as_sdk_reads_it
    attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", array_key).lower()  # ContactGroups → contact_groups
    assert len(getattr(got, attribute)) == len(expected[array_key]) > 0

    # Raw documents too: every field, every value (numbers compared as Decimals).
    raw = RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], imported.tenant_id)
    assert decoded(raw.get(path))[array_key] == expected[array_key]


def test_string_booleans_and_decimals_are_normalised(imported, sandbox_url, xero_token):
    original = fixture("payments")["Payments"][0]["BatchPayment"]
    assert (original["IsReconciled"], original["TotalAmount"]) == ("false", "50.00")
    raw = RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], imported.tenant_id)
    text = raw.get("Payments/99ea7f6b-c513-4066-bc27-b7c65dcd76c2").text
    assert '"TotalAmount":50.00,' in text
    assert '"IsReconciled":false}' in text


def test_imported_documents_are_live(imported, accounting_api):
    """An imported invoice can be paid into an imported bank account, like any other."""
    tenant = imported.tenant_id
    payment = accounting_api.create_payment(
        tenant,
        Payment(
            invoice=Invoice(invoice_number="INV-0003"),
            account=Account(code="091"),
            amount=Decimal("115.00"),
            date=date(2018, 11, 20),
        ),
    ).payments[0]
    invoice = accounting_api.get_invoice(tenant, "7ef31b20-de17-4312-8382-412f869b1510").invoices[0]
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == (
        "PAID",
        Decimal("0.00"),
        Decimal("115.00"),
    )
    assert invoice.fully_paid_on_date == date(2018, 11, 20)
    assert invoice.payments[0].payment_id == payment.payment_id
    # Numbering continues after the imported numbers.
    assert accounting_api.get_invoices(tenant, where='InvoiceNumber=="INV-0003"').invoices[
        0
    ].total == Decimal("115.0")


def test_management_command_imports_a_directory(xero_org):
    out = StringIO()
    call_command("sandbox_import", "xero", str(FIXTURES), "--org", "demo company (uk)", stdout=out)
    output = out.getvalue()
    assert "Invoices: 4" in output  # invoices.json's three, and the one invoices_put_created.json made
    assert "PurchaseOrders: 2" in output  # the refused element of the summarizeErrors example is not stored
    assert "Skipped (not emulated): BankTransactions" in output
    assert XeroRecord.objects.filter(tenant=xero_org, collection="Payments").count() == 2
    stored = XeroRecord.objects.get(tenant=xero_org, record_id="ed255415-e141-4150-aab7-89c3bbbb851c")
    assert "StatusAttributeString" not in stored.body

    # Importing again replaces documents with the same ids instead of duplicating them.
    call_command(
        "sandbox_import",
        "xero",
        str(FIXTURES / "invoices.json"),
        "--org",
        xero_org.tenant_id,
        stdout=StringIO(),
    )
    assert XeroRecord.objects.filter(tenant=xero_org, collection="Invoices").count() == 4


def test_import_errors(xero_org):
    Tenant.objects.create(provider=SandboxProviderChoices.XERO, name="Twin")
    Tenant.objects.create(provider=SandboxProviderChoices.XERO, name="Twin")
    with pytest.raises(CommandError, match="No Xero organisation"):
        call_command("sandbox_import", "xero", str(FIXTURES), "--org", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="2 Xero organisations"):
        call_command("sandbox_import", "xero", str(FIXTURES), "--org", "Twin", stdout=StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("sandbox_import", "xero", "/no/such/file.json", "--org", "nobody", stdout=StringIO())
    with pytest.raises(ImportFailed):
        xero_payload_import(tenant=xero_org, payload=[{"InvoiceID": "x"}])
    with pytest.raises(ImportFailed):
        xero_payload_import(tenant=xero_org, payload={"Invoices": ["not a document"]})
    report = xero_payload_import(
        tenant=xero_org, payload={"Contacts": [{"Name": "No Id Given"}], "Quotes": []}
    )
    assert (report.counts, report.skipped) == ({"Contacts": 1}, ["Quotes"])
    assert XeroRecord.objects.get(collection="Contacts").name == "No Id Given"
