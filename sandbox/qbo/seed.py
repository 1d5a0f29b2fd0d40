"""A coherent, deterministic QuickBooks Online company for demos, tests and benchmarks.

The generator replays a company's history through the emulator's own write path (`services.unit_of_work`
and the generic `engine`, exactly what POST /{entity}, `?operation=void` and `?operation=delete` run):
every account, term, item, customer, invoice, payment, bill, credit and journal entry is validated and
computed by QBO's rules (totals, tax, discounts, due dates, DocNumbers, balances, LinkedTxn, the
customer's and vendor's Balance), as if a client had made those calls. What makes it fast is where the
work happens: the documents of one chunk are created, paid, voided and deleted in one workspace, and each
is then written once, in its final state, by bulk INSERTs.

What a seeded company holds, besides the defaults every new company starts with (chart of accounts, terms,
payment methods, the "Services" item, the California sales tax code and rate):

- accounts, terms, payment methods, classes, departments and items of its own; customers (some of them
  sub-customers, i.e. jobs) and vendors; one of each name list made inactive (name " (deleted)");
- invoices with item lines, some taxed with the company's tax code, some with a percentage discount;
  payments in full or in part (a few overpaying, leaving an UnappliedAmt; a few voided later), voided
  invoices (every amount zero) and deleted ones (tombstones);
- bills (account- and item-based lines) with bill payments by check or credit card, in full or in part,
  and a few deleted bills; vendor credits, credit memos, purchase orders (those older than four months
  billed: a bill copied from the order, linked to it line by line, which closes it) and balanced journal
  entries.

Determinism. The same seed on a fresh company gives byte-identical bodies, Ids and DocNumbers included:
the data come from one seeded random generator, and every write happens at a simulated moment of the
company's history (MetaData.CreateTime is a document's date, LastUpdatedTime the moment it last changed,
never after TODAY). The only clock times in a seeded company are those of the defaults it starts with."""

from __future__ import annotations

import gc
import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.models import Tenant
from sandbox.qbo.api import engine, services, wire
from sandbox.qbo.api.entities import ENTITIES
from sandbox.qbo.api.rules.company import ACCOUNTS_PAYABLE, UNDEPOSITED_FUNDS
from sandbox.qbo.api.workspace import Workspace
from sandbox.seeding import (
    BUSINESS_WORDS_FIRST,
    BUSINESS_WORDS_SECOND,
    FAMILY_NAMES,
    GIVEN_NAMES,
    SeedReport,
    seeding_tuned,
)

# Invoices (with everything that goes with them) created in one transaction and one bulk write.
CHUNK = 20000
# The seeded history ends on this day and reaches back HISTORY_DAYS before it.
TODAY = date(2026, 11, 1)
HISTORY_DAYS = 730

CHECKING = "35"
MASTERCARD = "41"
DISCOUNTS_GIVEN = "86"
TAX_CODE = "1"  # the company's default sales tax code (California, 8%)

Progress = Callable[[str, int, int], None]
Action = Callable[[Workspace, datetime], None]

_SUFFIX = ("Inc", "LLC", "& Co", "Group", "Partners", "Trading")
_CITIES = (("San Pablo", "CA", "87999"), ("Bayshore", "CA", "94326"), ("Middlefield", "CA", "94303"))
_QUANTITIES = (Decimal(1), Decimal(1), Decimal(2), Decimal(3), Decimal(5), Decimal(10), Decimal("1.5"))

# (Name, AccountType, AccountSubType); the last one is made inactive.
_ACCOUNTS = (
    ("Consulting Income", "Income", "ServiceFeeIncome"),
    ("Product Sales", "Income", "SalesOfProductIncome"),
    ("Office Supplies", "Expense", "OfficeGeneralAdministrativeExpenses"),
    ("Rent or Lease", "Expense", "RentOrLeaseOfBuildings"),
    ("Utilities", "Expense", "Utilities"),
    ("Savings", "Bank", "Savings"),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    ("Vehicle Expenses (old)", "Expense", "Auto"),
)
# (Name, Type, sale price, purchase cost: None for what is only sold, taxable, income account name)
_ITEMS = (
    ("Consulting hour", "Service", "120.00", None, False, "Consulting Income"),
    ("Installation", "Service", "85.50", None, False, "Consulting Income"),
    ("Widget", "NonInventory", "12.99", "6.40", True, "Product Sales"),
    ("Gadget", "NonInventory", "49.95", "22.10", True, "Product Sales"),
    ("Support plan (monthly)", "Service", "29.00", None, False, "Consulting Income"),
    ("Cable, 2 m", "NonInventory", "4.75", "1.20", True, "Product Sales"),
    ("Software license", "Service", "199.00", None, False, "Consulting Income"),
    ("Site survey", "Service", "250.00", None, False, "Consulting Income"),
    ("Paint, 5 l", "NonInventory", "32.40", "14.80", True, "Product Sales"),
    ("Timber, per foot", "NonInventory", "6.15", "2.95", True, "Product Sales"),
    ("Legacy support", "Service", "15.00", None, False, "Consulting Income"),
)
_RETIRED_ITEM = "Legacy support"
_TERMS = (("Net 10", 10), ("Net 45", 45), ("Net 90 (old)", 90))
_PAYMENT_METHODS = (
    ("Direct Debit", "NON_CREDIT_CARD"),
    ("Wire Transfer", "NON_CREDIT_CARD"),
    ("Diners", "CREDIT_CARD"),
)
_CLASSES = ("Retail", "Wholesale", "Online", "Trade shows")
_DEPARTMENTS = ("North", "South", "East", "West", "Head office")
# Every document type's share of the invoices of a chunk (one in N).
BILL_EVERY = 5
CREDIT_MEMO_EVERY = 40
VENDOR_CREDIT_EVERY = 100
PURCHASE_ORDER_EVERY = 50
JOURNAL_EVERY = 100
# An order older than four months was billed this many days after it was placed.
BILLED_AFTER_DAYS = 14


@dataclass
class _Masters:
    """The ids of the name-list entities documents refer to."""

    accounts: dict[str, str] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> body
    terms: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    vendors: list[str] = field(default_factory=list)


def _at(day: date, minutes: int) -> datetime:
    """A moment of `day` in the company's (Intuit's Pacific) time."""
    return datetime(day.year, day.month, day.day, tzinfo=wire.INTUIT_ZONE) + timedelta(minutes=minutes)


def _ref(record_id: str) -> dict[str, str]:
    return {"value": record_id}


class _Seeder:
    def __init__(self, tenant: Tenant, *, seed: int, progress: Progress | None) -> None:
        self.tenant = tenant
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
        self.progress = progress
        self.report = SeedReport()
        self.masters = _Masters()
        self.opened = TODAY - timedelta(days=HISTORY_DAYS + 30)
        self.bill_number = 0
        # What happens later to a chunk's documents, in date order: (moment, sequence, action).
        self._later: list[tuple[datetime, int, Action]] = []
        self._sequence = 0

    # --- helpers -----------------------------------------------------------------------------------------

    def _tell(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def _during_day(self, day: date) -> datetime:
        """A moment in the working day (08:00 to 18:00) of `day`."""
        return _at(day, 8 * 60 + self.rng.randrange(10 * 60))

    def _after(self, day: date, low: int, high: int) -> date | None:
        """A day `low` to `high` days after `day`; None when it falls after the end of the history."""
        following = day + timedelta(days=self.rng.randint(low, high))
        return following if following <= TODAY else None

    def _schedule(self, day: date | None, action: Action) -> None:
        """Run `action` at a moment of `day`, after this chunk's documents exist (never past TODAY)."""
        if day is not None:
            self._sequence += 1
            heapq.heappush(self._later, (self._during_day(day), self._sequence, action))

    def _save(self, ws: Workspace, entity: str, payload: dict[str, Any], moment: datetime) -> dict[str, Any]:
        ws.now = moment
        body = engine.save(ws, ENTITIES[entity], payload, creating=True)
        self.report.add(entity)
        return body

    def _deactivate(
        self, ws: Workspace, entity: str, body: dict[str, Any], moment: datetime
    ) -> dict[str, Any]:
        """What a client's "delete" of a name-list entity is: a sparse update to Active false."""
        ws.now = moment
        payload = {"Id": body["Id"], "SyncToken": body["SyncToken"], "sparse": True, "Active": False}
        return engine.save(ws, ENTITIES[entity], payload)

    def _void(self, ws: Workspace, entity: str, body: dict[str, Any], moment: datetime) -> None:
        ws.now = moment
        current = ws.get(entity, str(body["Id"]))
        assert current is not None  # noqa: S101 - the seeder voids only what it created
        engine.void(ws, ENTITIES[entity], {"Id": current["Id"], "SyncToken": current["SyncToken"]})
        self.report.add(f"{entity} voided")

    def _delete(self, ws: Workspace, entity: str, body: dict[str, Any], moment: datetime) -> None:
        ws.now = moment
        current = ws.get(entity, str(body["Id"]))
        assert current is not None  # noqa: S101 - the seeder deletes only what it created
        engine.delete(ws, ENTITIES[entity], {"Id": current["Id"], "SyncToken": current["SyncToken"]})
        self.report.add(f"{entity} deleted")

    # --- the history -------------------------------------------------------------------------------------

    def run(self, *, customers: int, invoices: int) -> SeedReport:
        started = time.perf_counter()
        with seeding_tuned():
            self._lists(customers=customers)
            for start in range(0, invoices, CHUNK):
                size = min(CHUNK, invoices - start)
                self._chunk(start, size, invoices)
                gc.collect(0)
                self._tell("invoices", start + size, invoices)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _lists(self, *, customers: int) -> None:
        """The name lists, all on the day the company was opened."""
        day = self.opened
        m = self.masters
        with services.unit_of_work(self.tenant, emit_events=False) as ws:
            moment = _at(day, 9 * 60)
            for name, account_type, sub_type in _ACCOUNTS:
                body = self._save(
                    ws,
                    "Account",
                    {"Name": name, "AccountType": account_type, "AccountSubType": sub_type},
                    moment,
                )
                m.accounts[name] = body["Id"]
            for name, days in _TERMS:
                m.terms.append(self._save(ws, "Term", {"Name": name, "DueDays": days}, moment)["Id"])
            for name, kind in _PAYMENT_METHODS:
                m.methods.append(self._save(ws, "PaymentMethod", {"Name": name, "Type": kind}, moment)["Id"])
            for name in _CLASSES:
                m.classes.append(self._save(ws, "Class", {"Name": name}, moment)["Id"])
            for name in _DEPARTMENTS:
                m.departments.append(self._save(ws, "Department", {"Name": name}, moment)["Id"])
            for name, kind, price, cost, taxable, income in _ITEMS:
                payload: dict[str, Any] = {
                    "Name": name,
                    "Type": kind,
                    "UnitPrice": Decimal(price),
                    "Taxable": taxable,
                    "IncomeAccountRef": _ref(m.accounts[income]),
                }
                if cost is not None:
                    payload["PurchaseCost"] = Decimal(cost)
                    payload["ExpenseAccountRef"] = _ref(m.accounts["Office Supplies"])
                m.items[name] = self._save(ws, "Item", payload, moment)
            self._tell("lists", 0, customers)
            self._parties(ws, customers=customers)
            # One of each list is retired a year into the history: " (deleted)" is appended to its name.
            retired = _at(day + timedelta(days=365), 10 * 60)
            ws.now = retired
            old_account = ws.get("Account", m.accounts["Vehicle Expenses (old)"])
            assert old_account is not None  # noqa: S101
            self._deactivate(ws, "Account", old_account, retired)
            m.items[_RETIRED_ITEM] = self._deactivate(ws, "Item", m.items[_RETIRED_ITEM], retired)
            for entity, record_id in (
                ("Term", m.terms.pop()),
                ("PaymentMethod", m.methods.pop()),
                ("Class", m.classes.pop()),
                ("Department", m.departments.pop()),
            ):
                listed = ws.get(entity, record_id)
                assert listed is not None  # noqa: S101
                self._deactivate(ws, entity, listed, retired)
                self.report.add(f"{entity} inactive")
            self.report.add("Account inactive")
            self.report.add("Item inactive")

    def _address(self, number: int) -> dict[str, str]:
        city, state, postal = _CITIES[number % len(_CITIES)]
        return {
            "Line1": f"{100 + number % 900} {self.rng.choice(BUSINESS_WORDS_FIRST).rstrip(chr(39) + 's')} Street",
            "City": city,
            "CountrySubDivisionCode": state,
            "PostalCode": postal,
        }

    def _party_name(self, used: set[str]) -> str:
        base = f"{self.rng.choice(BUSINESS_WORDS_FIRST)} {self.rng.choice(BUSINESS_WORDS_SECOND)} {self.rng.choice(_SUFFIX)}"
        name, counter = base, 1
        while name.casefold() in used:
            counter += 1
            name = f"{base} {counter}"
        used.add(name.casefold())
        return name

    def _parties(self, ws: Workspace, *, customers: int) -> None:
        m = self.masters
        moment = _at(self.opened, 10 * 60)
        used: set[str] = set()
        retired: list[tuple[str, dict[str, Any]]] = []
        # A few more customers and vendors than asked for: the extra ones are made inactive.
        customer_names = [self._party_name(used) for _ in range(customers + max(1, customers // 20))]
        vendors = max(5, customers // 4)
        vendor_names = [self._party_name(used) for _ in range(vendors + max(1, vendors // 20))]
        # Every name is checked for uniqueness across customers, vendors and employees: in one go.
        ws.prefetch_names(ENTITIES["Customer"].name_scope, used)
        for number, name in enumerate(customer_names):
            given, family = self.rng.choice(GIVEN_NAMES), self.rng.choice(FAMILY_NAMES)
            payload: dict[str, Any] = {
                "DisplayName": name,
                "CompanyName": name,
                "GivenName": given,
                "FamilyName": family,
                "PrimaryEmailAddr": {"Address": f"{given.lower()}.{family.lower()}.{number}@example.com"},
                "BillAddr": self._address(number),
                "Taxable": self.rng.random() < 0.7,
                "PreferredDeliveryMethod": self.rng.choice(("Email", "Print")),
            }
            if self.rng.random() < 0.3:
                payload["SalesTermRef"] = _ref(self.rng.choice(m.terms))
            # Every twentieth customer is a job (sub-customer) of the one before it.
            if number % 20 == 19 and number < customers and m.customers:
                payload["ParentRef"] = _ref(m.customers[-1])
                payload["BillWithParent"] = True
            body = self._save(ws, "Customer", payload, moment)
            if number < customers:
                m.customers.append(body["Id"])
            else:
                retired.append(("Customer", body))
        for number, name in enumerate(vendor_names):
            payload = {
                "DisplayName": name,
                "CompanyName": name,
                "BillAddr": self._address(number + 7),
                "APAccountRef": _ref(ACCOUNTS_PAYABLE),
                "Vendor1099": self.rng.random() < 0.2,
                "AcctNum": f"V-{number + 1:05d}",
            }
            if self.rng.random() < 0.5:
                payload["TermRef"] = _ref(self.rng.choice(m.terms))
            body = self._save(ws, "Vendor", payload, moment)
            if number < vendors:
                m.vendors.append(body["Id"])
            else:
                retired.append(("Vendor", body))
        retired_at = _at(self.opened + timedelta(days=200), 11 * 60)
        for entity, body in retired:
            self._deactivate(ws, entity, body, retired_at)
            self.report.add(f"{entity} inactive")

    # --- documents ---------------------------------------------------------------------------------------

    def _day_of(self, index: int, total: int) -> date:
        """The documents' dates run evenly through the history, oldest first."""
        start = TODAY - timedelta(days=HISTORY_DAYS)
        return start + timedelta(days=index * HISTORY_DAYS // max(total, 1))

    def _sales_lines(self, *, count: int) -> list[dict[str, Any]]:
        m = self.masters
        names = [name for name in m.items if name != _RETIRED_ITEM]
        lines: list[dict[str, Any]] = []
        for _ in range(count):
            item = m.items[self.rng.choice(names)]
            qty = self.rng.choice(_QUANTITIES)
            price = Decimal(item["UnitPrice"])
            detail: dict[str, Any] = {"ItemRef": _ref(item["Id"]), "Qty": qty, "UnitPrice": price}
            if self.rng.random() < 0.3:
                detail["ClassRef"] = _ref(self.rng.choice(m.classes))
            lines.append(
                {
                    "Description": item["Name"],
                    "Amount": wire.money(qty * price),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": detail,
                }
            )
        return lines

    def _invoice_payload(self, day: date, *, number: int) -> dict[str, Any]:
        m = self.masters
        lines = self._sales_lines(count=self.rng.randint(1, 4))
        payload: dict[str, Any] = {
            "CustomerRef": _ref(self.rng.choice(m.customers)),
            "TxnDate": day.isoformat(),
            "Line": lines,
        }
        if self.rng.random() < 0.6:
            payload["TxnTaxDetail"] = {"TxnTaxCodeRef": _ref(TAX_CODE)}
        if self.rng.random() < 0.1:
            percent = self.rng.choice((Decimal(5), Decimal(10), Decimal("2.5")))
            lines.append(
                {
                    "DetailType": "DiscountLineDetail",
                    "DiscountLineDetail": {
                        "PercentBased": True,
                        "DiscountPercent": percent,
                        "DiscountAccountRef": _ref(DISCOUNTS_GIVEN),
                    },
                }
            )
        if self.rng.random() < 0.2:
            payload["SalesTermRef"] = _ref(self.rng.choice(m.terms))
        if self.rng.random() < 0.3:
            payload["DepartmentRef"] = _ref(self.rng.choice(m.departments))
        if self.rng.random() < 0.1:
            payload["PrivateNote"] = f"Order {number:06d}"
        return payload

    def _expense_lines(self) -> list[dict[str, Any]]:
        m = self.masters
        lines: list[dict[str, Any]] = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.5:
                purchased = [item for item in m.items.values() if "PurchaseCost" in item]
                item = self.rng.choice(purchased)
                qty = self.rng.choice(_QUANTITIES) * 10
                cost = Decimal(item["PurchaseCost"])
                lines.append(
                    {
                        "Amount": wire.money(qty * cost),
                        "DetailType": "ItemBasedExpenseLineDetail",
                        "ItemBasedExpenseLineDetail": {
                            "ItemRef": _ref(item["Id"]),
                            "Qty": qty,
                            "UnitPrice": cost,
                        },
                    }
                )
            else:
                account = self.rng.choice(("Office Supplies", "Rent or Lease", "Utilities"))
                detail: dict[str, Any] = {"AccountRef": _ref(m.accounts[account])}
                if self.rng.random() < 0.3:
                    detail["ClassRef"] = _ref(self.rng.choice(m.classes))
                lines.append(
                    {
                        "Description": account,
                        "Amount": Decimal(self.rng.randrange(1500, 250000)) / 100,
                        "DetailType": "AccountBasedExpenseLineDetail",
                        "AccountBasedExpenseLineDetail": detail,
                    }
                )
        return lines

    def _purchase_payload(self, day: date) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "VendorRef": _ref(self.rng.choice(self.masters.vendors)),
            "APAccountRef": _ref(ACCOUNTS_PAYABLE),
            "TxnDate": day.isoformat(),
            "Line": self._expense_lines(),
        }
        if self.rng.random() < 0.2:
            payload["DepartmentRef"] = _ref(self.rng.choice(self.masters.departments))
        return payload

    def _prefetch(self, ws: Workspace) -> None:
        m = self.masters
        ws.prefetch("Customer", m.customers)
        ws.prefetch("Vendor", m.vendors)
        ws.prefetch("Item", [item["Id"] for item in m.items.values()])
        ws.prefetch(
            "Account", [*m.accounts.values(), ACCOUNTS_PAYABLE, UNDEPOSITED_FUNDS, CHECKING, MASTERCARD]
        )
        ws.prefetch("Account", [DISCOUNTS_GIVEN])
        ws.prefetch("Term", [*m.terms, "1", "2", "3", "4"])
        ws.prefetch("PaymentMethod", [*m.methods, "1", "2", "3", "4"])
        ws.prefetch("Class", m.classes)
        ws.prefetch("Department", m.departments)
        ws.prefetch("TaxCode", [TAX_CODE])
        ws.prefetch("TaxRate", ["1"])
        ws.prefetch("Preferences", [engine.SINGLETON_ID])

    def _chunk(self, start: int, size: int, total: int) -> None:
        """Invoices start..start+size and their share of every other document; then, in date order, what
        happens to them later (payments, voids, deletions)."""
        with services.unit_of_work(self.tenant, emit_events=False) as ws:
            self._prefetch(ws)
            for index in range(start, start + size):
                day = self._day_of(index, total)
                payload = self._invoice_payload(day, number=index + 1)
                invoice = self._save(ws, "Invoice", payload, self._during_day(day))
                self._invoice_fate(invoice, day)
                if index % BILL_EVERY == 0:
                    self._bill(ws, day)
                if index % CREDIT_MEMO_EVERY == 7:
                    self._credit_memo(ws, day)
                if index % VENDOR_CREDIT_EVERY == 11:
                    self._save(ws, "VendorCredit", self._purchase_payload(day), self._during_day(day))
                if index % PURCHASE_ORDER_EVERY == 3:
                    self._purchase_order(ws, day)
                if index % JOURNAL_EVERY == 5:
                    self._journal(ws, day)
            while self._later:
                moment, _, action = heapq.heappop(self._later)
                action(ws, moment)

    def _invoice_fate(self, invoice: dict[str, Any], day: date) -> None:
        """Paid in full (55%), in part (10%), voided (2%), deleted (1%) or left open."""
        fate = self.rng.random()
        total = Decimal(invoice["TotalAmt"])
        if fate < 0.02:
            self._schedule(self._after(day, 1, 20), lambda ws, at: self._void(ws, "Invoice", invoice, at))
        elif fate < 0.03:
            self._schedule(self._after(day, 1, 10), lambda ws, at: self._delete(ws, "Invoice", invoice, at))
        elif fate < 0.65 and total > 0:
            applied = total if fate < 0.55 else wire.money(total * Decimal(self.rng.randint(20, 80)) / 100)
            overpaid = Decimal(self.rng.randint(1, 5000)) / 100 if self.rng.random() < 0.03 else Decimal(0)
            voided_later = self.rng.random() < 0.01
            method = self.rng.choice(self.masters.methods)
            deposit = self.rng.choice((UNDEPOSITED_FUNDS, CHECKING))
            pay_day = self._after(day, 3, 60)

            def pay(ws: Workspace, at: datetime) -> None:
                payment = self._save(
                    ws,
                    "Payment",
                    {
                        "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                        "TxnDate": at.date().isoformat(),
                        "TotalAmt": applied + overpaid,
                        "PaymentMethodRef": _ref(method),
                        "PaymentRefNum": f"P{invoice['DocNumber']}",
                        "DepositToAccountRef": _ref(deposit),
                        "Line": [
                            {"Amount": applied, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
                        ],
                    },
                    at,
                )
                if voided_later:
                    self._schedule(
                        self._after(at.date(), 1, 15), lambda w, t: self._void(w, "Payment", payment, t)
                    )

            self._schedule(pay_day, pay)

    def _bill(self, ws: Workspace, day: date) -> None:
        self.bill_number += 1
        payload = self._purchase_payload(day)
        payload["DocNumber"] = f"B-{self.bill_number:06d}"
        payload["DueDate"] = (day + timedelta(days=30)).isoformat()
        bill = self._save(ws, "Bill", payload, self._during_day(day))
        fate = self.rng.random()
        total = Decimal(bill["TotalAmt"])
        if fate < 0.01:
            self._schedule(self._after(day, 1, 10), lambda w, at: self._delete(w, "Bill", bill, at))
        elif fate < 0.66:
            applied = total if fate < 0.51 else wire.money(total * Decimal(self.rng.randint(25, 75)) / 100)
            by_card = self.rng.random() < 0.25

            def pay(w: Workspace, at: datetime) -> None:
                payload: dict[str, Any] = {
                    "VendorRef": {"value": bill["VendorRef"]["value"]},
                    "APAccountRef": _ref(ACCOUNTS_PAYABLE),
                    "TxnDate": at.date().isoformat(),
                    "TotalAmt": applied,
                    "Line": [{"Amount": applied, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
                }
                if by_card:
                    payload["PayType"] = "CreditCard"
                    payload["CreditCardPayment"] = {"CCAccountRef": _ref(MASTERCARD)}
                else:
                    payload["PayType"] = "Check"
                    payload["CheckPayment"] = {"BankAccountRef": _ref(CHECKING)}
                self._save(w, "BillPayment", payload, at)

            self._schedule(self._after(day, 5, 45), pay)

    def _credit_memo(self, ws: Workspace, day: date) -> None:
        payload: dict[str, Any] = {
            "CustomerRef": _ref(self.rng.choice(self.masters.customers)),
            "TxnDate": day.isoformat(),
            "Line": self._sales_lines(count=1),
            "PrivateNote": "Returned goods",
        }
        self._save(ws, "CreditMemo", payload, self._during_day(day))

    def _purchase_order(self, ws: Workspace, day: date) -> None:
        """An order to a vendor; one older than four months has been billed in full (which closes it)."""
        payload = self._purchase_payload(day)
        payload.pop("APAccountRef")
        # Goods are ordered by item; an order of account-based lines only (services) keeps them.
        items = [line for line in payload["Line"] if line["DetailType"] == "ItemBasedExpenseLineDetail"]
        payload["Line"] = items or payload["Line"]
        order = self._save(ws, "PurchaseOrder", payload, self._during_day(day))
        if day < TODAY - timedelta(days=120):
            # Two weeks later, at a fixed hour: the rest of the history draws the same numbers as before.
            billed_on = day + timedelta(days=BILLED_AFTER_DAYS)
            self._sequence += 1
            heapq.heappush(
                self._later,
                (_at(billed_on, 15 * 60), self._sequence, lambda w, at: self._bill_from(w, order, at)),
            )

    def _bill_from(self, ws: Workspace, order: dict[str, Any], moment: datetime) -> None:
        """The vendor's bill for an order, as QBO's "Copy to bill" makes it: every line of the order,
        each linked to the line it copies (QBO then links the two documents both ways and closes the
        order)."""
        lines = []
        for line in order["Line"]:
            detail_type = line["DetailType"]
            copied: dict[str, Any] = {
                "Amount": line["Amount"],
                "DetailType": detail_type,
                detail_type: wire.clone(line[detail_type]),
                "LinkedTxn": [{"TxnId": order["Id"], "TxnType": "PurchaseOrder", "TxnLineId": line["Id"]}],
            }
            if "Description" in line:
                copied["Description"] = line["Description"]
            lines.append(copied)
        day = moment.date()
        payload = {
            "VendorRef": {"value": order["VendorRef"]["value"]},
            "APAccountRef": _ref(ACCOUNTS_PAYABLE),
            "TxnDate": day.isoformat(),
            "DueDate": (day + timedelta(days=30)).isoformat(),
            "DocNumber": f"B-PO{order['DocNumber']}",
            "Line": lines,
        }
        self._save(ws, "Bill", payload, moment)
        self.report.add("Bill from PurchaseOrder")

    def _journal(self, ws: Workspace, day: date) -> None:
        m = self.masters
        amount = Decimal(self.rng.randrange(10000, 500000)) / 100
        debit, credit = self.rng.choice(
            (
                (m.accounts["Rent or Lease"], CHECKING),
                (CHECKING, m.accounts["Opening Balance Equity"]),
                (m.accounts["Savings"], CHECKING),
                (m.accounts["Utilities"], MASTERCARD),
            )
        )
        payload = {
            "TxnDate": day.isoformat(),
            "DocNumber": f"JE-{day.strftime('%Y%m%d')}-{self.rng.randrange(1000):03d}",
            "PrivateNote": "Month-end adjustment",
            "Line": [
                {
                    "Description": "Adjustment",
                    "Amount": amount,
                    "DetailType": "JournalEntryLineDetail",
                    "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": _ref(debit)},
                },
                {
                    "Description": "Adjustment",
                    "Amount": amount,
                    "DetailType": "JournalEntryLineDetail",
                    "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": _ref(credit)},
                },
            ],
        }
        self._save(ws, "JournalEntry", payload, self._during_day(day))


def company_seed(
    *, tenant: Tenant, customers: int, invoices: int, seed: int = 1, progress: Progress | None = None
) -> SeedReport:
    """Seed `tenant` (a QBO company, normally fresh) with `customers` customers and `invoices` invoices and
    everything that goes with them; `progress(stage, done, total)` is called after the lists and after
    every chunk. Returns how many of each entity were written and the seconds it took."""
    if customers < 1 or invoices < 0:
        raise ValueError(
            "A seeded company needs at least one customer and a non-negative number of invoices."
        )
    return _Seeder(tenant, seed=seed, progress=progress).run(customers=customers, invoices=invoices)
