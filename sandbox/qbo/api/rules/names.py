"""Name lists (Customer, Vendor, Employee, Account, Item, Class, Department, Term, PaymentMethod).

They are never deleted: `Active:false` makes one inactive and QBO appends " (deleted)" to its name (and
full name), which frees the name for a new entity. Customers, accounts, items, classes and departments
nest under a ParentRef; their FullyQualifiedName is the parent's full name, ":" and their own."""

from __future__ import annotations

import re

from sandbox.qbo.api import faults, wire
from sandbox.qbo.api.entity import Draft
from sandbox.qbo.api.rules.company import currency_ref
from sandbox.qbo.api.workspace import fold

DELETED = re.compile(r" \(deleted(?:-\d+)?\)$")
NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")


def base_name(name: str) -> str:
    return DELETED.sub("", name)


def display_name(draft: Draft) -> None:
    """Customers, vendors and employees: DisplayName defaults to the person's name, else the company's."""
    body = draft.body
    if not isinstance(body.get("DisplayName"), str) or not body["DisplayName"].strip():
        parts = [str(body[key]).strip() for key in NAME_PARTS if isinstance(body.get(key), str)]
        derived = " ".join(part for part in parts if part) or str(body.get("CompanyName") or "").strip()
        if not derived:
            raise faults.required_missing("DisplayName")
        body["DisplayName"] = derived
    if not body.get("PrintOnCheckName"):
        body["PrintOnCheckName"] = base_name(str(body.get("CompanyName") or body["DisplayName"]))


def naming(draft: Draft) -> None:
    """The name, its " (deleted)" suffix, the parent and the full name; every name list runs this."""
    etype, body = draft.etype, draft.body
    field = etype.name_field
    assert field is not None  # noqa: S101 - declarations pair this hook with a name field
    name = body.get(field)
    if not isinstance(name, str) or not name.strip():
        raise faults.required_missing(field)
    active = body.get("Active") is not False
    body["Active"] = active
    prefix = ""
    if etype.parent_flag:
        parent_ref = body.get("ParentRef")
        if isinstance(parent_ref, dict) and parent_ref.get("value"):
            parent = draft.lookup(etype.name, parent_ref, element="ParentRef")
            if str(parent.get("Id")) == str(body.get("Id")):
                raise faults.business_rule(f"{etype.name} cannot be its own parent.")
            body["ParentRef"] = {"value": str(parent_ref["value"])}
            body[etype.parent_flag] = True
            parent_name = str(parent.get("FullyQualifiedName") or parent.get(field) or "")
            prefix = base_name(parent_name) + ":"
            if "Level" in etype.properties:
                body["Level"] = int(parent.get("Level") or 0) + 1
        else:
            body.pop("ParentRef", None)
            body.pop("Level", None)
            body[etype.parent_flag] = False
    base = base_name(name.strip())
    body[field] = base if active else _deleted_name(draft, prefix, base)
    if etype.has_fqn:
        body["FullyQualifiedName"] = prefix + body[field]


def _deleted_name(draft: Draft, prefix: str, base: str) -> str:
    """`Name (deleted)`, or `Name (deleted-1)`... when an earlier inactive entity already holds it."""
    etype = draft.etype
    own = (etype.name, str(draft.body.get("Id")))
    scope = etype.name_scope or (etype.name,)
    for attempt in range(1000):
        candidate = f"{base} (deleted)" if attempt == 0 else f"{base} (deleted-{attempt})"
        holders = [
            key for key in draft.ws.holders_of_name(scope, fold(prefix + candidate) or "") if key != own
        ]
        if not holders:
            return candidate
    raise faults.duplicate_name()


def customer(draft: Draft) -> None:
    body = draft.body
    body.setdefault("CurrencyRef", currency_ref(draft.ws.tenant))
    if draft.creating:
        body["Balance"] = wire.ZERO
        body["BalanceWithJobs"] = wire.ZERO


def vendor(draft: Draft) -> None:
    body = draft.body
    body.setdefault("CurrencyRef", currency_ref(draft.ws.tenant))
    if draft.creating:
        body["Balance"] = wire.ZERO


# Intuit's account types, their classification and the sub-type a new account gets by default.
ACCOUNT_TYPES: dict[str, tuple[str, str]] = {
    "Bank": ("Asset", "Checking"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"),
    "Fixed Asset": ("Asset", "MachineryAndEquipment"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Equity": ("Equity", "OwnersEquity"),
    "Expense": ("Expense", "OtherBusinessExpenses"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Income": ("Revenue", "ServiceFeeIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
}
_SUBTYPE_TO_TYPE = {sub: account_type for account_type, (_, sub) in ACCOUNT_TYPES.items()}


def account(draft: Draft) -> None:
    body = draft.body
    account_type = body.get("AccountType")
    if not account_type:
        account_type = _SUBTYPE_TO_TYPE.get(str(body.get("AccountSubType") or ""))
        if account_type is None:
            raise faults.required_missing("AccountType")
        body["AccountType"] = account_type
    if account_type not in ACCOUNT_TYPES:
        raise faults.invalid_enumeration("AccountType", str(account_type))
    classification, sub_type = ACCOUNT_TYPES[account_type]
    body["Classification"] = classification
    body.setdefault("AccountSubType", sub_type)
    body.setdefault("CurrencyRef", currency_ref(draft.ws.tenant))
    if draft.creating:
        body["CurrentBalance"] = wire.ZERO
        body["CurrentBalanceWithSubAccounts"] = wire.ZERO


ITEM_TYPES = ("Inventory", "NonInventory", "Service", "Category", "Group")


def item(draft: Draft) -> None:
    body = draft.body
    kind = body.setdefault("Type", "Service")
    if kind not in ITEM_TYPES:
        raise faults.invalid_enumeration("Type", str(kind))
    for key in ("UnitPrice", "PurchaseCost", "QtyOnHand"):
        number = draft.amount(body, key)
        if number is not None:
            body[key] = wire.plain(number)
    if kind == "Category":
        return
    body.setdefault("UnitPrice", wire.ZERO)
    body.setdefault("Taxable", False)
    if kind in {"Service", "NonInventory", "Inventory"} and not body.get("IncomeAccountRef"):
        raise faults.required_missing("IncomeAccountRef")
    if kind == "Inventory":
        for key in ("AssetAccountRef", "ExpenseAccountRef", "QtyOnHand", "InvStartDate"):
            if body.get(key) in (None, ""):
                raise faults.required_missing(key)
        body["TrackQtyOnHand"] = True
    else:
        body["TrackQtyOnHand"] = False
        body.pop("QtyOnHand", None)


def term(draft: Draft) -> None:
    body = draft.body
    body.setdefault("Type", "STANDARD")
    if body.get("DayOfMonthDue") is None:
        days = draft.amount(body, "DueDays")
        body["DueDays"] = int(days) if days is not None else 0


def payment_method(draft: Draft) -> None:
    kind = draft.body.setdefault("Type", "NON_CREDIT_CARD")
    if kind not in {"CREDIT_CARD", "NON_CREDIT_CARD"}:
        raise faults.invalid_enumeration("Type", str(kind))
