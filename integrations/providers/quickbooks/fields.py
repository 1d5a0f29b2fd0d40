"""The pieces QuickBooks Online's field maps (`maps.py`) are made of: parsers of its formats, its status
rules, and the getters and child maps several entity types share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from integrations.providers.remote import (
    ChildMap,
    Getter,
    RemoteEntity,
    at,
    const,
    converted,
    decimal_at,
    mapped,
    text_at,
)

# How far back Intuit's change feed reaches; an incremental pass starting earlier must be a full one.
CDC_LOOKBACK_DAYS = 30


ZERO = Decimal(0)


# --- conversions -----------------------------------------------------------------------------------------
def qbo_datetime(value: Any) -> datetime | None:
    """`MetaData.LastUpdatedTime` ("2015-10-07T11:42:38-07:00") as an aware datetime."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def qbo_date(value: Any) -> date | None:
    """`TxnDate` / `DueDate` ("YYYY-MM-DD")."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _updated(record: Mapping[str, Any]) -> datetime | None:
    meta = record.get("MetaData")
    return qbo_datetime(meta.get("LastUpdatedTime")) if isinstance(meta, dict) else None


def _ref(path: str) -> Getter:
    """The id of a reference (`CustomerRef` → its `value`)."""
    return text_at(f"{path}.value")


def _ref_name(path: str) -> Getter:
    return text_at(f"{path}.name")


def _is_tombstone(record: Mapping[str, Any]) -> bool:
    return record.get("status") == "Deleted"


def _voided(record: Mapping[str, Any]) -> bool:
    """QBO keeps a voided invoice or payment with every amount zero and the note "Voided"."""
    return record.get("PrivateNote") == "Voided" and not record.get("TotalAmt")


# --- statuses --------------------------------------------------------------------------------------------
def _list_status(record: Mapping[str, Any]) -> str:
    return "archived" if record.get("Active") is False else "active"


def _list_remote_status(record: Mapping[str, Any]) -> str:
    return "Inactive" if record.get("Active") is False else "Active"


def _open_status(record: Mapping[str, Any]) -> str:
    """Invoices and bills: paid when nothing is left to pay, partly paid, else open."""
    if _voided(record):
        return "voided"
    total = record.get("TotalAmt") or ZERO
    balance = record.get("Balance")
    if balance is None:
        return "authorised"
    if balance == 0 and total > 0:
        return "paid"
    if 0 < balance < total:
        return "partially_paid"
    return "authorised"


def _credit_status(record: Mapping[str, Any]) -> str:
    if _voided(record):
        return "voided"
    remaining = _remaining_credit(record)
    total = record.get("TotalAmt") or ZERO
    if remaining is not None and remaining == 0 and total > 0:
        return "paid"
    return "authorised"


def _document_remote_status(record: Mapping[str, Any]) -> str:
    """Most QBO documents carry no status word (some a `TxnStatus`); a voided one says so in its note."""
    return "Voided" if _voided(record) else str(record.get("TxnStatus") or "")


CLASSIFICATION = {
    "Asset": "asset",
    "Liability": "liability",
    "Equity": "equity",
    "Revenue": "revenue",
    "Expense": "expense",
}
ITEM_TYPE = {
    "Inventory": "inventory",
    "NonInventory": "non_inventory",
    "Service": "service",
}
PO_STATUS = {"Open": "authorised", "Closed": "billed"}


# --- amounts ---------------------------------------------------------------------------------------------
def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _total_tax(record: Mapping[str, Any]) -> Decimal | None:
    detail = record.get("TxnTaxDetail")
    return _decimal(detail.get("TotalTax")) if isinstance(detail, dict) else None


def _subtotal(record: Mapping[str, Any]) -> Decimal | None:
    """Total less tax, when QBO states the tax (tax-inclusive or not, that is the net amount)."""
    total, tax = _decimal(record.get("TotalAmt")), _total_tax(record)
    return None if total is None or tax is None else total - tax


def _amount_paid(record: Mapping[str, Any]) -> Decimal | None:
    """What payments and credits have applied: total less the open balance."""
    total, balance = _decimal(record.get("TotalAmt")), _decimal(record.get("Balance"))
    return None if total is None or balance is None else total - balance


def _remaining_credit(record: Mapping[str, Any]) -> Decimal | None:
    # CreditMemo says RemainingCredit; a VendorCredit's open amount is its Balance.
    remaining = record.get("RemainingCredit")
    return _decimal(remaining if remaining is not None else record.get("Balance"))


# --- lines -----------------------------------------------------------------------------------------------
def _detail(line: Mapping[str, Any]) -> dict[str, Any]:
    """The line's `<DetailType>` object (SalesItemLineDetail, AccountBasedExpenseLineDetail...)."""
    detail = line.get(str(line.get("DetailType") or ""))
    return detail if isinstance(detail, dict) else {}


def _detail_ref(name: str) -> Getter:
    def get(line: Mapping[str, Any]) -> str:
        ref = _detail(line).get(name)
        return str(ref.get("value") or "") if isinstance(ref, dict) else ""

    return get


def _detail_decimal(name: str) -> Getter:
    return lambda line: _decimal(_detail(line).get(name))


def _line_tracking(line: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Class and department of a line, in the shape of Xero's tracking (category = the dimension)."""
    detail = _detail(line)
    tracking = []
    for key, category in (("ClassRef", "Class"), ("DepartmentRef", "Department")):
        ref = detail.get(key)
        if isinstance(ref, dict) and ref.get("value"):
            tracking.append(
                {
                    "category_id": "",
                    "category": category,
                    "option_id": str(ref["value"]),
                    "option": str(ref.get("name") or ""),
                }
            )
    return tracking


def _not_subtotal(line: Mapping[str, Any]) -> bool:
    return line.get("DetailType") != "SubTotalLineDetail"


LINES = ChildMap(
    source=at("Line", []),
    fields={
        "remote_id": text_at("Id"),
        "description": text_at("Description"),
        "quantity": _detail_decimal("Qty"),
        "unit_amount": _detail_decimal("UnitPrice"),
        "amount": decimal_at("Amount"),
        "tax_amount": const(None),
        "account_code": const(""),
        "account_remote_id": _detail_ref("AccountRef"),
        "item_code": const(""),
        "item_remote_id": _detail_ref("ItemRef"),
        "tax_code": _detail_ref("TaxCodeRef"),
        "tracking": _line_tracking,
    },
    keep=_not_subtotal,
)


def _journal_amount(line: Mapping[str, Any]) -> Decimal:
    amount = _decimal(line.get("Amount")) or ZERO
    return -amount if _detail(line).get("PostingType") == "Credit" else amount


def _journal_total(record: Mapping[str, Any]) -> Decimal:
    """The sum of the debits."""
    return sum(
        (
            _decimal(line.get("Amount")) or ZERO
            for line in record.get("Line") or []
            if _detail(line).get("PostingType") == "Debit"
        ),
        ZERO,
    )


JOURNAL_LINES = ChildMap(
    source=at("Line", []),
    fields={
        "remote_id": text_at("Id"),
        "description": text_at("Description"),
        "account_code": const(""),
        "account_remote_id": _detail_ref("AccountRef"),
        "amount": _journal_amount,
        "tax_code": _detail_ref("TaxCodeRef"),
        "tax_amount": _detail_decimal("TaxAmount"),
        "tracking": _line_tracking,
    },
    keep=_not_subtotal,
)

ALLOCATION_TARGET = {
    "Invoice": "invoice",
    "Bill": "invoice",
    "CreditMemo": "credit_note",
    "VendorCredit": "credit_note",
}


def _payment_links(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One allocation per linked transaction of each line, with the line's amount."""
    return [
        {"TxnId": link.get("TxnId"), "TxnType": link.get("TxnType"), "Amount": line.get("Amount")}
        for line in record.get("Line") or []
        for link in line.get("LinkedTxn") or []
        if isinstance(link, dict)
    ]


ALLOCATIONS = ChildMap(
    source=_payment_links,
    fields={
        "target_type": mapped("TxnType", ALLOCATION_TARGET, "other"),
        "target_remote_type": text_at("TxnType"),
        "target_remote_id": text_at("TxnId"),
        "amount": decimal_at("Amount", ZERO),
    },
)


def _linked_id(txn_type: str) -> Getter:
    """The id of the first transaction of this type the record is linked to: a Bill made from a purchase
    order lists it in its own `LinkedTxn` (`{"TxnId", "TxnType": "PurchaseOrder"}`), and each copied line
    in the line's `LinkedTxn` (with the order's `TxnLineId`); the header is QBO's summary of the lines."""

    def get(record: Mapping[str, Any]) -> str:
        lines = record.get("Line") or []
        for links in (
            record.get("LinkedTxn"),
            *(line.get("LinkedTxn") for line in lines if isinstance(line, dict)),
        ):
            for link in links or []:
                if isinstance(link, dict) and link.get("TxnType") == txn_type and link.get("TxnId"):
                    return str(link["TxnId"])
        return ""

    return get


def _bill_payment_account(record: Mapping[str, Any]) -> str:
    for key, ref in (("CheckPayment", "BankAccountRef"), ("CreditCardPayment", "CCAccountRef")):
        detail = record.get(key)
        if isinstance(detail, dict) and isinstance(detail.get(ref), dict):
            return str(detail[ref].get("value") or "")
    return ""


def _agency(record: Mapping[str, Any]) -> str:
    ref = record.get("AgencyRef")
    if not isinstance(ref, dict):
        return ""
    return str(ref.get("name") or ref.get("value") or "")


def _rate_ids(list_key: str) -> Getter:
    def get(record: Mapping[str, Any]) -> list[str]:
        rates = record.get(list_key)
        details = rates.get("TaxRateDetail") if isinstance(rates, dict) else None
        return [
            str(detail["TaxRateRef"].get("value"))
            for detail in details or []
            if isinstance(detail, dict) and isinstance(detail.get("TaxRateRef"), dict)
        ]

    return get


# --- declarations ----------------------------------------------------------------------------------------
def _entity(family: str, remote_type: str, *, name_list: bool = False, **kwargs: Any) -> RemoteEntity:
    kwargs.setdefault("status", _list_remote_status if name_list else _document_remote_status)
    return RemoteEntity(
        family=family,
        remote_type=remote_type,
        collection=remote_type,
        id=text_at("Id"),
        updated_at=_updated,
        deleted=_is_tombstone,
        options={"name_list": name_list},
        **kwargs,
    )


def _tracking(remote_type: str, kind: str) -> RemoteEntity:
    return _entity(
        "tracking_categories",
        remote_type,
        name_list=True,
        fields={
            "kind": const(kind),
            "name": text_at("Name"),
            "full_name": text_at("FullyQualifiedName"),
            "parent_remote_id": _ref("ParentRef"),
            "status": _list_status,
        },
    )


def _contact(remote_type: str, *, customer: bool) -> RemoteEntity:
    return _entity(
        "contacts",
        remote_type,
        name_list=True,
        fields={
            "name": text_at("DisplayName"),
            "company_name": text_at("CompanyName"),
            "first_name": text_at("GivenName"),
            "last_name": text_at("FamilyName"),
            "email": text_at("PrimaryEmailAddr.Address"),
            "phone": text_at("PrimaryPhone.FreeFormNumber"),
            "account_number": text_at("AcctNum"),
            "tax_number": text_at("TaxIdentifier"),
            "is_customer": const(customer),
            "is_supplier": const(not customer),
            "status": _list_status,
            "currency": _ref("CurrencyRef"),
            "balance": decimal_at("Balance"),
            "address_line1": text_at("BillAddr.Line1"),
            "city": text_at("BillAddr.City"),
            "region": text_at("BillAddr.CountrySubDivisionCode"),
            "postal_code": text_at("BillAddr.PostalCode"),
            "country": text_at("BillAddr.Country"),
            "merged_to_remote_id": const(""),
        },
    )


def _document_fields(party: str) -> dict[str, Getter]:
    return {
        "contact_remote_id": _ref(party),
        "contact_name": _ref_name(party),
        "number": text_at("DocNumber"),
        "issue_date": converted("TxnDate", qbo_date),
        "currency": _ref("CurrencyRef"),
        "exchange_rate": decimal_at("ExchangeRate"),
    }


NOT_LINKED = const("")


def _invoice(remote_type: str, kind: str, party: str, *, purchase_order: Getter = NOT_LINKED) -> RemoteEntity:
    return _entity(
        "invoices",
        remote_type,
        contact_remote_type=party.removesuffix("Ref"),
        fields={
            **_document_fields(party),
            "kind": const(kind),
            "reference": const(""),
            "purchase_order_remote_id": purchase_order,
            "due_date": converted("DueDate", qbo_date),
            "status": _open_status,
            "tax_mode": text_at("GlobalTaxCalculation"),
            "subtotal": _subtotal,
            "total_tax": _total_tax,
            "total": decimal_at("TotalAmt", ZERO),
            "amount_due": decimal_at("Balance"),
            "amount_paid": _amount_paid,
            "amount_credited": const(None),
            "fully_paid_on": const(None),
        },
        children={"lines": LINES},
    )


def _credit_note(remote_type: str, kind: str, party: str) -> RemoteEntity:
    return _entity(
        "credit_notes",
        remote_type,
        contact_remote_type=party.removesuffix("Ref"),
        fields={
            **_document_fields(party),
            "kind": const(kind),
            "reference": const(""),
            "status": _credit_status,
            "tax_mode": text_at("GlobalTaxCalculation"),
            "subtotal": _subtotal,
            "total_tax": _total_tax,
            "total": decimal_at("TotalAmt", ZERO),
            "remaining_credit": _remaining_credit,
        },
        children={"lines": LINES},
    )


def _payment(remote_type: str, kind: str, party: str, **fields: Getter) -> RemoteEntity:
    return _entity(
        "payments",
        remote_type,
        contact_remote_type=party.removesuffix("Ref"),
        fields={
            **_document_fields(party),
            "kind": const(kind),
            "reference": text_at("PaymentRefNum"),
            "status": lambda record: "voided" if _voided(record) else "authorised",
            "amount": decimal_at("TotalAmt", ZERO),
            "unapplied_amount": decimal_at("UnappliedAmt"),
            "account_code": const(""),
            "is_reconciled": const(None),
            **fields,
        },
        children={"allocations": ALLOCATIONS},
    )
