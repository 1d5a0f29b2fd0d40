"""The QBO seed generator: a deterministic company whose documents add up, read back over HTTP with the
unmodified python-quickbooks SDK."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from quickbooks.objects.bill import Bill
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.models.qbo_records import QboRecord
from sandbox.qbo.api import wire
from sandbox.qbo.api.rules.company import default_records
from sandbox.qbo.seed import HISTORY_DAYS, TODAY, company_seed

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

ZERO = Decimal(0)
NAME_LISTS = {
    "Customer": "DisplayName",
    "Vendor": "DisplayName",
    "Account": "Name",
    "Item": "Name",
    "Term": "Name",
    "PaymentMethod": "Name",
    "Class": "Name",
    "Department": "Name",
}


def new_company(name: str = "Seeded Company_US") -> Tenant:
    return Tenant.objects.create(
        provider=SandboxProviderChoices.QBO,
        name=name,
        base_currency="USD",
        country="US",
        limit_concurrent=10,
        limit_minute=10_000,
        limit_day=1_000_000,
    )


def stored(tenant: Tenant) -> list[tuple[str, str, bool, dict[str, Any]]]:
    rows = QboRecord.objects.filter(tenant=tenant).order_by("entity", "id_number", "record_id")
    return [(row.entity, row.record_id, row.deleted, wire.decode(row.body)) for row in rows]


def current(tenant: Tenant, entity: str) -> list[dict[str, Any]]:
    """The live (not deleted) bodies of one type."""
    return [body for kind, _, deleted, body in stored(tenant) if kind == entity and not deleted]


def amount(value: Any) -> Decimal:
    number = wire.to_decimal(value)
    assert number is not None
    return number


def without_default_times(tenant: Tenant) -> list[tuple[str, str, bool, dict[str, Any]]]:
    """Every stored body; those of the defaults a new company starts with lose their MetaData (the one
    clock time a seeded company holds)."""
    defaults = {
        (entity, body["Id"])
        for entity, bodies in default_records(tenant, tenant.created_at).items()
        for body in bodies
    }
    result = []
    for entity, record_id, deleted, body in stored(tenant):
        if (entity, record_id) in defaults:
            body = {key: value for key, value in body.items() if key != "MetaData"}
        result.append((entity, record_id, deleted, body))
    return result


def test_the_same_seed_gives_the_same_company_and_another_seed_another():
    first, second, third = new_company(), new_company(), new_company()
    report_one = company_seed(tenant=first, customers=12, invoices=120, seed=7)
    report_two = company_seed(tenant=second, customers=12, invoices=120, seed=7)
    company_seed(tenant=third, customers=12, invoices=120, seed=8)
    assert report_one.counts == report_two.counts
    one, two = without_default_times(first), without_default_times(second)
    assert len(one) == len(two)
    # Ids, DocNumbers, amounts, links and every MetaData time of the seeded history are identical.
    assert one == two
    invoices_one = [body for entity, _, _, body in one if entity == "Invoice"]
    invoices_three = [body for entity, _, _, body in without_default_times(third) if entity == "Invoice"]
    assert [body["DocNumber"] for body in invoices_one] == [body["DocNumber"] for body in invoices_three]
    assert [body["Line"] for body in invoices_one] != [body["Line"] for body in invoices_three]


@pytest.fixture
def seeded() -> tuple[Tenant, dict[str, int]]:
    tenant = new_company()
    report = company_seed(tenant=tenant, customers=20, invoices=400, seed=3)
    return tenant, report.counts


def test_counts_follow_the_requested_size(seeded):
    tenant, counts = seeded
    # One bill per 5 invoices, one credit memo per 40, one vendor credit per 100, one PO per 50, one
    # journal entry per 100; 20 customers (+1 retired), 5 vendors (+1 retired). The seven orders older than
    # four months are billed: a bill each.
    expected = {
        "Invoice": 400,
        "Bill": 80 + 7,
        "Bill from PurchaseOrder": 7,
        "CreditMemo": 10,
        "VendorCredit": 4,
        "PurchaseOrder": 8,
        "JournalEntry": 4,
        "Customer": 21,
        "Vendor": 6,
        "Account": 8,
        "Item": 11,
        "Term": 3,
        "PaymentMethod": 3,
        "Class": 4,
        "Department": 5,
    }
    assert {entity: counts[entity] for entity in expected} == expected
    for entity in ("Invoice", "Bill", "Payment", "BillPayment"):
        rows = QboRecord.objects.filter(tenant=tenant, entity=entity)
        assert rows.count() == counts[entity]
        assert rows.filter(deleted=True).count() == counts.get(f"{entity} deleted", 0)
    assert counts["Invoice voided"] > 0
    assert counts["Invoice deleted"] > 0
    assert counts["Payment voided"] > 0
    assert counts["Payment"] > counts["Invoice"] // 2


def test_every_invoice_adds_up_and_its_balance_is_what_payments_left(seeded):
    tenant, counts = seeded
    applied: dict[str, Decimal] = defaultdict(lambda: ZERO)
    unapplied: dict[str, Decimal] = defaultdict(lambda: ZERO)
    partial = 0
    for payment in current(tenant, "Payment"):
        lines = sum((amount(line["Amount"]) for line in payment["Line"]), ZERO)
        assert amount(payment["UnappliedAmt"]) == amount(payment["TotalAmt"]) - lines
        unapplied[payment["CustomerRef"]["value"]] += amount(payment["UnappliedAmt"])
        for line in payment["Line"]:
            applied[line["LinkedTxn"][0]["TxnId"]] += amount(line["Amount"])
    voided = 0
    open_by_customer: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in current(tenant, "Invoice"):
        total, balance = amount(invoice["TotalAmt"]), amount(invoice["Balance"])
        if invoice.get("PrivateNote") == "Voided":
            voided += 1
            assert total == ZERO
            assert balance == ZERO
            assert amount(invoice["TxnTaxDetail"]["TotalTax"]) == ZERO
            assert all(amount(line["Amount"]) == ZERO for line in invoice["Line"])
            continue
        items = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        (subtotal,) = [line for line in invoice["Line"] if line["DetailType"] == "SubTotalLineDetail"]
        discounts = [line for line in invoice["Line"] if line["DetailType"] == "DiscountLineDetail"]
        for line in items:
            detail = line["SalesItemLineDetail"]
            assert amount(line["Amount"]) == wire.money(amount(detail["Qty"]) * amount(detail["UnitPrice"]))
        assert amount(subtotal["Amount"]) == sum((amount(line["Amount"]) for line in items), ZERO)
        discount = sum((amount(line["Amount"]) for line in discounts), ZERO)
        for line in discounts:
            percent = amount(line["DiscountLineDetail"]["DiscountPercent"])
            assert amount(line["Amount"]) == wire.money(amount(subtotal["Amount"]) * percent / 100)
        tax = invoice["TxnTaxDetail"]
        tax_lines = tax.get("TaxLine", [])
        assert amount(tax["TotalTax"]) == sum((amount(line["Amount"]) for line in tax_lines), ZERO)
        for line in tax_lines:
            detail = line["TaxLineDetail"]
            assert amount(line["Amount"]) == wire.money(amount(detail["NetAmountTaxable"]) * 8 / 100)
        assert total == amount(subtotal["Amount"]) - discount + amount(tax["TotalTax"])
        assert balance == total - applied[invoice["Id"]]
        assert ZERO <= balance <= total
        partial += ZERO < balance < total
        links = [link["TxnId"] for link in invoice["LinkedTxn"] if link["TxnType"] == "Payment"]
        assert bool(links) == (applied[invoice["Id"]] > 0)
        open_by_customer[invoice["CustomerRef"]["value"]] += balance
        day = date.fromisoformat(invoice["TxnDate"])
        assert TODAY - timedelta(days=HISTORY_DAYS) <= day <= TODAY
        assert invoice["MetaData"]["CreateTime"].startswith(invoice["TxnDate"])
    assert voided == counts["Invoice voided"]
    assert partial > 0
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for memo in current(tenant, "CreditMemo"):
        assert amount(memo["Balance"]) == amount(memo["TotalAmt"]) == amount(memo["RemainingCredit"])
        credits[memo["CustomerRef"]["value"]] += amount(memo["Balance"])
    customers = {body["Id"]: body for body in current(tenant, "Customer")}
    for customer_id, customer in customers.items():
        expected = open_by_customer[customer_id] - credits[customer_id] - unapplied[customer_id]
        assert amount(customer["Balance"]) == expected
        jobs = [job for job in customers.values() if job.get("ParentRef", {}).get("value") == customer_id]
        with_jobs = amount(customer["Balance"]) + sum((amount(job["Balance"]) for job in jobs), ZERO)
        assert amount(customer["BalanceWithJobs"]) == with_jobs
    assert any(customer.get("Job") for customer in customers.values())


def test_bills_vendor_balances_and_journals_add_up(seeded):
    tenant, _ = seeded
    applied: dict[str, Decimal] = defaultdict(lambda: ZERO)
    pay_types = set()
    for payment in current(tenant, "BillPayment"):
        pay_types.add(payment["PayType"])
        assert amount(payment["TotalAmt"]) == sum((amount(line["Amount"]) for line in payment["Line"]), ZERO)
        for line in payment["Line"]:
            applied[line["LinkedTxn"][0]["TxnId"]] += amount(line["Amount"])
    assert pay_types == {"Check", "CreditCard"}
    owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    partial = 0
    for bill in current(tenant, "Bill"):
        total = amount(bill["TotalAmt"])
        assert total == sum((amount(line["Amount"]) for line in bill["Line"]), ZERO)
        assert amount(bill["Balance"]) == total - applied[bill["Id"]]
        partial += ZERO < amount(bill["Balance"]) < total
        owed[bill["VendorRef"]["value"]] += amount(bill["Balance"])
    assert partial > 0
    for credit in current(tenant, "VendorCredit"):
        assert amount(credit["TotalAmt"]) == sum((amount(line["Amount"]) for line in credit["Line"]), ZERO)
        owed[credit["VendorRef"]["value"]] -= amount(credit["Balance"])
    for vendor in current(tenant, "Vendor"):
        assert amount(vendor["Balance"]) == owed[vendor["Id"]]
    for entry in current(tenant, "JournalEntry"):
        sides: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in entry["Line"]:
            sides[line["JournalEntryLineDetail"]["PostingType"]] += amount(line["Amount"])
        assert sides["Debit"] == sides["Credit"] == amount(entry["TotalAmt"])
    statuses = {order["POStatus"] for order in current(tenant, "PurchaseOrder")}
    assert statuses == {"Open", "Closed"}
    # An order is closed exactly when billed: by one bill copying each of its lines, linked both ways.
    bills = {bill["Id"]: bill for bill in current(tenant, "Bill")}
    for order in current(tenant, "PurchaseOrder"):
        linked = [link["TxnId"] for link in order.get("LinkedTxn", []) if link["TxnType"] == "Bill"]
        assert len(linked) == (1 if order["POStatus"] == "Closed" else 0), order
        for bill in (bills[bill_id] for bill_id in linked):
            assert bill["LinkedTxn"][0] == {"TxnId": order["Id"], "TxnType": "PurchaseOrder"}
            assert [line["LinkedTxn"] for line in bill["Line"]] == [
                [{"TxnId": order["Id"], "TxnType": "PurchaseOrder", "TxnLineId": line["Id"]}]
                for line in order["Line"]
            ]
            assert (bill["VendorRef"]["value"], bill["TotalAmt"]) == (
                order["VendorRef"]["value"],
                order["TotalAmt"],
            )
            assert order["MetaData"]["LastUpdatedTime"] == bill["MetaData"]["CreateTime"]


def test_inactive_names_end_with_deleted(seeded):
    tenant, counts = seeded
    for entity, field in NAME_LISTS.items():
        bodies = current(tenant, entity)
        inactive = [body for body in bodies if body["Active"] is False]
        assert len(inactive) == counts[f"{entity} inactive"]
        assert all(body[field].endswith(" (deleted)") for body in inactive)
        assert not any(body[field].endswith(" (deleted)") for body in bodies if body["Active"] is True)


def test_a_seeded_company_reads_back_through_python_quickbooks(qbo_company, qbo_client):
    counts = company_seed(tenant=qbo_company, customers=10, invoices=120, seed=5).counts
    qbo_client.use_decimal = True
    live = QboRecord.objects.filter(tenant=qbo_company, deleted=False)
    assert Invoice.count(qb=qbo_client) == counts["Invoice"] - counts["Invoice deleted"]
    assert Invoice.count(qb=qbo_client) == live.filter(entity="Invoice").count()
    assert Bill.count(qb=qbo_client) == counts["Bill"] - counts.get("Bill deleted", 0)
    assert Payment.count(qb=qbo_client) == counts["Payment"]
    inactive = Customer.query("SELECT * FROM Customer WHERE Active = false", qb=qbo_client)
    assert len(inactive) == counts["Customer inactive"]
    assert all(customer.DisplayName.endswith(" (deleted)") for customer in inactive)
    for body in current(qbo_company, "Customer")[:5]:
        assert Customer.get(body["Id"], qb=qbo_client).Balance == amount(body["Balance"])
    page = Invoice.filter(max_results=1000, start_position=1, qb=qbo_client)
    assert len(page) == counts["Invoice"] - counts["Invoice deleted"]
    by_id = {body["Id"]: body for body in current(qbo_company, "Invoice")}
    for invoice in page:
        body = by_id[invoice.Id]
        assert invoice.DocNumber == body["DocNumber"]
        assert invoice.TotalAmt == amount(body["TotalAmt"])
        assert invoice.Balance == amount(body["Balance"])
    voided = [invoice for invoice in page if invoice.PrivateNote == "Voided"]
    assert len(voided) == counts["Invoice voided"]
    assert all(invoice.TotalAmt == 0 and invoice.Balance == 0 for invoice in voided)


def test_seed_command_creates_and_fills_a_qbo_company(transactional_db):
    from io import StringIO

    from django.core.management import call_command

    from sandbox.models import Tenant

    out = StringIO()
    call_command(
        "sandbox_seed",
        "qbo",
        "--org",
        "Command Co",
        "--create",
        "--contacts",
        "3",
        "--invoices",
        "5",
        stdout=out,
    )
    company = Tenant.objects.get(provider="qbo", name="Command Co")
    assert (company.country, company.base_currency) == ("US", "USD")
    assert "  Invoice: 5\n" in out.getvalue()
    assert f"Seeded Command Co ({company.tenant_id}) in " in out.getvalue()
