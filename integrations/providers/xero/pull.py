"""How Xero serves each entity family: field maps into the mirror, and the paging of its collections.

Paged collections (Contacts, Invoices, CreditNotes, Payments, ManualJournals, PurchaseOrders) are read
1,000 at a time ordered by `UpdatedDateUTC`, with `If-Modified-Since` for an incremental pass; Xero
reports deletions and voids as statuses on those, which bump the update time. The small lists (accounts,
tax rates, tracking categories, contact groups, items) are read whole on every run, so a record deleted
outright (an unused account, an item) is noticed at once. Responses are read raw
(`_preload_content=False`) and decoded with exact decimals: the SDK's own models would turn amounts into
floats and cost five times the CPU of the rest of the pull."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.jsontext import decode, decode_with_items
from integrations.errors import ProviderError
from integrations.providers.base import AppCredentials, TokenSet
from integrations.providers.remote import (
    ChildMap,
    FamilySource,
    LimitUsage,
    PulledPage,
    RemoteEntity,
    as_date,
    at,
    bool_at,
    const,
    converted,
    decimal_at,
    mapped,
    text_at,
)
from integrations.providers.xero import client

PAGE_SIZE = 1000
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


ALLOCATION_IDS = {
    "Invoice": "InvoiceID",
    "CreditNote": "CreditNoteID",
    "Prepayment": "PrepaymentID",
    "Overpayment": "OverpaymentID",
}

SOURCES: dict[str, FamilySource] = {
    "accounts": FamilySource(
        "accounts",
        (
            _entity(
                "accounts",
                "Account",
                "Accounts",
                "AccountID",
                fields={
                    "code": text_at("Code"),
                    "name": text_at("Name"),
                    "account_type": text_at("Type"),
                    "classification": mapped("Class", CLASSIFICATION),
                    "status": mapped("Status", RECORD_STATUS, "active"),
                    "currency": text_at("CurrencyCode"),
                    "tax_code": text_at("TaxType"),
                    "description": text_at("Description"),
                    "bank_account_number": text_at("BankAccountNumber"),
                },
            ),
        ),
        incremental=False,
    ),
    "tax_rates": FamilySource(
        "tax_rates",
        (
            _entity(
                "tax_rates",
                "TaxRate",
                "TaxRates",
                "TaxType",
                fields={
                    "code": text_at("TaxType"),
                    "name": text_at("Name"),
                    "rate": decimal_at("EffectiveRate"),
                    "status": mapped("Status", RECORD_STATUS, "active"),
                    "report_tax_type": text_at("ReportTaxType"),
                    "components": at("TaxComponents", []),
                },
            ),
        ),
        incremental=False,
    ),
    "tracking_categories": FamilySource(
        "tracking_categories",
        (
            _entity(
                "tracking_categories",
                "TrackingCategory",
                "TrackingCategories",
                "TrackingCategoryID",
                fields={
                    "kind": const("category"),
                    "name": text_at("Name"),
                    "full_name": text_at("Name"),
                    "status": mapped("Status", RECORD_STATUS, "active"),
                },
                children={
                    "options": ChildMap(
                        source=at("Options", []),
                        fields={
                            "remote_id": _id_text("TrackingOptionID"),
                            "name": text_at("Name"),
                            "status": mapped("Status", RECORD_STATUS, "active"),
                        },
                    )
                },
                options={"include_archived": True},
            ),
        ),
        incremental=False,
    ),
    "contact_groups": FamilySource(
        "contact_groups",
        (
            _entity(
                "contact_groups",
                "ContactGroup",
                "ContactGroups",
                "ContactGroupID",
                fields={
                    "name": text_at("Name"),
                    "status": mapped("Status", RECORD_STATUS, "active"),
                    "contact_remote_ids": lambda record: [
                        str(contact.get("ContactID")) for contact in record.get("Contacts") or []
                    ],
                },
            ),
        ),
        incremental=False,
    ),
    "contacts": FamilySource(
        "contacts",
        (
            _entity(
                "contacts",
                "Contact",
                "Contacts",
                "ContactID",
                status=_status_of("ContactStatus"),
                deleted=_deleted_when("DELETED", key="ContactStatus"),
                fields={
                    "name": text_at("Name"),
                    "company_name": text_at("Name"),
                    "first_name": text_at("FirstName"),
                    "last_name": text_at("LastName"),
                    "email": text_at("EmailAddress"),
                    "phone": _phone,
                    "account_number": lambda r: str(r.get("AccountNumber") or r.get("ContactNumber") or ""),
                    "tax_number": text_at("TaxNumber"),
                    "is_customer": bool_at("IsCustomer"),
                    "is_supplier": bool_at("IsSupplier"),
                    "status": mapped("ContactStatus", RECORD_STATUS, "active"),
                    "currency": text_at("DefaultCurrency"),
                    "address_line1": _first("Addresses", "AddressType", ("POBOX", "STREET"), "AddressLine1"),
                    "city": _first("Addresses", "AddressType", ("POBOX", "STREET"), "City"),
                    "region": _first("Addresses", "AddressType", ("POBOX", "STREET"), "Region"),
                    "postal_code": _first("Addresses", "AddressType", ("POBOX", "STREET"), "PostalCode"),
                    "country": _first("Addresses", "AddressType", ("POBOX", "STREET"), "Country"),
                    "merged_to_remote_id": text_at("MergedToContactID"),
                },
                options={"paged": True, "include_archived": True, "by_ids": "IDs"},
            ),
        ),
    ),
    "items": FamilySource(
        "items",
        (
            _entity(
                "items",
                "Item",
                "Items",
                "ItemID",
                status=const("ACTIVE"),
                deleted=const(False),
                fields={
                    "code": text_at("Code"),
                    "name": text_at("Name"),
                    "description": text_at("Description"),
                    "purchase_description": text_at("PurchaseDescription"),
                    "item_type": lambda r: "inventory" if r.get("IsTrackedAsInventory") else "non_inventory",
                    "status": const("active"),
                    "is_sold": bool_at("IsSold"),
                    "is_purchased": bool_at("IsPurchased"),
                    "is_tracked": bool_at("IsTrackedAsInventory"),
                    "sales_unit_price": decimal_at("SalesDetails.UnitPrice"),
                    "purchase_unit_price": decimal_at("PurchaseDetails.UnitPrice"),
                    "sales_account": text_at("SalesDetails.AccountCode"),
                    "purchase_account": lambda r: str(
                        (r.get("PurchaseDetails") or {}).get("AccountCode")
                        or (r.get("PurchaseDetails") or {}).get("COGSAccountCode")
                        or ""
                    ),
                    "sales_tax_code": text_at("SalesDetails.TaxType"),
                    "purchase_tax_code": text_at("PurchaseDetails.TaxType"),
                    "quantity_on_hand": decimal_at("QuantityOnHand"),
                },
                options={"unitdp": 4},
            ),
        ),
        incremental=False,
    ),
    "invoices": FamilySource(
        "invoices",
        (
            _entity(
                "invoices",
                "Invoice",
                "Invoices",
                "InvoiceID",
                contact_remote_type="Contact",
                fields={
                    **_document_header("InvoiceNumber"),
                    "kind": mapped("Type", {"ACCREC": "sales", "ACCPAY": "purchase"}),
                    "due_date": converted("DueDate", ms_date),
                    "status": _document_status,
                    "amount_due": decimal_at("AmountDue"),
                    "amount_paid": decimal_at("AmountPaid"),
                    "amount_credited": decimal_at("AmountCredited"),
                    "fully_paid_on": converted("FullyPaidOnDate", ms_date),
                    # Xero keeps no id of the purchase order a bill was copied from: the order's number is
                    # in the bill's Reference, which the mirror's link rule reads.
                    "purchase_order_remote_id": const(""),
                },
                children={"lines": LINES},
                options={"paged": True, "by_ids": "IDs", "unitdp": 4},
            ),
        ),
    ),
    "credit_notes": FamilySource(
        "credit_notes",
        (
            _entity(
                "credit_notes",
                "CreditNote",
                "CreditNotes",
                "CreditNoteID",
                contact_remote_type="Contact",
                fields={
                    **_document_header("CreditNoteNumber"),
                    "kind": mapped("Type", {"ACCRECCREDIT": "sales", "ACCPAYCREDIT": "purchase"}),
                    "status": mapped("Status", DOCUMENT_STATUS, "draft"),
                    "remaining_credit": decimal_at("RemainingCredit"),
                },
                children={
                    "lines": LINES,
                    "allocations": ChildMap(
                        source=at("Allocations", []),
                        fields={
                            "remote_id": _id_text("AllocationID"),
                            "invoice_remote_id": text_at("Invoice.InvoiceID"),
                            "amount": decimal_at("Amount", Decimal(0)),
                            "date": converted("Date", ms_date),
                        },
                    ),
                },
                options={"paged": True, "by_ids": "where", "unitdp": 4},
            ),
        ),
    ),
    "payments": FamilySource(
        "payments",
        (
            _entity(
                "payments",
                "Payment",
                "Payments",
                "PaymentID",
                contact_remote_type="Contact",
                fields={
                    "kind": mapped("PaymentType", PAYMENT_KIND, "received"),
                    "contact_remote_id": _payment_contact("ContactID"),
                    "contact_name": _payment_contact("Name"),
                    "number": text_at("PaymentID"),
                    "reference": text_at("Reference"),
                    "issue_date": converted("Date", ms_date),
                    "status": mapped("Status", DOCUMENT_STATUS, "authorised"),
                    "currency": lambda r: str(_payment_target(r)[2].get("CurrencyCode") or ""),
                    "exchange_rate": decimal_at("CurrencyRate"),
                    "amount": decimal_at("Amount", Decimal(0)),
                    "account_code": text_at("Account.Code"),
                    "account_remote_id": text_at("Account.AccountID"),
                    "is_reconciled": bool_at("IsReconciled", None),
                    "payment_type": text_at("PaymentType"),
                },
                children={
                    "allocations": ChildMap(
                        source=_payment_allocations,
                        fields={
                            "target_type": lambda a: a["_target"],
                            "target_remote_type": lambda a: a["_key"],
                            "target_remote_id": lambda a: str(
                                a["_document"].get(ALLOCATION_IDS[a["_key"]]) or ""
                            ),
                            "amount": decimal_at("Amount", Decimal(0)),
                        },
                    )
                },
                options={"paged": True, "by_ids": "where"},
            ),
        ),
    ),
    "purchase_orders": FamilySource(
        "purchase_orders",
        (
            _entity(
                "purchase_orders",
                "PurchaseOrder",
                "PurchaseOrders",
                "PurchaseOrderID",
                contact_remote_type="Contact",
                fields={
                    **_document_header("PurchaseOrderNumber"),
                    "delivery_date": converted("DeliveryDate", ms_date),
                    "status": mapped("Status", DOCUMENT_STATUS, "draft"),
                },
                children={"lines": LINES},
                options={"paged": True, "by_ids": "single"},
            ),
        ),
    ),
    "journals": FamilySource(
        "journals",
        (
            _entity(
                "journals",
                "ManualJournal",
                "ManualJournals",
                "ManualJournalID",
                deleted=_deleted_when("DELETED"),
                fields={
                    "number": const(""),
                    "issue_date": converted("Date", ms_date),
                    "narration": text_at("Narration"),
                    "status": mapped("Status", DOCUMENT_STATUS, "draft"),
                    "currency": const(""),
                    "tax_mode": text_at("LineAmountTypes"),
                    "total": _journal_total,
                },
                children={
                    "lines": ChildMap(
                        source=at("JournalLines", []),
                        fields={
                            "description": text_at("Description"),
                            "account_code": text_at("AccountCode"),
                            "account_remote_id": _id_text("AccountID"),
                            "amount": decimal_at("LineAmount", Decimal(0)),
                            "tax_code": text_at("TaxType"),
                            "tax_amount": decimal_at("TaxAmount"),
                            "tracking": _tracking,
                        },
                    )
                },
                options={"paged": True, "by_ids": "where"},
            ),
        ),
    ),
}

# The SDK method and the keyword arguments each collection takes.
_METHODS = {
    "Accounts": "get_accounts",
    "TaxRates": "get_tax_rates",
    "TrackingCategories": "get_tracking_categories",
    "ContactGroups": "get_contact_groups",
    "Contacts": "get_contacts",
    "Items": "get_items",
    "Invoices": "get_invoices",
    "CreditNotes": "get_credit_notes",
    "Payments": "get_payments",
    "PurchaseOrders": "get_purchase_orders",
    "ManualJournals": "get_manual_journals",
}
_SINGLE_METHODS = {"PurchaseOrders": ("get_purchase_order", "purchase_order_id")}


def _usage(headers: Mapping[str, str]) -> LimitUsage:
    def number(name: str) -> int | None:
        value = headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    return LimitUsage(
        minute_remaining=number("X-MinLimit-Remaining"), day_remaining=number("X-DayLimit-Remaining")
    )


def _get(
    app: AppCredentials, tokens: TokenSet, tenant_id: str, entity: RemoteEntity, action: str, **kwargs: Any
) -> tuple[dict[str, Any], list[tuple[Any, str]], LimitUsage]:
    """The decoded answer, each record of the collection with its exact text, and the limit headers."""
    method = _METHODS[entity.collection]
    if "unitdp" in entity.options:
        kwargs.setdefault("unitdp", entity.options["unitdp"])
    with client.SdkClient(app, client.sdk_token(tokens)) as sdk, client.translated(action):
        response = getattr(sdk.accounting(), method)(tenant_id, _preload_content=False, **kwargs)
        body = response.data
    try:
        data, items = decode_with_items(body.decode("utf-8"), (entity.collection,))
    except (ValueError, UnicodeDecodeError):
        raise ProviderError(f"Xero answered {action} with a body that is not JSON.") from None
    return data, items, _usage(response.headers)


def pull_page(
    *,
    app: AppCredentials,
    tokens: TokenSet,
    tenant_id: str,
    source: FamilySource,
    since: datetime | None,
    token: dict[str, Any] | None,
) -> PulledPage:
    token = token or {}
    index = int(token.get("entity", 0))
    entity = source.entities[index]
    page_number = int(token.get("page", 1))
    kwargs: dict[str, Any] = {}
    paged = bool(entity.options.get("paged"))
    if paged:
        kwargs |= {"page": page_number, "page_size": PAGE_SIZE, "order": "UpdatedDateUTC ASC"}
        if since is not None:
            kwargs["if_modified_since"] = since.astimezone(UTC)
    if entity.options.get("include_archived"):
        kwargs["include_archived"] = True
    data, items, usage = _get(
        app, tokens, tenant_id, entity, f"listing {entity.collection} (page {page_number})", **kwargs
    )
    pagination = data.get("pagination") or {}
    if "pageCount" in pagination:
        # Xero counts the pages: no empty page is asked for when the records fill the last one exactly.
        more = paged and page_number < int(pagination["pageCount"])
    else:
        more = paged and len(items) >= PAGE_SIZE
    if more:
        following: dict[str, Any] | None = {"entity": index, "page": page_number + 1}
    elif index + 1 < len(source.entities):
        following = {"entity": index + 1, "page": 1}
    else:
        following = None
    return PulledPage(
        records=[(entity.remote_type, row) for row, _ in items],
        raw=[text for _, text in items],
        next=following,
        total=pagination.get("itemCount") if page_number == 1 or pagination else None,
        usage=usage,
    )


def pull_by_ids(
    *, app: AppCredentials, tokens: TokenSet, tenant_id: str, entity: RemoteEntity, remote_ids: list[str]
) -> PulledPage:
    by = entity.options.get("by_ids", "where")
    action = f"looking up {len(remote_ids)} {entity.collection}"
    if by == "single":
        method, argument = _SINGLE_METHODS[entity.collection]
        records: list[tuple[str, dict[str, Any]]] = []
        for remote_id in remote_ids:
            try:
                with client.SdkClient(app, client.sdk_token(tokens)) as sdk, client.translated(action):
                    response = getattr(sdk.accounting(), method)(
                        tenant_id, **{argument: remote_id}, _preload_content=False
                    )
                    body = response.data
            except ProviderError as exc:
                if exc.details.get("http_status") == 404:
                    continue
                raise
            records += [(entity.remote_type, row) for row in decode(body).get(entity.collection) or []]
        return PulledPage(records=records, next=None, api_calls=len(remote_ids))
    kwargs: dict[str, Any] = {}
    if by == "IDs":
        kwargs["i_ds"] = remote_ids
    else:
        id_key = {"TaxRates": "TaxType"}.get(entity.collection, f"{entity.collection.removesuffix('s')}ID")
        if entity.collection == "TrackingCategories":
            id_key = "TrackingCategoryID"
        quoted = " OR ".join(
            f'{id_key}=="{remote_id}"' if id_key == "TaxType" else f'{id_key}==Guid("{remote_id}")'
            for remote_id in remote_ids
        )
        kwargs["where"] = quoted
    if entity.options.get("include_archived"):
        kwargs["include_archived"] = True
    if entity.options.get("paged"):
        kwargs |= {"page": 1, "page_size": PAGE_SIZE}
    _, items, usage = _get(app, tokens, tenant_id, entity, action, **kwargs)
    return PulledPage(
        records=[(entity.remote_type, row) for row, _ in items],
        raw=[text for _, text in items],
        next=None,
        usage=usage,
    )
