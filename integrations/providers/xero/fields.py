"""The pieces Xero's field maps (`maps.py`) are made of: parsers of its own formats (its `/Date(...)/`
times), its status words, and the getters and child maps several entity types share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from integrations.providers.remote import (
    ChildMap,
    RemoteEntity,
    as_date,
    at,
    converted,
    decimal_at,
    text_at,
)

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def ms_datetime(value: Any) -> datetime | None:
    """Xero's `/Date(1539993600000+0000)/` as an aware UTC datetime (the offset is informative only:
    the milliseconds are since the epoch in UTC)."""
    match = _MS_DATE.match(str(value))
    if match is None:
        return None
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)


def ms_date(value: Any) -> Any:
    return as_date(ms_datetime(value))


def _id_text(key: str) -> Any:
    return lambda record: str(record.get(key) or "")


# --- shared pieces ---------------------------------------------------------------------------------------
RECORD_STATUS = {
    "ACTIVE": "active",
    "ARCHIVED": "archived",
    "DELETED": "deleted",
    "GDPRREQUEST": "archived",
    "PENDING": "pending",
}
DOCUMENT_STATUS = {
    "DRAFT": "draft",
    "SUBMITTED": "submitted",
    "AUTHORISED": "authorised",
    "PAID": "paid",
    "VOIDED": "voided",
    "DELETED": "deleted",
    "BILLED": "billed",
    "POSTED": "posted",
    "ARCHIVED": "voided",
}
CLASSIFICATION = {
    "ASSET": "asset",
    "EQUITY": "equity",
    "EXPENSE": "expense",
    "LIABILITY": "liability",
    "REVENUE": "revenue",
}
PAYMENT_KIND = {
    "ACCRECPAYMENT": "received",
    "APCREDITPAYMENT": "received",
    "AROVERPAYMENTPAYMENT": "made",
    "ARPREPAYMENTPAYMENT": "made",
    "ACCPAYPAYMENT": "made",
    "ARCREDITPAYMENT": "made",
    "APOVERPAYMENTPAYMENT": "received",
    "APPREPAYMENTPAYMENT": "received",
}


def _status_of(key: str = "Status") -> Any:
    return lambda record: record.get(key) or ""


def _deleted_when(*statuses: str, key: str = "Status") -> Any:
    wanted = frozenset(statuses)
    return lambda record: record.get(key) in wanted


def _document_status(record: Mapping[str, Any]) -> str:
    status = DOCUMENT_STATUS.get(record.get("Status") or "", "draft")
    paid = record.get("AmountPaid") or 0
    if status == "authorised" and paid and paid > 0:
        return "partially_paid"
    return status


def _tracking(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "category_id": str(option.get("TrackingCategoryID") or ""),
            "category": option.get("Name") or "",
            "option_id": str(option.get("TrackingOptionID") or ""),
            "option": option.get("Option") or "",
        }
        for option in row.get("Tracking") or []
    ]


LINE_FIELDS = {
    "remote_id": _id_text("LineItemID"),
    "description": text_at("Description"),
    "quantity": decimal_at("Quantity"),
    "unit_amount": decimal_at("UnitAmount"),
    "amount": decimal_at("LineAmount"),
    "tax_amount": decimal_at("TaxAmount"),
    "account_code": text_at("AccountCode"),
    "account_remote_id": _id_text("AccountID"),
    "item_code": text_at("ItemCode"),
    "item_remote_id": text_at("Item.ItemID"),
    "tax_code": text_at("TaxType"),
    "tracking": _tracking,
}
LINES = ChildMap(source=at("LineItems", []), fields=LINE_FIELDS)


def _document_header(number_key: str) -> dict[str, Any]:
    """The columns invoices, credit notes and purchase orders read alike."""
    return {
        "contact_remote_id": text_at("Contact.ContactID"),
        "contact_name": text_at("Contact.Name"),
        "number": text_at(number_key),
        "reference": text_at("Reference"),
        "issue_date": converted("Date", ms_date),
        "currency": text_at("CurrencyCode"),
        "exchange_rate": decimal_at("CurrencyRate"),
        "tax_mode": text_at("LineAmountTypes"),
        "subtotal": decimal_at("SubTotal"),
        "total_tax": decimal_at("TotalTax"),
        "total": decimal_at("Total", Decimal(0)),
    }


def _updated(record: Mapping[str, Any]) -> datetime | None:
    return ms_datetime(record.get("UpdatedDateUTC") or "")


def _entity(family: str, remote_type: str, collection: str, id_key: str, **kwargs: Any) -> RemoteEntity:
    kwargs.setdefault("status", _status_of())
    kwargs.setdefault("deleted", _deleted_when("DELETED"))
    return RemoteEntity(
        family=family,
        remote_type=remote_type,
        collection=collection,
        id=_id_text(id_key),
        updated_at=_updated,
        **kwargs,
    )


def _first(items_key: str, kind_key: str, preferred: tuple[str, ...], field: str) -> Any:
    """A field of the first item of a list, preferring the kinds named (phones, addresses)."""

    def get(record: Mapping[str, Any]) -> str:
        items = record.get(items_key) or []
        for kind in preferred:
            for item in items:
                if item.get(kind_key) == kind and item.get(field):
                    return str(item[field])
        return ""

    return get


def _phone(record: Mapping[str, Any]) -> str:
    for phone in record.get("Phones") or []:
        if phone.get("PhoneType") == "DEFAULT" and phone.get("PhoneNumber"):
            parts = (phone.get("PhoneCountryCode"), phone.get("PhoneAreaCode"), phone.get("PhoneNumber"))
            return " ".join(str(part) for part in parts if part)
    return ""


def _journal_total(record: Mapping[str, Any]) -> Decimal:
    return sum(
        (
            line["LineAmount"]
            for line in record.get("JournalLines") or []
            if (line.get("LineAmount") or 0) > 0
        ),
        Decimal(0),
    )


def _payment_target(record: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    for key, target in (
        ("Invoice", "invoice"),
        ("CreditNote", "credit_note"),
        ("Prepayment", "other"),
        ("Overpayment", "other"),
    ):
        document = record.get(key)
        if isinstance(document, dict) and document:
            return key, target, document
    return "", "other", {}


def _payment_contact(field: str) -> Any:
    def get(record: Mapping[str, Any]) -> str:
        contact = _payment_target(record)[2].get("Contact") or {}
        return str(contact.get(field) or "")

    return get


def _payment_allocations(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    key, target, document = _payment_target(record)
    if not key:
        return []
    return [{"_key": key, "_target": target, "_document": document, "Amount": record.get("Amount")}]
