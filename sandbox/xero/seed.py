"""A coherent, deterministic Xero organisation for demos, tests and benchmarks.

The generator replays an organisation's history through the same service API as the HTTP endpoints
(`services.batch`): every account, contact, invoice, credit note, allocation, payment, void and deletion is
validated and computed by Xero's rules, exactly as if a client had made those calls. What makes it fast is
only where the work happens: the invoices of one chunk are created, credited, voided and paid in one
workspace, and each document is then inserted once, in its final state, by prepared bulk INSERTs (about
1,800 invoices a second with everything that goes with them, on SQLite, on one core).

Determinism. The same seed on the same organisation (tenant id) gives byte-identical bodies in any process:
the data come from one seeded random generator, the ids from another one seeded with the seed and the
tenant id, and every write happens at a simulated moment of the organisation's history, so that
UpdatedDateUTC is reproducible too, and meaningful: an invoice's is the time it last changed (created on its
date, then paid, credited, voided or deleted days later; never after TODAY), so that If-Modified-Since
returns what changed after a given day. Two organisations seeded with one seed hold equal documents once
their ids (documents, lines, payments, allocations, tracking options; the default accounts' ids derive
from the tenant id) are renamed one to one. The only clock time in a seeded organisation is the
UpdatedDateUTC of its default chart of accounts: the organisation's creation time."""

from __future__ import annotations

import gc
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.models import Tenant
from sandbox.seeding import (
    BUSINESS_WORDS_FIRST,
    BUSINESS_WORDS_SECOND,
    FAMILY_NAMES,
    GIVEN_NAMES,
    SeedReport,
    seeding_tuned,
)
from sandbox.xero.api import services
from sandbox.xero.api.defaults import PURCHASES_TAX, SALES_TAX
from sandbox.xero.api.engine import UPSERT

# Invoices created, credited, paid and voided in one transaction (and inserted in one bulk write).
CHUNK = 10000
# The seeded history ends on this day and reaches back HISTORY_DAYS before it.
TODAY = date(2026, 11, 1)
HISTORY_DAYS = 730
BANK_ACCOUNT = "090"

# Units of each currency per pound sterling; other pairs are crossed through sterling.
PER_GBP = {
    "GBP": Decimal(1),
    "EUR": Decimal("1.1650"),
    "USD": Decimal("1.2710"),
    "AUD": Decimal("1.9420"),
    "NZD": Decimal("2.1260"),
}
FOREIGN_CURRENCIES = {
    "GBP": ("EUR", "USD"),
    "NZD": ("AUD", "USD"),
    "AUD": ("NZD", "USD"),
    "USD": ("EUR", "GBP"),
}
RATE_PLACES = Decimal("0.000001")

_SUFFIX = ("Ltd", "LLP", "& Co", "Group", "Partners", "Trading")
# (Code, Name, sale price, purchase cost: "0" for items that are only sold)
_ITEMS = (
    ("CONSULT", "Consulting hour", "120.00", "0"),
    ("INSTALL", "Installation", "85.50", "0"),
    ("WIDGET", "Widget", "12.99", "6.40"),
    ("GADGET", "Gadget", "49.95", "22.10"),
    ("SUPPORT", "Support plan (monthly)", "29.00", "0"),
    ("CABLE", "Cable, 2 m", "4.75", "1.20"),
    ("LICENCE", "Software licence", "199.00", "0"),
    ("SURVEY", "Site survey", "250.00", "0"),
    ("PAINT", "Paint, 5 l", "32.40", "14.80"),
    ("TIMBER", "Timber, per metre", "6.15", "2.95"),
)
_PURCHASED = tuple(item for item in _ITEMS if item[3] != "0")
_QUANTITIES = (Decimal(1), Decimal(1), Decimal(2), Decimal(3), Decimal(5), Decimal(10), Decimal("1.5"))
_TRACKING = {"Region": ("North", "South", "East", "West"), "Department": ("Sales", "Operations", "Support")}
# Added to the default chart of accounts; the last one is then archived.
_ACCOUNTS = (
    {
        "Code": "091",
        "Name": "Business Savings Account",
        "Type": "BANK",
        "BankAccountNumber": "20320643567812",
    },
    {"Code": "404", "Name": "Bank Fees", "Type": "OVERHEADS"},
    {"Code": "420", "Name": "Entertainment", "Type": "OVERHEADS"},
    {"Code": "477", "Name": "Wages and Salaries", "Type": "EXPENSE"},
    {"Code": "449", "Name": "Motor Vehicle Expenses (old)", "Type": "OVERHEADS"},
)
_RETIRED_ACCOUNT = "449"
# (Narration, debit account, credit account): never the receivable, payable or tax control accounts,
# which Xero keeps out of manual journals.
_JOURNALS = (
    ("Depreciation", "429", "710"),
    ("Owner funds introduced", BANK_ACCOUNT, "970"),
    ("Reclassification", "400", "429"),
    ("Stock adjustment", "310", "300"),
)


@dataclass
class _Contact:
    body: dict[str, Any]
    # A former customer: only fully paid invoices, archived at the end (Xero archives no contact that
    # still has something outstanding).
    former: bool


@dataclass
class _Invoice:
    body: dict[str, Any]
    issued: date
    former: bool
    settled: bool = False  # has a payment or a credit allocation: never voided


def _at(day: date, seconds: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)


class _Seeder:
    def __init__(self, tenant: Tenant, *, seed: int, progress: Callable[[str], None]) -> None:
        self.tenant = tenant
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
        # Ids from their own generator: the same seed on another organisation gets other ids.
        id_rng = random.Random(f"sandbox-xero-seed:{seed}:{tenant.tenant_id}")  # noqa: S311
        self.ids: Callable[[], str] = lambda: str(uuid.UUID(int=id_rng.getrandbits(128), version=4))
        self.progress = progress
        self.report = SeedReport()
        self.base = tenant.base_currency
        self.foreign = tuple(
            c for c in FOREIGN_CURRENCIES.get(self.base, ("EUR", "USD")) if c != self.base and c in PER_GBP
        )
        self.sales_tax = SALES_TAX.get(tenant.country, "NONE")
        self.purchase_tax = PURCHASES_TAX.get(tenant.country, "NONE")
        self.opened = TODAY - timedelta(days=HISTORY_DAYS + 30)

    # --- helpers -----------------------------------------------------------------------------------------

    @contextmanager
    def _batch(self) -> Iterator[services.Batch]:
        with services.batch(self.tenant, emit_events=False, ids=self.ids) as batch:
            yield batch

    def _during_day(self, day: date) -> datetime:
        """A moment in the working day (08:00 to 18:00 UTC) of `day`."""
        return _at(day, 8 * 3600 + self.rng.randrange(10 * 3600))

    def _after(self, day: date, low: int, high: int) -> date:
        """A day `low` to `high` days after `day`, but never after the end of the history."""
        return min(day + timedelta(days=self.rng.randint(low, high)), TODAY)

    def _rate(self, currency: str, day: date) -> Decimal:
        """Units of `currency` per unit of the base currency on `day`: a cross rate through sterling that
        drifts by up to ±1% from day to day."""
        base_per_gbp = PER_GBP.get(self.base, Decimal(1))
        drift = Decimal(day.toordinal() * 7919 % 201 - 100) / Decimal(10000)
        return (PER_GBP[currency] / base_per_gbp * (1 + drift)).quantize(RATE_PLACES)

    # --- the history -------------------------------------------------------------------------------------

    def run(self, *, contacts: int, invoices: int) -> SeedReport:
        started = time.perf_counter()
        with seeding_tuned():
            self._history(contacts=contacts, invoices=invoices)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _history(self, *, contacts: int, invoices: int) -> None:
        with self._batch() as batch:
            self.chart(batch)
            categories = self.tracking(batch)
            self.items(batch)
            people = self.contacts(batch, contacts)
        for start in range(0, invoices, CHUNK):
            stop = min(invoices, start + CHUNK)
            with self._batch() as batch:
                documents = self.invoices(batch, start, stop, people, categories)
                self.credit_notes(batch, documents)
                self.lifecycle(batch, documents)
                self.payments(batch, documents)
            gc.collect(0)
            self.progress(f"invoices: {stop} of {invoices}")
        with self._batch() as batch:
            self.journals(batch, max(2, invoices // 50))
            self.purchase_orders(batch, max(1, invoices // 20), people, categories)
            self.archive(batch, people)

    def chart(self, batch: services.Batch) -> None:
        """A few accounts beyond the default chart (one of them archived) and a custom tax rate."""
        moment = _at(self.opened, 8 * 3600)
        accounts = batch.write("Accounts", [dict(account) for account in _ACCOUNTS], at=moment)
        retired = next(account for account in accounts if account["Code"] == _RETIRED_ACCOUNT)
        batch.update("Accounts", retired["AccountID"], {"Status": "ARCHIVED"}, at=moment)
        batch.write(
            "TaxRates",
            [
                {
                    "Name": "Reduced rate (custom)",
                    "ReportTaxType": "OUTPUT",
                    "TaxComponents": [{"Name": "Reduced", "Rate": Decimal("12.5000")}],
                }
            ],
            at=moment,
        )
        self.report.add("Accounts", len(accounts))
        self.report.add("Accounts archived", 1)
        self.report.add("TaxRates", 1)

    def tracking(self, batch: services.Batch) -> list[tuple[str, tuple[str, ...]]]:
        made = []
        for offset, (name, options) in enumerate(_TRACKING.items()):
            moment = _at(self.opened, 9 * 3600 + offset * 60)
            [category] = batch.write("TrackingCategories", [{"Name": name}], at=moment)
            batch.tracking_options(
                category["TrackingCategoryID"], [{"Name": option} for option in options], at=moment
            )
            made.append((name, options))
        self.report.add("TrackingCategories", len(made))
        return made

    def items(self, batch: services.Batch) -> None:
        payloads = []
        for code, name, price, cost in _ITEMS:
            payload: dict[str, Any] = {
                "Code": code,
                "Name": name,
                "Description": name,
                "IsSold": True,
                "IsPurchased": cost != "0",
                "SalesDetails": {"UnitPrice": price, "AccountCode": "200", "TaxType": self.sales_tax},
            }
            if cost != "0":
                payload["PurchaseDescription"] = name
                payload["PurchaseDetails"] = {
                    "UnitPrice": cost,
                    "AccountCode": "300",
                    "TaxType": self.purchase_tax,
                }
            payloads.append(payload)
        batch.write("Items", payloads, at=_at(self.opened, 10 * 3600))
        self.report.add("Items", len(payloads))

    def contacts(self, batch: services.Batch, count: int) -> list[_Contact]:
        payloads = []
        moments = []
        former = []
        for n in range(count):
            name = f"{self.rng.choice(BUSINESS_WORDS_FIRST)} {self.rng.choice(BUSINESS_WORDS_SECOND)} {self.rng.choice(_SUFFIX)} {n + 1:05d}"
            payload: dict[str, Any] = {
                "Name": name,
                "ContactNumber": f"C{n + 1:06d}",
                "EmailAddress": f"accounts{n + 1}@example.com",
                "FirstName": self.rng.choice(GIVEN_NAMES),
                "LastName": self.rng.choice(FAMILY_NAMES),
                "Addresses": [
                    {
                        "AddressType": "STREET",
                        "AddressLine1": f"{n + 1} High Street",
                        "City": "Bristol",
                        "PostalCode": "BS1 4DJ",
                        "Country": self.tenant.country,
                    }
                ],
                "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"0117 {n:07d}"}],
            }
            # One contact in 30, and the last one, are former customers; the first is always active and
            # deals in the base currency.
            is_former = n > 0 and (n % 30 == 29 or n == count - 1)
            if not is_former and n > 0 and self.foreign and self.rng.random() < 0.1:
                payload["DefaultCurrency"] = self.rng.choice(self.foreign)
            payloads.append(payload)
            former.append(is_former)
            moments.append(_at(self.opened + timedelta(days=n * 30 // max(count, 1)), 9 * 3600 + n % 3600))
        bodies = batch.write("Contacts", payloads, at=moments)
        self.report.add("Contacts", len(bodies))
        return [_Contact(body, is_former) for body, is_former in zip(bodies, former, strict=True)]

    def _lines(self, sales: bool, categories: list[tuple[str, tuple[str, ...]]]) -> list[dict[str, Any]]:
        lines = []
        for _ in range(self.rng.randint(1, 4)):
            code, name, price, cost = self.rng.choice(_ITEMS if sales else _PURCHASED)
            quantity = self.rng.choice(_QUANTITIES)
            line: dict[str, Any]
            if self.rng.random() < 0.5:
                # The item's own price, account and tax rate, as Xero fills them in.
                line = {"ItemCode": code, "Quantity": quantity}
            else:
                line = {
                    "Description": name,
                    "Quantity": quantity,
                    "UnitAmount": Decimal(price if sales else cost),
                    "AccountCode": "200" if sales else "300",
                    "TaxType": self.sales_tax if sales else self.purchase_tax,
                }
            if sales and self.rng.random() < 0.05:
                line["DiscountRate"] = Decimal(10)
            if categories and self.rng.random() < 0.3:
                category, options = self.rng.choice(categories)
                line["Tracking"] = [{"Name": category, "Option": self.rng.choice(options)}]
            lines.append(line)
        return lines

    def invoices(
        self,
        batch: services.Batch,
        start: int,
        stop: int,
        people: list[_Contact],
        categories: list[tuple[str, tuple[str, ...]]],
    ) -> list[_Invoice]:
        payloads = []
        moments = []
        made = []
        for n in range(start, stop):
            sales = self.rng.random() < 0.7
            contact = self.rng.choice(people)
            issued = TODAY - timedelta(days=self.rng.randint(0, HISTORY_DAYS))
            status = self.rng.choices(("DRAFT", "SUBMITTED", "AUTHORISED"), weights=(8, 4, 88))[0]
            line_amount_types = self.rng.choices(("Exclusive", "Inclusive", "NoTax"), weights=(80, 15, 5))[0]
            payload: dict[str, Any] = {
                "Type": "ACCREC" if sales else "ACCPAY",
                "Contact": {"ContactID": contact.body["ContactID"]},
                "Date": issued.isoformat(),
                "DueDate": (issued + timedelta(days=self.rng.choice((7, 14, 30, 30, 60)))).isoformat(),
                "LineAmountTypes": line_amount_types,
                # A sale quotes the customer's order number; a bill the supplier's invoice number (only a
                # bill copied from one of our purchase orders quotes that order's number).
                "Reference": f"{'PO' if sales else 'INV'}-{self.rng.randint(1000, 99999)}",
                "Status": "AUTHORISED" if contact.former else status,
                "LineItems": self._lines(sales, categories),
            }
            if not sales:
                payload["InvoiceNumber"] = f"BILL-{n + 1:06d}"
            currency = contact.body.get("DefaultCurrency")
            if currency:
                payload["CurrencyCode"] = currency
                payload["CurrencyRate"] = self._rate(currency, issued)
            payloads.append(payload)
            moments.append(self._during_day(issued))
            made.append((issued, contact.former))
        bodies = batch.write("Invoices", payloads, at=moments)
        self.report.add("Invoices", len(bodies))
        return [_Invoice(body, issued, former) for body, (issued, former) in zip(bodies, made, strict=True)]

    def credit_notes(self, batch: services.Batch, documents: list[_Invoice]) -> None:
        """Credit notes for about one invoice in 25; every other one is allocated to its invoice."""
        chosen = [
            d
            for d in documents
            if d.body["Status"] == "AUTHORISED"
            and not d.former
            and d.body["CurrencyCode"] == self.base
            and self.rng.random() < 0.04
        ]
        payloads = []
        days = []
        for invoice in chosen:
            line = invoice.body["LineItems"][0]
            day = self._after(invoice.issued, 1, 30)
            days.append(day)
            payloads.append(
                {
                    "Type": "ACCRECCREDIT" if invoice.body["Type"] == "ACCREC" else "ACCPAYCREDIT",
                    "Contact": {"ContactID": invoice.body["Contact"]["ContactID"]},
                    "Date": day.isoformat(),
                    "LineAmountTypes": invoice.body["LineAmountTypes"],
                    "Reference": f"Credit for {invoice.body['InvoiceNumber']}",
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            key: line[key]
                            for key in ("Description", "Quantity", "UnitAmount", "AccountCode", "TaxType")
                            if key in line
                        }
                    ],
                }
            )
        moments = [self._during_day(day) for day in days]
        notes = batch.write("CreditNotes", payloads, at=moments)
        self.report.add("CreditNotes", len(notes))
        allocated = 0
        for note, invoice, day, moment in list(zip(notes, chosen, days, moments, strict=True))[::2]:
            current = batch.get("Invoices", invoice.body["InvoiceID"]) or invoice.body
            amount = min(note["RemainingCredit"], current["AmountDue"])
            batch.allocate(
                note["CreditNoteID"],
                [
                    {
                        "Invoice": {"InvoiceID": invoice.body["InvoiceID"]},
                        "Amount": amount,
                        "Date": day.isoformat(),
                    }
                ],
                at=moment + timedelta(minutes=5),
            )
            invoice.settled = True
            allocated += 1
        self.report.add("Allocations", allocated)

    def lifecycle(self, batch: services.Batch, documents: list[_Invoice]) -> None:
        """A quarter of the drafts deleted; a few untouched authorised invoices voided."""
        deleted: list[dict[str, Any]] = []
        deleted_at: list[datetime] = []
        voided: list[dict[str, Any]] = []
        voided_at: list[datetime] = []
        for d in documents:
            status = d.body["Status"]
            if status in ("DRAFT", "SUBMITTED") and self.rng.random() < 0.25:
                deleted.append({"InvoiceID": d.body["InvoiceID"], "Status": "DELETED"})
                deleted_at.append(self._during_day(self._after(d.issued, 0, 14)))
            elif status == "AUTHORISED" and not d.settled and not d.former and self.rng.random() < 0.03:
                # Xero voids only invoices without payments or allocations: these get none.
                d.settled = True
                voided.append({"InvoiceID": d.body["InvoiceID"], "Status": "VOIDED"})
                voided_at.append(self._during_day(self._after(d.issued, 1, 30)))
        batch.write("Invoices", deleted, mode=UPSERT, at=deleted_at)
        batch.write("Invoices", voided, mode=UPSERT, at=voided_at)
        self.report.add("Invoices deleted", len(deleted))
        self.report.add("Invoices voided", len(voided))

    def payments(self, batch: services.Batch, documents: list[_Invoice]) -> None:
        """Half the open invoices paid in full, one in ten paid in part (and some of those settled later);
        a former customer's invoices are always paid in full."""
        payloads: list[dict[str, Any]] = []
        moments: list[datetime] = []

        def pay(invoice: _Invoice, amount: Decimal, day: date) -> None:
            body = invoice.body
            payload: dict[str, Any] = {
                "Invoice": {"InvoiceID": body["InvoiceID"]},
                "Account": {"Code": BANK_ACCOUNT},
                "Date": day.isoformat(),
                "Amount": amount,
                "Reference": f"Payment for {body['InvoiceNumber']}",
            }
            if body["CurrencyCode"] != self.base:
                payload["CurrencyRate"] = self._rate(body["CurrencyCode"], day)
            payloads.append(payload)
            moments.append(self._during_day(day))

        for invoice in documents:
            if invoice.body["Status"] != "AUTHORISED" or invoice.settled:
                continue
            due: Decimal = invoice.body["AmountDue"]
            roll = 0.0 if invoice.former else self.rng.random()
            if roll >= 0.6 or due <= 0:
                continue
            invoice.settled = True
            day = self._after(invoice.issued, 0, 45)
            if roll < 0.5:
                pay(invoice, due, day)
                continue
            part = (due / 2).quantize(Decimal("0.01"))
            pay(invoice, part, day)
            if self.rng.random() < 0.5 and day < TODAY:
                pay(invoice, due - part, self._after(day, 1, 30))
        batch.write("Payments", payloads, at=moments)
        self.report.add("Payments", len(payloads))

    def journals(self, batch: services.Batch, count: int) -> None:
        payloads = []
        moments = []
        for n in range(count):
            amount = Decimal(self.rng.randint(1000, 500000)) / 100
            narration, debit, credit = self.rng.choice(_JOURNALS)
            day = TODAY - timedelta(days=self.rng.randint(0, 365))
            payloads.append(
                {
                    "Narration": f"{narration} #{n + 1}",
                    "Date": day.isoformat(),
                    "Status": self.rng.choices(("DRAFT", "POSTED"), weights=(2, 8))[0],
                    "JournalLines": [
                        {"LineAmount": amount, "AccountCode": debit, "Description": "Debit"},
                        {"LineAmount": -amount, "AccountCode": credit, "Description": "Credit"},
                    ],
                }
            )
            moments.append(self._during_day(day))
        batch.write("ManualJournals", payloads, at=moments)
        self.report.add("ManualJournals", len(payloads))

    def purchase_orders(
        self,
        batch: services.Batch,
        count: int,
        people: list[_Contact],
        categories: list[tuple[str, tuple[str, ...]]],
    ) -> None:
        suppliers = [person for person in people if not person.former]
        payloads = []
        days = []
        for n in range(count):
            day = TODAY - timedelta(days=self.rng.randint(0, 180))
            days.append(day)
            status = self.rng.choice(("DRAFT", "SUBMITTED", "AUTHORISED", "AUTHORISED"))
            payloads.append(
                {
                    "PurchaseOrderNumber": f"PO-{n + 1:05d}",
                    "Contact": {"ContactID": self.rng.choice(suppliers).body["ContactID"]},
                    "Date": day.isoformat(),
                    "DeliveryDate": (day + timedelta(days=14)).isoformat(),
                    # The first order is always approved (and then billed): even a small organisation has a
                    # bill made from an order.
                    "Status": "AUTHORISED" if n == 0 else status,
                    "LineItems": self._lines(False, categories),
                }
            )
        orders = batch.write("PurchaseOrders", payloads, at=[self._during_day(day) for day in days])
        # Orders reach BILLED only from AUTHORISED, as in Xero. A billed order was copied to a bill first
        # ("Copy to > Bill", then "Mark this purchase order as fully billed").
        billed = []
        billed_at = []
        bills = []
        for n, (order, day) in enumerate(zip(orders, days, strict=True)):
            if order["Status"] == "AUTHORISED" and (self.rng.random() < 0.5 or n == 0):
                moment = self._during_day(self._after(day, 1, 21))
                bills.append(self._bill_from(order, moment.date()))
                billed.append({"PurchaseOrderID": order["PurchaseOrderID"], "Status": "BILLED"})
                billed_at.append(moment)
        batch.write("Invoices", bills, at=billed_at)
        batch.write("PurchaseOrders", billed, mode=UPSERT, at=billed_at)
        self.report.add("PurchaseOrders", len(orders))
        self.report.add("PurchaseOrders billed", len(billed))
        self.report.add("Bills from purchase orders", len(bills))

    def _bill_from(self, order: dict[str, Any], day: date) -> dict[str, Any]:
        """The bill Xero makes of a purchase order: its contact, currency and lines, approved on `day`, with
        the order's number as its Reference (Xero keeps no other link between the two)."""
        lines = []
        for line in order["LineItems"]:
            copied = {
                key: line[key]
                for key in ("ItemCode", "Description", "Quantity", "UnitAmount", "AccountCode", "TaxType")
                if key in line
            }
            if line.get("Tracking"):
                copied["Tracking"] = [
                    {"Name": tracking["Name"], "Option": tracking["Option"]} for tracking in line["Tracking"]
                ]
            lines.append(copied)
        bill: dict[str, Any] = {
            "Type": "ACCPAY",
            "Contact": {"ContactID": order["Contact"]["ContactID"]},
            "Date": day.isoformat(),
            "DueDate": (day + timedelta(days=30)).isoformat(),
            "LineAmountTypes": order["LineAmountTypes"],
            "Reference": order["PurchaseOrderNumber"],
            "Status": "AUTHORISED",
            "LineItems": lines,
        }
        currency = order.get("CurrencyCode")
        if currency and currency != self.base:
            bill["CurrencyCode"] = currency
            bill["CurrencyRate"] = self._rate(currency, day)
        return bill

    def archive(self, batch: services.Batch, people: list[_Contact]) -> None:
        archived = [
            {"ContactID": person.body["ContactID"], "ContactStatus": "ARCHIVED"}
            for person in people
            if person.former
        ]
        moments = [self._during_day(self._after(TODAY - timedelta(days=30), 0, 30)) for _ in archived]
        batch.write("Contacts", archived, mode=UPSERT, at=moments)
        self.report.add("Contacts archived", len(archived))


def organisation_seed(
    *,
    tenant: Tenant,
    contacts: int,
    invoices: int,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _m: None,
) -> SeedReport:
    """Fill `tenant` with a coherent organisation: tracking categories, items, contacts (some in foreign
    currencies, some archived), invoices and bills with lines (some deleted, some voided), credit notes
    and allocations, payments (full, part, in two goes), manual journals and purchase orders (the billed
    ones copied to bills that quote the order's number as their Reference).

    Deterministic: see the module's docstring. Raises ValueError when the organisation already has
    documents of the collections seeded (seed an empty organisation) or when `contacts` < 1."""
    from sandbox.models.xero_records import XeroRecord

    if contacts < 1:
        raise ValueError("An organisation needs at least one contact.")
    if invoices < 0:
        raise ValueError("The number of invoices cannot be negative.")
    seeded = ("Contacts", "Invoices", "Items", "TrackingCategories", "PurchaseOrders", "ManualJournals")
    if XeroRecord.objects.filter(tenant=tenant, collection__in=seeded).exists():
        raise ValueError(f"{tenant.name} already has documents: seed an empty organisation.")
    return _Seeder(tenant, seed=seed, progress=progress).run(contacts=contacts, invoices=invoices)
