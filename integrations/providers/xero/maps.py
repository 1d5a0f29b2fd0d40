"""How Xero's records read into the mirror: one field map per entity type feeding each family
(`SOURCES`), declared as data, and the parsers of Xero's own formats (its `/Date(...)/` times)."""

from __future__ import annotations

from decimal import Decimal

from integrations.providers.remote import (
    ChildMap,
    FamilySource,
    at,
    bool_at,
    const,
    converted,
    decimal_at,
    mapped,
    text_at,
)
from integrations.providers.xero.fields import (
    CLASSIFICATION,
    DOCUMENT_STATUS,
    LINES,
    PAYMENT_KIND,
    RECORD_STATUS,
    _deleted_when,
    _document_header,
    _document_status,
    _entity,
    _first,
    _id_text,
    _journal_total,
    _payment_allocations,
    _payment_contact,
    _payment_target,
    _phone,
    _status_of,
    _tracking,
    ms_date,
)

ALLOCATION_IDS = {
    "Invoice": "InvoiceID",
    "CreditNote": "CreditNoteID",
    "Prepayment": "PrepaymentID",
    "Overpayment": "OverpaymentID",
}

# Keyed by the family each source declares, in the order a first sync pulls them (references first).
SOURCES: dict[str, FamilySource] = {
    source.family: source
    for source in (
        FamilySource(
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
        FamilySource(
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
        FamilySource(
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
        FamilySource(
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
        FamilySource(
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
                        "account_number": lambda r: str(
                            r.get("AccountNumber") or r.get("ContactNumber") or ""
                        ),
                        "tax_number": text_at("TaxNumber"),
                        "is_customer": bool_at("IsCustomer"),
                        "is_supplier": bool_at("IsSupplier"),
                        "status": mapped("ContactStatus", RECORD_STATUS, "active"),
                        "currency": text_at("DefaultCurrency"),
                        "address_line1": _first(
                            "Addresses", "AddressType", ("POBOX", "STREET"), "AddressLine1"
                        ),
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
        FamilySource(
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
                        "item_type": lambda r: (
                            "inventory" if r.get("IsTrackedAsInventory") else "non_inventory"
                        ),
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
        FamilySource(
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
        FamilySource(
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
        FamilySource(
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
        FamilySource(
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
        FamilySource(
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
    )
}
