"""A coherent, deterministic Xero organisation for demos, tests and benchmarks.

Everything goes through the same services as the API (validation, totals, payments, allocations), so a
seeded organisation obeys Xero's rules exactly like one built by hand: the same seed always gives the same
documents, the same totals and the same statuses."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.models import Tenant
from sandbox.xero.api import services

CHUNK = 2000
FOREIGN_CURRENCIES = {
    "GBP": ("EUR", "USD"),
    "NZD": ("AUD", "USD"),
    "AUD": ("NZD", "USD"),
    "USD": ("EUR", "GBP"),
}
CURRENCY_RATES = {
    "EUR": Decimal("1.1650"),
    "USD": Decimal("1.2710"),
    "GBP": Decimal("0.7870"),
    "AUD": Decimal("1.6430"),
    "NZD": Decimal("1.7820"),
}

_FIRST = (
    "Acme",
    "Bright",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbour",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Northwind",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Riverside",
    "Summit",
    "Tidal",
)
_SECOND = (
    "Bakery",
    "Builders",
    "Consulting",
    "Dental",
    "Engineering",
    "Foods",
    "Garage",
    "Hardware",
    "Interiors",
    "Joinery",
    "Kitchens",
    "Logistics",
    "Media",
    "Nursery",
    "Optics",
    "Plumbing",
    "Roofing",
    "Studios",
    "Textiles",
    "Ventures",
)
_SUFFIX = ("Ltd", "LLP", "& Co", "Group", "Partners", "Trading")
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


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, collection: str, n: int) -> None:
        self.counts[collection] = self.counts.get(collection, 0) + n


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class _Seeder:
    def __init__(self, tenant: Tenant, *, seed: int, progress: Callable[[str], None]) -> None:
        self.tenant = tenant
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
        # Document ids derive from the seed too, so that two runs with one seed give identical documents.
        self.namespace = uuid.UUID(int=seed)
        self.progress = progress
        self.report = SeedReport()
        self.today = date(2026, 11, 1)
        self.sales_tax, self.purchase_tax = self._tax_types()
        # Invoices with a payment or a credit allocation: never voided.
        self.settled: set[str] = set()

    def _id(self, kind: str, n: int) -> str:
        return str(uuid.uuid5(self.namespace, f"{self.tenant.tenant_id}:{kind}:{n}"))

    def _tax_types(self) -> tuple[str, str]:
        from sandbox.xero.api.defaults import PURCHASES_TAX, SALES_TAX

        return SALES_TAX.get(self.tenant.country, "NONE"), PURCHASES_TAX.get(self.tenant.country, "NONE")

    def _create(self, collection: str, payloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        for chunk in _chunks(payloads):
            bodies.extend(
                services.records_create(
                    tenant=self.tenant, collection=collection, payloads=chunk, emit_events=False
                )
            )
        self.report.add(collection, len(payloads))
        return bodies

    def _upsert(self, collection: str, payloads: Sequence[dict[str, Any]]) -> None:
        for chunk in _chunks(payloads):
            services.records_upsert(
                tenant=self.tenant, collection=collection, payloads=chunk, emit_events=False
            )

    def _day(self, max_days_ago: int = 730) -> date:
        return self.today - timedelta(days=self.rng.randint(0, max_days_ago))

    def run(self, *, contacts: int, invoices: int) -> SeedReport:
        started = time.perf_counter()
        categories = self.tracking()
        self.items()
        people = self.contacts(contacts)
        documents = self.invoices(invoices, people, categories)
        self.credit_notes(people, documents)
        self.payments(documents)
        self.journals(max(2, invoices // 50))
        self.purchase_orders(max(1, invoices // 20), people)
        self.lifecycle(documents, people)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def tracking(self) -> list[tuple[str, list[str]]]:
        options = {
            "Region": ["North", "South", "East", "West"],
            "Department": ["Sales", "Operations", "Support"],
        }
        made: list[tuple[str, list[str]]] = []
        for name, values in options.items():
            [category] = self._create(
                "TrackingCategories", [{"TrackingCategoryID": self._id("tc", len(made)), "Name": name}]
            )
            services.tracking_option_write(
                tenant=self.tenant,
                category_ref=category["TrackingCategoryID"],
                payloads=[{"Name": v} for v in values],
            )
            made.append((name, values))
        return made

    def items(self) -> None:
        payloads = [
            {
                "Code": code,
                "Name": name,
                "Description": name,
                "IsSold": True,
                "IsPurchased": cost != "0",
                "SalesDetails": {"UnitPrice": price, "AccountCode": "200", "TaxType": self.sales_tax},
                **(
                    {
                        "PurchaseDetails": {
                            "UnitPrice": cost,
                            "AccountCode": "300",
                            "TaxType": self.purchase_tax,
                        }
                    }
                    if cost != "0"
                    else {}
                ),
            }
            for code, name, price, cost in _ITEMS
        ]
        self._create("Items", payloads)

    def contacts(self, count: int) -> list[dict[str, Any]]:
        payloads = []
        for n in range(count):
            name = (
                f"{self.rng.choice(_FIRST)} {self.rng.choice(_SECOND)} {self.rng.choice(_SUFFIX)} {n + 1:05d}"
            )
            payloads.append(
                {
                    "ContactID": self._id("contact", n),
                    "Name": name,
                    "ContactNumber": f"C{n + 1:06d}",
                    "EmailAddress": f"accounts{n + 1}@example.com",
                    "FirstName": self.rng.choice(
                        ("Ana", "Ben", "Chloe", "Dev", "Ema", "Finn", "Gita", "Hugo")
                    ),
                    "LastName": self.rng.choice(
                        ("Smith", "Jones", "Patel", "Nguyen", "Brown", "Silva", "Khan")
                    ),
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
                    **(
                        {
                            "DefaultCurrency": self.rng.choice(
                                FOREIGN_CURRENCIES.get(self.tenant.base_currency, ("EUR",))
                            )
                        }
                        if self.rng.random() < 0.1
                        else {}
                    ),
                }
            )
        return self._create("Contacts", payloads)

    def _lines(self, sales: bool, categories: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
        lines = []
        for _ in range(self.rng.randint(1, 4)):
            _code, name, price, cost = self.rng.choice(_ITEMS)
            unit = Decimal(price if sales or cost == "0" else cost)
            line: dict[str, Any] = {
                "Description": name,
                "Quantity": str(self.rng.choice((1, 1, 2, 3, 5, 10, Decimal("1.5")))),
                "UnitAmount": str(unit),
                "AccountCode": "200" if sales else "300",
                "TaxType": self.sales_tax if sales else self.purchase_tax,
            }
            if categories and self.rng.random() < 0.3:
                category, options = self.rng.choice(categories)
                line["Tracking"] = [{"Name": category, "Option": self.rng.choice(options)}]
            lines.append(line)
        return lines

    def invoices(
        self, count: int, people: list[dict[str, Any]], categories: list[tuple[str, list[str]]]
    ) -> list[dict[str, Any]]:
        payloads = []
        foreign = FOREIGN_CURRENCIES.get(self.tenant.base_currency, ("EUR",))
        for n in range(count):
            sales = self.rng.random() < 0.7
            contact = self.rng.choice(people)
            issued = self._day()
            status = self.rng.choices(("DRAFT", "SUBMITTED", "AUTHORISED"), weights=(8, 4, 88))[0]
            payload: dict[str, Any] = {
                "InvoiceID": self._id("invoice", n),
                "Type": "ACCREC" if sales else "ACCPAY",
                "Contact": {"ContactID": contact["ContactID"]},
                "Date": issued.isoformat(),
                "DueDate": (issued + timedelta(days=self.rng.choice((7, 14, 30, 30, 60)))).isoformat(),
                "LineAmountTypes": self.rng.choices(("Exclusive", "Inclusive", "NoTax"), weights=(80, 15, 5))[
                    0
                ],
                "Reference": f"PO-{self.rng.randint(1000, 99999)}",
                "Status": status,
                "LineItems": self._lines(sales, categories),
            }
            if not sales:
                payload["InvoiceNumber"] = f"BILL-{n + 1:06d}"
            if self.rng.random() < 0.08:
                currency = self.rng.choice(foreign)
                payload["CurrencyCode"] = currency
                payload["CurrencyRate"] = str(CURRENCY_RATES[currency])
            payloads.append(payload)
        self.progress(f"invoices: creating {count}")
        return self._create("Invoices", payloads)

    def credit_notes(self, people: list[dict[str, Any]], documents: list[dict[str, Any]]) -> None:
        authorised = [
            d
            for d in documents
            if d["Status"] == "AUTHORISED" and d.get("CurrencyCode") in (None, self.tenant.base_currency)
        ]
        chosen = self.rng.sample(authorised, min(len(authorised), max(1, len(documents) // 25)))
        payloads = []
        for n, invoice in enumerate(chosen):
            sales = invoice["Type"] == "ACCREC"
            line = dict(invoice["LineItems"][0])
            payloads.append(
                {
                    "CreditNoteID": self._id("credit", n),
                    "Type": "ACCRECCREDIT" if sales else "ACCPAYCREDIT",
                    "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
                    "Date": invoice["Date"]
                    if isinstance(invoice["Date"], str) and "/Date" not in invoice["Date"]
                    else self.today.isoformat(),
                    "LineAmountTypes": invoice.get("LineAmountTypes", "Exclusive"),
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            k: line[k]
                            for k in ("Description", "Quantity", "UnitAmount", "AccountCode", "TaxType")
                            if k in line
                        }
                    ],
                }
            )
        notes = self._create("CreditNotes", payloads)
        # Half of the credit notes are allocated against the invoice they were raised for.
        for note, invoice in list(zip(notes, chosen, strict=True))[::2]:
            amount = min(Decimal(str(note["RemainingCredit"])), Decimal(str(invoice["AmountDue"])))
            if amount > 0:
                self.settled.add(invoice["InvoiceID"])
                services.allocations_create(
                    tenant=self.tenant,
                    credit_note_ref=note["CreditNoteID"],
                    payloads=[
                        {
                            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                            "Amount": str(amount),
                            "Date": self.today.isoformat(),
                        }
                    ],
                    emit_events=False,
                )
                self.report.add("Allocations", 1)

    def payments(self, documents: list[dict[str, Any]]) -> None:
        # Invoices with a credit allocation owe less than `documents` says: leave them out.
        payable = [d for d in documents if d["Status"] == "AUTHORISED" and d["InvoiceID"] not in self.settled]
        payloads = []
        for invoice in payable:
            roll = self.rng.random()
            if roll >= 0.6:
                continue
            due = Decimal(str(invoice["AmountDue"]))
            amount = due if roll < 0.5 else (due / 2).quantize(Decimal("0.01"))
            if amount <= 0:
                continue
            self.settled.add(invoice["InvoiceID"])
            payloads.append(
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Date": self.today.isoformat(),
                    "Amount": str(amount),
                    "Reference": f"Payment for {invoice.get('InvoiceNumber') or invoice['InvoiceID'][:8]}",
                    **(
                        {"CurrencyRate": str(invoice["CurrencyRate"])}
                        if invoice.get("CurrencyRate") not in (None, 1, "1")
                        else {}
                    ),
                }
            )
        self.progress(f"payments: creating {len(payloads)}")
        self._create("Payments", payloads)

    def lifecycle(self, documents: list[dict[str, Any]], people: list[dict[str, Any]]) -> None:
        """Some drafts deleted, some untouched authorised invoices voided, some contacts archived."""
        drafts = [d for d in documents if d["Status"] in ("DRAFT", "SUBMITTED")]
        deleted = [
            {"InvoiceID": d["InvoiceID"], "Status": "DELETED"} for d in drafts if self.rng.random() < 0.25
        ]
        self._upsert("Invoices", deleted)
        # Xero voids only invoices without payments or allocations.
        voidable = [
            d["InvoiceID"]
            for d in documents
            if d["Status"] == "AUTHORISED" and d["InvoiceID"] not in self.settled
        ]
        voided = [{"InvoiceID": ref, "Status": "VOIDED"} for ref in voidable if self.rng.random() < 0.03]
        self._upsert("Invoices", voided)
        archived = [
            {"ContactID": c["ContactID"], "ContactStatus": "ARCHIVED"}
            for c in people
            if self.rng.random() < 0.03
        ]
        self._upsert("Contacts", archived)
        self.report.add("Invoices deleted", len(deleted))
        self.report.add("Invoices voided", len(voided))
        self.report.add("Contacts archived", len(archived))

    def journals(self, count: int) -> None:
        payloads = []
        for n in range(count):
            amount = Decimal(self.rng.randint(1000, 500000)) / 100
            payloads.append(
                {
                    "ManualJournalID": self._id("journal", n),
                    "Narration": self.rng.choice(
                        ("Accrual", "Depreciation", "Reclassification", "Year-end adjustment")
                    )
                    + f" #{n + 1}",
                    "Date": self._day(365).isoformat(),
                    "Status": self.rng.choices(("DRAFT", "POSTED"), weights=(2, 8))[0],
                    "JournalLines": [
                        {"LineAmount": str(amount), "AccountCode": "429", "Description": "Debit"},
                        {"LineAmount": str(-amount), "AccountCode": "800", "Description": "Credit"},
                    ],
                }
            )
        self._create("ManualJournals", payloads)

    def purchase_orders(self, count: int, people: list[dict[str, Any]]) -> None:
        payloads = []
        for n in range(count):
            issued = self._day(180)
            payloads.append(
                {
                    "PurchaseOrderID": self._id("po", n),
                    "PurchaseOrderNumber": f"PO-{n + 1:05d}",
                    "Contact": {"ContactID": self.rng.choice(people)["ContactID"]},
                    "Date": issued.isoformat(),
                    "DeliveryDate": (issued + timedelta(days=14)).isoformat(),
                    "Status": self.rng.choice(("DRAFT", "SUBMITTED", "AUTHORISED", "AUTHORISED")),
                    "LineItems": self._lines(False, []),
                }
            )
        orders = self._create("PurchaseOrders", payloads)
        # Orders reach BILLED only from AUTHORISED, as in Xero.
        billed = [
            {"PurchaseOrderID": o["PurchaseOrderID"], "Status": "BILLED"}
            for o in orders
            if o["Status"] == "AUTHORISED" and self.rng.random() < 0.5
        ]
        self._upsert("PurchaseOrders", billed)
        self.report.add("PurchaseOrders billed", len(billed))


def organisation_seed(
    *,
    tenant: Tenant,
    contacts: int,
    invoices: int,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _m: None,
) -> SeedReport:
    """Fill `tenant` with a coherent organisation: tracking, items, contacts, invoices and bills with
    lines, credit notes and allocations, payments, voided/deleted/archived records, journals and POs."""
    if contacts < 1:
        raise ValueError("An organisation needs at least one contact.")
    return _Seeder(tenant, seed=seed, progress=progress).run(contacts=contacts, invoices=invoices)
