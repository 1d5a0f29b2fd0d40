"""The seed generator (`sandbox.xero.seed`, `manage.py sandbox_seed xero`): a deterministic organisation whose
every document obeys Xero's rules, checked from the stored documents and read back through the unmodified
SDK over HTTP.

Determinism, as the generator documents it: one seed on one organisation (tenant id) gives byte-identical
documents, UpdatedDateUTC included, in any process; two organisations seeded with one seed hold the same
documents once their ids are renamed one to one. The only clock time in a seeded organisation is its
creation time (the default accounts' UpdatedDateUTC), which these tests pin."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.models.xero_records import XeroRecord
from sandbox.xero.api import services, wire
from sandbox.xero.api.engine import CREATE, UPSERT
from sandbox.xero.seed import TODAY, SeedReport, organisation_seed

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

REPOSITORY = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CREATED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
FIXED_TENANT_ID = "8f1c3a52-6d0e-4b7a-9c21-5e4f7a0b3d19"
# The organisation most tests check: every kind of document and state occurs in it.
CONTACTS, INVOICES, SEED = 40, 400, 11
REPORT = {
    "Accounts": 5,
    "Accounts archived": 1,
    "Allocations": 5,
    "Bills from purchase orders": 6,
    "Contacts": 40,
    "Contacts archived": 2,
    "CreditNotes": 9,
    "Invoices": 400,
    "Invoices deleted": 13,
    "Invoices voided": 14,
    "Items": 10,
    "ManualJournals": 8,
    "Payments": 236,
    "PurchaseOrders": 20,
    "PurchaseOrders billed": 6,
    "TaxRates": 1,
    "TrackingCategories": 2,
}


def make_org(name: str, *, tenant_id: str = "", country: str = "GB", currency: str = "GBP") -> Tenant:
    tenant = Tenant.objects.create(
        provider=SandboxProviderChoices.XERO,
        name=name,
        tenant_id=tenant_id,
        country=country,
        base_currency=currency,
    )
    # The creation time stamps the default chart of accounts: pinned, so that orgs can be compared.
    Tenant.objects.filter(pk=tenant.pk).update(created_at=CREATED)
    tenant.refresh_from_db()
    return tenant


def stored(tenant: Tenant) -> list[tuple[str, str]]:
    """(collection, body text) of every document, in creation order."""
    return list(XeroRecord.objects.filter(tenant=tenant).order_by("id").values_list("collection", "body"))


def bodies(tenant: Tenant, collection: str) -> list[dict[str, Any]]:
    texts = XeroRecord.objects.filter(tenant=tenant, collection=collection).order_by("id")
    return [wire.decode(text) for text in texts.values_list("body", flat=True)]


def renamed(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows with every GUID replaced by its rank of first appearance."""
    names: dict[str, str] = {}
    return [
        (collection, GUID.sub(lambda match: names.setdefault(match.group(0), f"<id {len(names)}>"), text))
        for collection, text in rows
    ]


def digest(rows: list[tuple[str, str]]) -> str:
    hashed = hashlib.sha256()
    for collection, text in rows:
        hashed.update(f"{collection}\n{text}\n".encode())
    return hashed.hexdigest()


def seeded_digest() -> str:
    """Seed the fixed organisation (6 contacts, 40 invoices, seed 3): the digest of its documents. Also run
    in a separate process by the determinism test."""
    tenant = make_org("Fixed Org", tenant_id=FIXED_TENANT_ID)
    organisation_seed(tenant=tenant, contacts=6, invoices=40, seed=3)
    return digest(stored(tenant))


def day(text: str) -> date:
    parsed = wire.day_of(text)
    assert parsed is not None, text
    return parsed


def moment(text: str) -> datetime:
    parsed = wire.parse_ms(text)
    assert parsed is not None, text
    return parsed


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture
def org(transactional_db) -> Tenant:
    return make_org("Seeded Org")


@pytest.fixture
def report(org) -> SeedReport:
    return organisation_seed(tenant=org, contacts=CONTACTS, invoices=INVOICES, seed=SEED)


# --- determinism -----------------------------------------------------------------------------------------


def test_one_seed_on_one_organisation_gives_byte_identical_documents(transactional_db):
    tenant = make_org("Fixed Org", tenant_id=FIXED_TENANT_ID)
    organisation_seed(tenant=tenant, contacts=CONTACTS, invoices=INVOICES, seed=SEED)
    first = stored(tenant)
    XeroRecord.objects.filter(tenant=tenant).delete()

    organisation_seed(tenant=tenant, contacts=CONTACTS, invoices=INVOICES, seed=SEED)

    assert len(first) == 760
    assert stored(tenant) == first


def test_the_documents_do_not_depend_on_the_process(transactional_db, tmp_path):
    """Another interpreter, with another string hash seed, seeds the same bytes."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', database='sandbox', verbosity=0)\n"
        "from tests.sandbox.test_xero_seed import seeded_digest\n"
        "print(seeded_digest())\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'default.sqlite3'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "PYTHONHASHSEED": "4242",
    }
    other = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().splitlines()[-1] == seeded_digest()


def test_two_organisations_with_one_seed_hold_the_same_documents_under_their_own_ids(transactional_db):
    first, second, other = make_org("First"), make_org("Second"), make_org("Other")
    for tenant, seed in ((first, SEED), (second, SEED), (other, SEED + 1)):
        organisation_seed(tenant=tenant, contacts=CONTACTS, invoices=INVOICES, seed=seed)

    def ids(tenant: Tenant) -> set[str]:
        return set(XeroRecord.objects.filter(tenant=tenant).values_list("record_id", flat=True))

    # Ids are the organisation's own (tax types are codes, not ids: those are shared).
    assert ids(first) & ids(second) == {rate["TaxType"] for rate in bodies(first, "TaxRates")}
    assert renamed(stored(first)) == renamed(stored(second))
    assert renamed(stored(first)) != renamed(stored(other))
    totals = [invoice["Total"] for invoice in bodies(first, "Invoices")]
    assert totals == [invoice["Total"] for invoice in bodies(second, "Invoices")]
    assert totals != [invoice["Total"] for invoice in bodies(other, "Invoices")]


# --- coherence -------------------------------------------------------------------------------------------


def test_the_report_counts_what_was_stored(org, report):
    assert report.counts == REPORT
    invoices = bodies(org, "Invoices")
    statuses = Counter(invoice["Status"] for invoice in invoices)
    # The invoices asked for, and a bill for each billed purchase order (approved, not yet paid).
    assert len(invoices) == 400 + 6
    assert statuses == {
        "PAID": 203,
        "AUTHORISED": 139 + 6,
        "DRAFT": 22,
        "SUBMITTED": 9,
        "VOIDED": 14,
        "DELETED": 13,
    }
    assert Counter(invoice["Type"] for invoice in invoices) == {"ACCREC": 285, "ACCPAY": 115 + 6}
    counts = Counter(XeroRecord.objects.filter(tenant=org).values_list("collection", flat=True))
    assert counts == {
        "Accounts": 14 + 5,
        "TaxRates": 9 + 1,
        "TrackingCategories": 2,
        "Items": 10,
        "Contacts": 40,
        "Invoices": 400 + 6,
        "CreditNotes": 9,
        "Payments": 236,
        "ManualJournals": 8,
        "PurchaseOrders": 20,
    }


def test_every_total_is_the_sum_of_its_lines_as_xero_rounds_them(org, report):
    rates = {rate["TaxType"]: rate["EffectiveRate"] for rate in bodies(org, "TaxRates")}
    checked: Counter[str] = Counter()
    for document in [*bodies(org, "Invoices"), *bodies(org, "CreditNotes"), *bodies(org, "PurchaseOrders")]:
        kind = document["LineAmountTypes"]
        line_amounts = []
        taxes = []
        for line in document["LineItems"]:
            gross = line["Quantity"] * line["UnitAmount"]
            if "DiscountRate" in line:
                gross = gross * (HUNDRED - line["DiscountRate"]) / HUNDRED
                checked["discounted lines"] += 1
            amount = money(gross)
            rate = rates[line["TaxType"]]
            tax = {
                "Exclusive": money(amount * rate / HUNDRED),
                "Inclusive": money(amount * rate / (HUNDRED + rate)),
                "NoTax": ZERO,
            }[kind]
            assert (line["LineAmount"], line["TaxAmount"]) == (amount, tax), document
            line_amounts.append(amount)
            taxes.append(tax)
        total_tax = sum(taxes, ZERO)
        if kind == "Inclusive":
            expected = (sum(line_amounts, ZERO) - total_tax, total_tax, sum(line_amounts, ZERO))
        else:
            expected = (sum(line_amounts, ZERO), total_tax, sum(line_amounts, ZERO) + total_tax)
        assert (document["SubTotal"], document["TotalTax"], document["Total"]) == expected
        checked[kind] += 1
    # The bills copied from purchase orders are Exclusive, as the orders are.
    assert checked == {"Exclusive": 346 + 6, "Inclusive": 63, "NoTax": 20, "discounted lines": 36}


def test_amounts_due_and_statuses_follow_payments_and_credits(org, report):
    checked: Counter[str] = Counter()
    for invoice in bodies(org, "Invoices"):
        paid = sum((payment["Amount"] for payment in invoice["Payments"]), ZERO)
        credited = sum((credit["AppliedAmount"] for credit in invoice["CreditNotes"]), ZERO)
        assert (invoice["AmountPaid"], invoice["AmountCredited"]) == (paid, credited)
        status = invoice["Status"]
        created = day(invoice["Date"])
        updated = moment(invoice["UpdatedDateUTC"]).date()
        if status in ("VOIDED", "DELETED"):
            # Xero voids and deletes only documents nothing was paid or credited against.
            assert (paid, credited, invoice["AmountDue"]) == (ZERO, ZERO, ZERO)
            assert created <= updated <= TODAY
            checked[status] += 1
            continue
        assert invoice["AmountDue"] == invoice["Total"] - paid - credited
        assert (status == "PAID") == (invoice["AmountDue"] == 0)
        if status in ("DRAFT", "SUBMITTED"):
            assert (paid, credited) == (ZERO, ZERO)
        if status == "PAID":
            settled_on = [day(entry["Date"]) for entry in [*invoice["Payments"], *invoice["CreditNotes"]]]
            assert day(invoice["FullyPaidOnDate"]) == max(settled_on)
            assert "FullyPaidOnDate" in invoice
        else:
            assert "FullyPaidOnDate" not in invoice
        # UpdatedDateUTC is when the invoice last changed in the seeded history: issued, then paid/credited.
        last_change = max([created, *(day(entry["Date"]) for entry in invoice["Payments"])])
        last_change = max([last_change, *(day(entry["Date"]) for entry in invoice["CreditNotes"])])
        assert updated == last_change
        assert invoice["UpdatedDateUTCString"] == moment(invoice["UpdatedDateUTC"]).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        checked[status] += 1
        if paid and paid < invoice["Total"] - credited:
            checked["part paid"] += 1
        if len(invoice["Payments"]) == 2:
            checked["paid in two goes"] += 1
    assert checked == {
        "PAID": 203,
        "AUTHORISED": 139 + 6,
        "DRAFT": 22,
        "SUBMITTED": 9,
        "VOIDED": 14,
        "DELETED": 13,
        "part paid": 16,
        "paid in two goes": 18,
    }


def test_payments_and_allocations_are_on_both_sides(org, report):
    invoices = {invoice["InvoiceID"]: invoice for invoice in bodies(org, "Invoices")}
    bank = next(account for account in bodies(org, "Accounts") if account["Code"] == "090")
    foreign = 0
    for payment in bodies(org, "Payments"):
        invoice = invoices[payment["Invoice"]["InvoiceID"]]
        [entry] = [p for p in invoice["Payments"] if p["PaymentID"] == payment["PaymentID"]]
        assert (entry["Amount"], entry["Date"]) == (payment["Amount"], payment["Date"])
        assert payment["Account"] == {"AccountID": bank["AccountID"], "Code": "090"}
        assert (
            payment["PaymentType"] == {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT"}[invoice["Type"]]
        )
        assert payment["Status"] == "AUTHORISED"
        assert day(invoice["Date"]) <= day(payment["Date"]) <= TODAY
        if invoice["CurrencyCode"] != "GBP":
            assert payment["CurrencyRate"] != Decimal("1.0")
            foreign += 1
        else:
            assert payment["CurrencyRate"] == Decimal("1.0")
    assert foreign == 42

    allocated = 0
    for note in bodies(org, "CreditNotes"):
        used = sum((allocation["Amount"] for allocation in note["Allocations"]), ZERO)
        assert note["RemainingCredit"] == note["Total"] - used
        assert (note["Status"] == "PAID") == (note["RemainingCredit"] == 0)
        assert note["Status"] in ("AUTHORISED", "PAID")
        for allocation in note["Allocations"]:
            invoice = invoices[allocation["Invoice"]["InvoiceID"]]
            [credit] = invoice["CreditNotes"]
            assert (credit["CreditNoteID"], credit["AppliedAmount"]) == (
                note["CreditNoteID"],
                allocation["Amount"],
            )
            assert invoice["Contact"]["ContactID"] == note["Contact"]["ContactID"]
            assert invoice["Payments"] == []
            allocated += 1
    assert allocated == REPORT["Allocations"]


def test_voids_and_deletions_are_moves_xero_allows(org, monkeypatch):
    """Every status change the generator asks for, with the status the invoice had just before."""
    moves: list[tuple[str, str]] = []
    write = services.Batch.write

    def recording(self, collection, elements, *, mode=CREATE, at=None, unitdp=2):
        if collection == "Invoices" and mode == UPSERT:
            for element in elements:
                before = self.get("Invoices", element["InvoiceID"])
                moves.append((before["Status"], element["Status"]))
                if element["Status"] == "VOIDED":
                    assert (before["Payments"], before["CreditNotes"]) == ([], [])
        return write(self, collection, elements, mode=mode, at=at, unitdp=unitdp)

    monkeypatch.setattr(services.Batch, "write", recording)
    organisation_seed(tenant=org, contacts=CONTACTS, invoices=INVOICES, seed=SEED)

    assert Counter(moves) == {
        ("DRAFT", "DELETED"): 6,
        ("SUBMITTED", "DELETED"): 7,
        ("AUTHORISED", "VOIDED"): 14,
    }


def test_contacts_currencies_and_archived_customers(org, report):
    contacts = {contact["ContactID"]: contact for contact in bodies(org, "Contacts")}
    archived = {ref for ref, contact in contacts.items() if contact["ContactStatus"] == "ARCHIVED"}
    assert len(archived) == 2
    invoices = bodies(org, "Invoices")
    # Xero archives no contact with something outstanding: their invoices are all paid.
    assert {i["Status"] for i in invoices if i["Contact"]["ContactID"] in archived} == {"PAID"}
    foreign = [i for i in invoices if i["CurrencyCode"] != "GBP"]
    assert Counter(i["CurrencyCode"] for i in foreign) == {"EUR": 49, "USD": 26}
    for invoice in foreign:
        assert contacts[invoice["Contact"]["ContactID"]]["DefaultCurrency"] == invoice["CurrencyCode"]
        assert invoice["CurrencyRate"] != Decimal("1.0")
        assert Decimal("1.1") < invoice["CurrencyRate"] < Decimal("1.3")
    for invoice in invoices:
        if invoice["CurrencyCode"] == "GBP":
            assert invoice["CurrencyRate"] == Decimal("1.0")
    flags = Counter((c["IsCustomer"], c["IsSupplier"]) for c in contacts.values())
    assert flags == {(True, True): 39, (True, False): 1}


def test_journals_balance_and_orders_move_as_xero_allows(org, report):
    journals = bodies(org, "ManualJournals")
    assert Counter(journal["Status"] for journal in journals) == {"POSTED": 8}
    for journal in journals:
        amounts = [line["LineAmount"] for line in journal["JournalLines"]]
        assert sum(amounts, ZERO) == 0
        assert [line["TaxAmount"] for line in journal["JournalLines"]] == [ZERO, ZERO]
        assert {line["AccountCode"] for line in journal["JournalLines"]}.isdisjoint({"610", "800", "820"})
    orders = bodies(org, "PurchaseOrders")
    assert Counter(order["Status"] for order in orders) == {
        "AUTHORISED": 4,
        "BILLED": 6,
        "DRAFT": 6,
        "SUBMITTED": 4,
    }
    assert all(order["Type"] == "PURCHASEORDER" for order in orders)
    # Each billed order was copied to a bill first: its contact, lines and total, its number as the
    # bill's Reference, on the day it was marked billed.
    by_reference = {
        invoice["Reference"]: invoice for invoice in bodies(org, "Invoices") if invoice["Type"] == "ACCPAY"
    }
    for order in orders:
        bill = by_reference.get(order["PurchaseOrderNumber"])
        assert (bill is not None) == (order["Status"] == "BILLED"), order["PurchaseOrderNumber"]
        if bill is None:
            continue
        assert bill["Contact"]["ContactID"] == order["Contact"]["ContactID"]
        assert (bill["Status"], bill["Total"], bill["CurrencyCode"]) == ("AUTHORISED", order["Total"], "GBP")
        assert [(line["Description"], line["LineAmount"]) for line in bill["LineItems"]] == [
            (line["Description"], line["LineAmount"]) for line in order["LineItems"]
        ]
        assert day(bill["Date"]) == moment(order["UpdatedDateUTC"]).date()


def test_the_chart_items_and_tracking(org, report):
    accounts = {account["Code"]: account for account in bodies(org, "Accounts")}
    assert accounts["449"]["Status"] == "ARCHIVED"
    assert accounts["091"]["Type"] == "BANK"
    assert sorted(code for code, account in accounts.items() if account["Status"] == "ACTIVE") == [
        "090",
        "091",
        "200",
        "260",
        "270",
        "300",
        "310",
        "400",
        "404",
        "420",
        "429",
        "477",
        "610",
        "710",
        "800",
        "820",
        "960",
        "970",
    ]
    [custom] = [rate for rate in bodies(org, "TaxRates") if rate["TaxType"] == "TAX001"]
    assert (custom["Name"], custom["EffectiveRate"]) == ("Reduced rate (custom)", Decimal("12.5000"))
    [region, department] = bodies(org, "TrackingCategories")
    assert [option["Name"] for option in region["Options"]] == ["North", "South", "East", "West"]
    assert [option["Name"] for option in department["Options"]] == ["Sales", "Operations", "Support"]
    tracked = Counter(
        (tracking["Name"], tracking["Option"])
        for invoice in bodies(org, "Invoices")
        for line in invoice["LineItems"]
        for tracking in line["Tracking"]
    )
    assert sum(tracked.values()) == 288 + 3  # three lines of the bills copied from purchase orders
    assert {name for name, _ in tracked} == {"Region", "Department"}
    items = bodies(org, "Items")
    assert [item["Code"] for item in items][:3] == ["CONSULT", "INSTALL", "WIDGET"]


@pytest.mark.parametrize(
    ("country", "currency", "foreign"), [("AU", "AUD", {"NZD", "USD"}), ("US", "USD", {"EUR", "GBP"})]
)
def test_other_countries_seed_with_their_own_taxes(transactional_db, country, currency, foreign):
    tenant = make_org(f"{country} Org", country=country, currency=currency)
    organisation_seed(tenant=tenant, contacts=20, invoices=150, seed=2)
    invoices = bodies(tenant, "Invoices")
    currencies = {i["CurrencyCode"] for i in invoices}
    assert currency in currencies
    assert len(currencies) > 1
    assert currencies <= {currency, *foreign}
    taxes = {line["TaxType"] for invoice in invoices for line in invoice["LineItems"]}
    assert taxes == ({"OUTPUT", "INPUT"} if country == "AU" else {"NONE"})


def test_refuses_an_organisation_with_documents_or_without_contacts(org, report):
    with pytest.raises(ValueError, match="already has documents"):
        organisation_seed(tenant=org, contacts=5, invoices=5)
    with pytest.raises(ValueError, match="at least one contact"):
        organisation_seed(tenant=make_org("Empty"), contacts=0, invoices=5)


# --- through the SDK -------------------------------------------------------------------------------------


def test_the_seeded_organisation_reads_back_through_the_sdk(accounting_api, xero_org):
    organisation_seed(tenant=xero_org, contacts=12, invoices=120, seed=5)
    tenant_id = xero_org.tenant_id
    stored_invoices = {i["InvoiceID"]: i for i in bodies(xero_org, "Invoices")}

    listed = accounting_api.get_invoices(tenant_id, page=1, page_size=1000)
    # The 120 invoices asked for, and the bills of the two billed purchase orders.
    assert listed.pagination.item_count == len(stored_invoices) == 120 + 2
    for invoice in listed.invoices:
        body = stored_invoices[str(invoice.invoice_id)]
        assert (
            invoice.status,
            invoice.total,
            invoice.sub_total,
            invoice.total_tax,
            invoice.amount_due,
            invoice.amount_paid,
            invoice.amount_credited,
            invoice.currency_code.value,
            invoice.currency_rate,
        ) == (
            body["Status"],
            body["Total"],
            body["SubTotal"],
            body["TotalTax"],
            body["AmountDue"],
            body["AmountPaid"],
            body["AmountCredited"],
            body["CurrencyCode"],
            body["CurrencyRate"],
        )
        assert [line.line_amount for line in invoice.line_items] == [
            line["LineAmount"] for line in body["LineItems"]
        ]
        assert invoice.updated_date_utc == moment(body["UpdatedDateUTC"])
        if body["Status"] == "PAID":
            assert invoice.fully_paid_on_date == day(body["FullyPaidOnDate"])

    # If-Modified-Since sees the seeded history: only what changed after the cut-off.
    cutoff = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(days=90)
    recent = accounting_api.get_invoices(tenant_id, if_modified_since=cutoff, page=1, page_size=1000)
    expected = {ref for ref, body in stored_invoices.items() if moment(body["UpdatedDateUTC"]) > cutoff}
    assert {str(invoice.invoice_id) for invoice in recent.invoices} == expected
    assert 0 < len(expected) < len(stored_invoices)

    payments = accounting_api.get_payments(tenant_id).payments
    by_invoice: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
    for payment in payments:
        by_invoice[str(payment.invoice.invoice_id)] += payment.amount
    assert len(payments) == 67
    assert dict(by_invoice) == {
        ref: body["AmountPaid"] for ref, body in stored_invoices.items() if body["AmountPaid"] > 0
    }

    notes = accounting_api.get_credit_notes(tenant_id).credit_notes
    assert sorted((note.total - note.remaining_credit) for note in notes) == sorted(
        sum((a["Amount"] for a in body["Allocations"]), ZERO) for body in bodies(xero_org, "CreditNotes")
    )

    everyone = accounting_api.get_contacts(tenant_id, include_archived=True).contacts
    active = {contact.contact_id for contact in accounting_api.get_contacts(tenant_id).contacts}
    assert (len(everyone), len(active)) == (12, 11)
    assert [str(c.contact_status) for c in everyone if c.contact_id not in active] == ["ARCHIVED"]

    journals = accounting_api.get_manual_journals(tenant_id).manual_journals
    assert len(journals) == 2
    assert all(sum(line.line_amount for line in journal.journal_lines) == 0 for journal in journals)


# --- the management command ------------------------------------------------------------------------------


def test_the_command_creates_seeds_and_reports(transactional_db):
    out = StringIO()
    call_command(
        "sandbox_seed",
        "xero",
        "--org",
        "Command Co",
        "--create",
        "--contacts",
        "6",
        "--invoices",
        "40",
        "--seed",
        "3",
        stdout=out,
    )

    tenant = Tenant.objects.get(name="Command Co")
    lines = out.getvalue().splitlines()
    assert lines[:-1] == [
        "  invoices: 40 of 40",
        "  Accounts: 5",
        "  Accounts archived: 1",
        "  Allocations: 0",
        "  Bills from purchase orders: 1",
        "  Contacts: 6",
        "  Contacts archived: 1",
        "  CreditNotes: 0",
        "  Invoices: 40",
        "  Invoices deleted: 0",
        "  Invoices voided: 1",
        "  Items: 10",
        "  ManualJournals: 2",
        "  Payments: 26",
        "  PurchaseOrders: 2",
        "  PurchaseOrders billed: 1",
        "  TaxRates: 1",
        "  TrackingCategories: 2",
    ]
    assert re.fullmatch(
        rf"Seeded Command Co \({tenant.tenant_id}\) in \d+\.\ds \(\d+ invoices/s\)\.", lines[-1]
    )
    assert (tenant.country, tenant.base_currency) == ("GB", "GBP")
    assert XeroRecord.objects.filter(tenant=tenant, collection="Invoices").count() == 40 + 1


def test_the_command_finds_an_organisation_by_id_and_refuses_bad_requests(transactional_db):
    tenant = make_org("Existing Org")
    out = StringIO()
    call_command(
        "sandbox_seed", "xero", "--org", tenant.tenant_id, "--contacts", "3", "--invoices", "10", stdout=out
    )
    # Its one purchase order is billed: a bill besides the ten invoices.
    assert XeroRecord.objects.filter(tenant=tenant, collection="Invoices").count() == 10 + 1

    with pytest.raises(CommandError, match="already has documents"):
        call_command("sandbox_seed", "xero", "--org", "Existing Org", "--contacts", "3", stdout=StringIO())
    with pytest.raises(CommandError, match="No xero organisation has the id or name 'Nowhere Ltd'"):
        call_command("sandbox_seed", "xero", "--org", "Nowhere Ltd", stdout=StringIO())
    with pytest.raises(CommandError, match="at least one contact"):
        call_command(
            "sandbox_seed", "xero", "--org", "Fresh Ltd", "--create", "--contacts", "0", stdout=StringIO()
        )
    assert not Tenant.objects.filter(name="Fresh Ltd").exists()
