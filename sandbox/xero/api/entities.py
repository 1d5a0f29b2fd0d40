"""Every emulated Xero Accounting collection, declared once.

A declaration is data: paths, scopes, writable fields, list parameters, lifecycle, keys, numbering,
webhooks. The code that differs between entities is in the hooks it names (the `rules` package)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.xero.api.entity import READ, WRITE, AutoNumber, Entity, Lifecycle, Unique
from sandbox.xero.api.rules import contacts, documents, organisation, settlement
from sandbox.xero.api.schema import Choice, Day, Field, Flag, Many, Number, Obj, Text


def _scopes(*write: str) -> dict[str, frozenset[str]]:
    """Write scopes, and the read scopes they imply (each scope's `.read` twin also reads)."""
    return {WRITE: frozenset(write), READ: frozenset(write) | {f"{scope}.read" for scope in write}}


SETTINGS = _scopes("accounting.settings")
CONTACTS = _scopes("accounting.contacts")
# The broad accounting.transactions scope, and the 2026 granular scopes that replace it.
INVOICING = _scopes("accounting.transactions", "accounting.invoices")
PAYMENTS = _scopes("accounting.transactions", "accounting.payments")
JOURNALS = _scopes("accounting.transactions", "accounting.manualjournals")
ITEMS = _scopes("accounting.settings", "accounting.invoices")


def _choice(*values: str) -> Choice:
    return Choice(frozenset(values))


def _fields(**fields: Field) -> Obj:
    return Obj(dict(fields))


def _status(
    initial: str,
    creatable: set[str],
    moves: dict[str, set[str]],
    locked: Iterable[str] = (),
    field: str = "Status",
) -> Lifecycle:
    return Lifecycle(
        field=field,
        initial=initial,
        creatable=frozenset(creatable),
        moves={status: frozenset(targets) for status, targets in moves.items()},
        locked=frozenset(locked),
    )


def _is(key: str, *values: str) -> Any:
    return lambda body: body.get(key) in values


# --- shared pieces of the writable schemas ---------------------------------------------------------------

TRACKING = Many(_fields(TrackingCategoryID=Text(), TrackingOptionID=Text(), Name=Text(100), Option=Text(100)))
LINE_ITEM = _fields(
    LineItemID=Text(),
    Description=Text(4000),
    Quantity=Number(),
    UnitAmount=Number(),
    ItemCode=Text(30),
    AccountCode=Text(10),
    AccountID=Text(),
    TaxType=Text(),
    TaxAmount=Number(),
    LineAmount=Number(),
    Tracking=TRACKING,
    DiscountRate=Number(),
    DiscountAmount=Number(),
)
CONTACT_REFERENCE = _fields(ContactID=Text(), ContactNumber=Text(50), Name=Text(255))
ACCOUNT_REFERENCE = _fields(AccountID=Text(), Code=Text(10))
ADDRESS = _fields(
    AddressType=_choice("POBOX", "STREET", "DELIVERY"),
    AddressLine1=Text(500),
    AddressLine2=Text(500),
    AddressLine3=Text(500),
    AddressLine4=Text(500),
    City=Text(255),
    Region=Text(255),
    PostalCode=Text(50),
    Country=Text(50),
    AttentionTo=Text(255),
)
PHONE = _fields(
    PhoneType=_choice("DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE"),
    PhoneNumber=Text(50),
    PhoneAreaCode=Text(10),
    PhoneCountryCode=Text(20),
)
PAYMENT_TERM = _fields(
    Day=Number(),
    Type=_choice("DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH", "OFFOLLOWINGMONTH"),
)
LINE_AMOUNT_TYPES = _choice("Exclusive", "Inclusive", "NoTax")
DOCUMENT_ORDER = (
    "Type",
    "InvoiceID",
    "CreditNoteID",
    "PurchaseOrderID",
    "InvoiceNumber",
    "CreditNoteNumber",
    "PurchaseOrderNumber",
    "Reference",
    "Payments",
    "CreditNotes",
    "Allocations",
    "Prepayments",
    "Overpayments",
    "AmountDue",
    "AmountPaid",
    "AmountCredited",
    "RemainingCredit",
    "SentToContact",
    "CurrencyRate",
    "HasErrors",
    "IsDiscounted",
    "HasAttachments",
    "Contact",
    "DateString",
    "Date",
    "DueDateString",
    "DueDate",
    "Status",
    "LineAmountTypes",
    "LineItems",
    "SubTotal",
    "TotalTax",
    "Total",
    "TotalDiscount",
    "UpdatedDateUTC",
    "UpdatedDateUTCString",
    "CurrencyCode",
    "FullyPaidOnDate",
)
INVOICE_LIFECYCLE = _status(
    "DRAFT",
    {"DRAFT", "SUBMITTED", "AUTHORISED"},
    {
        "DRAFT": {"SUBMITTED", "AUTHORISED", "DELETED"},
        "SUBMITTED": {"DRAFT", "AUTHORISED", "DELETED"},
        "AUTHORISED": {"VOIDED"},
    },
    locked={"DELETED", "VOIDED", "PAID"},
)

ACCOUNTS = Entity(
    plural="Accounts",
    singular="Account",
    id_field="AccountID",
    schema=_fields(
        AccountID=Text(),
        Code=Text(10),
        Name=Text(150),
        Type=_choice(
            "BANK",
            "CURRENT",
            "CURRLIAB",
            "DEPRECIATN",
            "DIRECTCOSTS",
            "EQUITY",
            "EXPENSE",
            "FIXED",
            "INVENTORY",
            "LIABILITY",
            "NONCURRENT",
            "OTHERINCOME",
            "OVERHEADS",
            "PREPAYMENT",
            "REVENUE",
            "SALES",
            "TERMLIAB",
            "PAYG",
        ),
        BankAccountNumber=Text(50),
        Description=Text(4000),
        BankAccountType=_choice("BANK", "CREDITCARD", "PAYPAL", "NONE", ""),
        CurrencyCode=Text(3),
        TaxType=Text(),
        EnablePaymentsToAccount=Flag(),
        ShowInExpenseClaims=Flag(),
        ReportingCode=Text(),
        AddToWatchlist=Flag(),
        Status=_choice("ACTIVE", "ARCHIVED"),
    ),
    build=organisation.build_account,
    scopes=SETTINGS,
    number_field="Code",
    name_field="Name",
    kind_field="Type",
    lifecycle=_status(
        "ACTIVE", {"ACTIVE"}, {"ACTIVE": {"ARCHIVED"}, "ARCHIVED": {"ACTIVE"}}, locked={"DELETED"}
    ),
    unique=(
        Unique("number", "Please enter a unique Code.", released_by=frozenset({"DELETED"})),
        Unique("name", "Please enter a unique Name.", released_by=frozenset({"DELETED"})),
    ),
    verbs=frozenset({"create", "update", "delete"}),
    delete=organisation.delete_account,
    hidden_statuses=frozenset({"DELETED"}),
    modified_since=True,
    field_order=("AccountID", "Code", "Name", "Status", "Type", "TaxType", "Description", "Class"),
)

CONTACTS_ENTITY = Entity(
    plural="Contacts",
    singular="Contact",
    id_field="ContactID",
    schema=_fields(
        ContactID=Text(),
        ContactNumber=Text(50),
        AccountNumber=Text(50),
        ContactStatus=_choice("ACTIVE", "ARCHIVED", "GDPRREQUEST"),
        Name=Text(255),
        FirstName=Text(255),
        LastName=Text(255),
        CompanyNumber=Text(50),
        EmailAddress=Text(255),
        ContactPersons=Many(
            _fields(FirstName=Text(255), LastName=Text(255), EmailAddress=Text(255), IncludeInEmails=Flag())
        ),
        BankAccountDetails=Text(),
        TaxNumber=Text(50),
        TaxNumberType=Text(),
        AccountsReceivableTaxType=Text(),
        AccountsPayableTaxType=Text(),
        Addresses=Many(ADDRESS),
        Phones=Many(PHONE),
        SalesDefaultLineAmountType=_choice("INCLUSIVE", "EXCLUSIVE", "NONE"),
        PurchasesDefaultLineAmountType=_choice("INCLUSIVE", "EXCLUSIVE", "NONE"),
        DefaultCurrency=Text(3),
        XeroNetworkKey=Text(),
        SalesDefaultAccountCode=Text(10),
        PurchasesDefaultAccountCode=Text(10),
        TrackingCategoryName=Text(),
        TrackingCategoryOption=Text(),
        PaymentTerms=_fields(Bills=PAYMENT_TERM, Sales=PAYMENT_TERM),
        Website=Text(),
        Discount=Number(),
    ),
    build=contacts.build_contact,
    scopes=CONTACTS,
    number_field="ContactNumber",
    name_field="Name",
    lifecycle=_status(
        "ACTIVE",
        {"ACTIVE"},
        {"ACTIVE": {"ARCHIVED", "GDPRREQUEST"}, "ARCHIVED": {"ACTIVE", "GDPRREQUEST"}},
        locked={"GDPRREQUEST"},
        field="ContactStatus",
    ),
    unique=(
        Unique(
            "name",
            "The contact name {value} is already assigned to another contact. The contact name must be unique "
            "across all active contacts.",
            released_by=frozenset({"ARCHIVED", "GDPRREQUEST"}),
        ),
    ),
    upsert_by=("ContactNumber",),
    lookup_by_number=True,
    paged=True,
    list_params=frozenset({"where", "order", "IDs", "includeArchived", "summaryOnly", "searchTerm"}),
    modified_since=True,
    archived_statuses=frozenset({"ARCHIVED"}),
    summary_omit=(
        "Addresses",
        "Phones",
        "ContactPersons",
        "ContactGroups",
        "Balances",
        "PaymentTerms",
        "BatchPayments",
        "SalesTrackingCategories",
        "PurchasesTrackingCategories",
    ),
    search_fields=("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber", "EmailAddress"),
    webhook_category="CONTACT",
    field_order=(
        "ContactID",
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
    ),
)

CONTACT_GROUPS = Entity(
    plural="ContactGroups",
    singular="ContactGroup",
    id_field="ContactGroupID",
    schema=_fields(ContactGroupID=Text(), Name=Text(50), Status=_choice("ACTIVE", "DELETED")),
    build=contacts.build_contact_group,
    scopes=CONTACTS,
    name_field="Name",
    has_updated_date=False,
    lifecycle=_status("ACTIVE", {"ACTIVE"}, {"ACTIVE": {"DELETED"}}, locked={"DELETED"}),
    unique=(
        Unique("name", "A contact group named '{value}' already exists.", released_by=frozenset({"DELETED"})),
    ),
    verbs=frozenset({"create", "update"}),
    hidden_statuses=frozenset({"DELETED"}),
    list_view=contacts.contact_group_list_view,
    field_order=("ContactGroupID", "Name", "Status", "Contacts"),
)

INVOICES = Entity(
    plural="Invoices",
    singular="Invoice",
    id_field="InvoiceID",
    schema=_fields(
        InvoiceID=Text(),
        Type=_choice("ACCREC", "ACCPAY"),
        Contact=CONTACT_REFERENCE,
        LineItems=Many(LINE_ITEM),
        Date=Day(),
        DueDate=Day(),
        LineAmountTypes=LINE_AMOUNT_TYPES,
        InvoiceNumber=Text(255),
        Reference=Text(255),
        BrandingThemeID=Text(),
        Url=Text(),
        CurrencyCode=Text(3),
        CurrencyRate=Number(),
        Status=_choice("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED", "PAID"),
        SentToContact=Flag(),
        ExpectedPaymentDate=Day(),
        PlannedPaymentDate=Day(),
    ),
    build=documents.build_invoice,
    scopes=INVOICING,
    number_field="InvoiceNumber",
    kind_field="Type",
    contact_field=("Contact", "ContactID"),
    date_field="Date",
    has_updated_string=True,
    lifecycle=INVOICE_LIFECYCLE,
    unique=(
        Unique(
            "number",
            "Invoice # must be unique.",
            applies=_is("Type", "ACCREC"),
            released_by=frozenset({"DELETED"}),
        ),
    ),
    auto_number=(AutoNumber("InvoiceNumber", "INV-", applies=_is("Type", "ACCREC")),),
    upsert_by=("InvoiceNumber",),
    lookup_by_number=True,
    managed=frozenset({"Type", "Contact", "LineItems", "LineAmountTypes"}),
    paged=True,
    list_params=frozenset(
        {
            "where",
            "order",
            "IDs",
            "InvoiceNumbers",
            "ContactIDs",
            "Statuses",
            "summaryOnly",
            "unitdp",
            "searchTerm",
            "createdByMyApp",
        }
    ),
    modified_since=True,
    summary_omit=("LineItems", "Payments", "CreditNotes", "Prepayments", "Overpayments"),
    search_fields=("InvoiceNumber", "Reference"),
    unit_paths=(("LineItems", "UnitAmount"),),
    field_order=DOCUMENT_ORDER,
    webhook_category="INVOICE",
)

CREDIT_NOTES = Entity(
    plural="CreditNotes",
    singular="CreditNote",
    id_field="CreditNoteID",
    schema=_fields(
        CreditNoteID=Text(),
        Type=_choice("ACCRECCREDIT", "ACCPAYCREDIT"),
        Contact=CONTACT_REFERENCE,
        LineItems=Many(LINE_ITEM),
        Date=Day(),
        DueDate=Day(),
        LineAmountTypes=LINE_AMOUNT_TYPES,
        CreditNoteNumber=Text(255),
        Reference=Text(255),
        BrandingThemeID=Text(),
        CurrencyCode=Text(3),
        CurrencyRate=Number(),
        Status=_choice("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED", "PAID"),
        SentToContact=Flag(),
    ),
    build=documents.build_credit_note,
    scopes=INVOICING,
    number_field="CreditNoteNumber",
    kind_field="Type",
    contact_field=("Contact", "ContactID"),
    date_field="Date",
    has_updated_string=True,
    lifecycle=INVOICE_LIFECYCLE,
    unique=(
        Unique(
            "number",
            "Credit Note number must be unique.",
            applies=_is("Type", "ACCRECCREDIT"),
            released_by=frozenset({"DELETED"}),
        ),
    ),
    auto_number=(AutoNumber("CreditNoteNumber", "CN-", applies=_is("Type", "ACCRECCREDIT")),),
    upsert_by=("CreditNoteNumber",),
    lookup_by_number=True,
    managed=frozenset({"Type", "Contact", "LineItems", "LineAmountTypes"}),
    paged=True,
    list_params=frozenset({"where", "order", "unitdp"}),
    modified_since=True,
    unit_paths=(("LineItems", "UnitAmount"),),
    field_order=DOCUMENT_ORDER,
    webhook_category="CREDITNOTE",
    webhook_data=documents.credit_note_event_data,
)

ITEMS_ENTITY = Entity(
    plural="Items",
    singular="Item",
    id_field="ItemID",
    schema=_fields(
        ItemID=Text(),
        Code=Text(30),
        InventoryAssetAccountCode=Text(10),
        Name=Text(50),
        IsSold=Flag(),
        IsPurchased=Flag(),
        Description=Text(4000),
        PurchaseDescription=Text(4000),
        PurchaseDetails=_fields(
            UnitPrice=Number(), AccountCode=Text(10), COGSAccountCode=Text(10), TaxType=Text()
        ),
        SalesDetails=_fields(
            UnitPrice=Number(), AccountCode=Text(10), COGSAccountCode=Text(10), TaxType=Text()
        ),
        IsTrackedAsInventory=Flag(),
    ),
    build=organisation.build_item,
    scopes=ITEMS,
    number_field="Code",
    name_field="Name",
    unique=(Unique("number", "Item code '{value}' already exists."),),
    upsert_by=("Code",),
    lookup_by_number=True,
    verbs=frozenset({"create", "upsert", "update", "delete"}),
    delete=organisation.delete_item,
    list_params=frozenset({"where", "order", "unitdp"}),
    modified_since=True,
    unit_paths=(("SalesDetails", "UnitPrice"), ("PurchaseDetails", "UnitPrice")),
    field_order=("ItemID", "Code", "Description", "PurchaseDescription", "UpdatedDateUTC"),
)

MANUAL_JOURNALS = Entity(
    plural="ManualJournals",
    singular="ManualJournal",
    id_field="ManualJournalID",
    schema=_fields(
        ManualJournalID=Text(),
        Narration=Text(),
        JournalLines=Many(
            _fields(
                LineAmount=Number(),
                AccountCode=Text(10),
                AccountID=Text(),
                Description=Text(4000),
                TaxType=Text(),
                Tracking=TRACKING,
                TaxAmount=Number(),
            )
        ),
        Date=Day(),
        LineAmountTypes=LINE_AMOUNT_TYPES,
        Status=_choice("DRAFT", "POSTED", "DELETED", "VOIDED", "ARCHIVED"),
        Url=Text(),
        ShowOnCashBasisReports=Flag(),
    ),
    build=documents.build_manual_journal,
    scopes=JOURNALS,
    date_field="Date",
    lifecycle=_status(
        "DRAFT",
        {"DRAFT", "POSTED"},
        {"DRAFT": {"POSTED", "DELETED"}, "POSTED": {"VOIDED"}},
        locked={"DELETED", "VOIDED"},
    ),
    managed=frozenset({"JournalLines", "LineAmountTypes"}),
    paged=True,
    modified_since=True,
    field_order=("Date", "Status", "LineAmountTypes", "UpdatedDateUTC", "ManualJournalID", "Narration"),
)

PAYMENT_FIELDS: dict[str, Field] = {
    "PaymentID": Text(),
    "Invoice": _fields(InvoiceID=Text(), InvoiceNumber=Text()),
    "CreditNote": _fields(CreditNoteID=Text(), CreditNoteNumber=Text()),
    "InvoiceNumber": Text(),
    "CreditNoteNumber": Text(),
    "Account": ACCOUNT_REFERENCE,
    "Code": Text(10),
    "Date": Day(),
    "CurrencyRate": Number(),
    "Amount": Number(),
    "Reference": Text(255),
    "IsReconciled": Flag(),
    "Status": _choice("AUTHORISED", "DELETED"),
}
PAYMENTS_ENTITY = Entity(
    plural="Payments",
    singular="Payment",
    id_field="PaymentID",
    schema=Obj(PAYMENT_FIELDS),
    build=settlement.build_payment,
    scopes=PAYMENTS,
    kind_field="PaymentType",
    contact_field=("Invoice", "Contact", "ContactID"),
    date_field="Date",
    has_updated_string=True,
    lifecycle=_status("AUTHORISED", {"AUTHORISED"}, {"AUTHORISED": {"DELETED"}}, locked={"DELETED"}),
    managed=frozenset(PAYMENT_FIELDS),
    paged=True,
    modified_since=True,
    field_order=("PaymentID", "BatchPaymentID", "BatchPayment", "Date", "BankAmount", "Amount", "Reference"),
)

BATCH_PAYMENTS = Entity(
    plural="BatchPayments",
    singular="BatchPayment",
    id_field="BatchPaymentID",
    schema=_fields(
        BatchPaymentID=Text(),
        Account=ACCOUNT_REFERENCE,
        Code=Text(10),
        Reference=Text(255),
        Particulars=Text(12),
        Details=Text(18),
        Narrative=Text(18),
        Date=Day(),
        IsReconciled=Flag(),
        Payments=Many(
            _fields(
                Invoice=_fields(InvoiceID=Text(), InvoiceNumber=Text()),
                Amount=Number(),
                Reference=Text(255),
                BankAccountNumber=Text(),
                Particulars=Text(12),
                Details=Text(18),
                Code=Text(12),
            )
        ),
        Status=_choice("AUTHORISED", "DELETED"),
    ),
    build=settlement.build_batch_payment,
    scopes=PAYMENTS,
    kind_field="Type",
    date_field="Date",
    lifecycle=_status("AUTHORISED", {"AUTHORISED"}, {"AUTHORISED": {"DELETED"}}, locked={"DELETED"}),
    managed=frozenset(
        {
            "Account",
            "Code",
            "Reference",
            "Date",
            "IsReconciled",
            "Payments",
            "Particulars",
            "Details",
            "Narrative",
        }
    ),
    modified_since=True,
    field_order=(
        "Account",
        "Reference",
        "BatchPaymentID",
        "DateString",
        "Date",
        "Payments",
        "Type",
        "Status",
    ),
)

PURCHASE_ORDERS = Entity(
    plural="PurchaseOrders",
    singular="PurchaseOrder",
    id_field="PurchaseOrderID",
    schema=_fields(
        PurchaseOrderID=Text(),
        Contact=CONTACT_REFERENCE,
        LineItems=Many(LINE_ITEM),
        Date=Day(),
        DeliveryDate=Day(),
        ExpectedArrivalDate=Day(),
        LineAmountTypes=LINE_AMOUNT_TYPES,
        PurchaseOrderNumber=Text(255),
        Reference=Text(255),
        BrandingThemeID=Text(),
        CurrencyCode=Text(3),
        CurrencyRate=Number(),
        Status=_choice("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED"),
        SentToContact=Flag(),
        DeliveryAddress=Text(500),
        AttentionTo=Text(255),
        Telephone=Text(50),
        DeliveryInstructions=Text(500),
    ),
    build=documents.build_purchase_order,
    scopes=INVOICING,
    number_field="PurchaseOrderNumber",
    contact_field=("Contact", "ContactID"),
    date_field="Date",
    lifecycle=_status(
        "DRAFT",
        {"DRAFT", "SUBMITTED", "AUTHORISED"},
        {
            "DRAFT": {"SUBMITTED", "AUTHORISED", "DELETED"},
            "SUBMITTED": {"DRAFT", "AUTHORISED", "DELETED"},
            "AUTHORISED": {"BILLED", "DELETED"},
        },
        locked={"DELETED", "BILLED"},
    ),
    unique=(Unique("number", "Order number must be unique", released_by=frozenset({"DELETED"})),),
    auto_number=(AutoNumber("PurchaseOrderNumber", "PO-"),),
    upsert_by=("PurchaseOrderNumber",),
    lookup_by_number=True,
    managed=frozenset({"Contact", "LineItems", "LineAmountTypes"}),
    paged=True,
    list_params=frozenset({"order", "Status", "DateFrom", "DateTo"}),
    modified_since=True,
    unit_paths=(("LineItems", "UnitAmount"),),
    field_order=(
        "PurchaseOrderID",
        "PurchaseOrderNumber",
        "DateString",
        "Date",
        "DeliveryDateString",
        "DeliveryDate",
        "AttentionTo",
        "HasErrors",
        "IsDiscounted",
        "Type",
        "CurrencyRate",
        "CurrencyCode",
        "Contact",
        "Status",
        "LineAmountTypes",
        "LineItems",
        "SubTotal",
        "TotalTax",
        "Total",
        "UpdatedDateUTC",
        "HasAttachments",
    ),
)

TAX_RATES = Entity(
    plural="TaxRates",
    singular="TaxRate",
    id_field="TaxType",
    schema=_fields(
        TaxType=Text(),
        Name=Text(100),
        TaxComponents=Many(
            _fields(Name=Text(100), Rate=Number(), IsCompound=Flag(), IsNonRecoverable=Flag())
        ),
        ReportTaxType=Text(),
        Status=_choice("ACTIVE", "DELETED", "ARCHIVED", "PENDING"),
    ),
    build=organisation.build_tax_rate,
    scopes=SETTINGS,
    name_field="Name",
    has_updated_date=False,
    lifecycle=_status(
        "ACTIVE",
        {"ACTIVE"},
        {"ACTIVE": {"ARCHIVED", "DELETED"}, "ARCHIVED": {"ACTIVE", "DELETED"}},
        locked={"DELETED"},
    ),
    unique=(
        Unique("name", "A tax rate named '{value}' already exists.", released_by=frozenset({"DELETED"})),
    ),
    upsert_by=("Name",),
    managed=frozenset({"TaxType"}),
    verbs=frozenset({"create", "upsert"}),
    hidden_statuses=frozenset({"DELETED"}),
    field_order=("Name", "TaxType", "ReportTaxType"),
)

TRACKING_CATEGORIES = Entity(
    plural="TrackingCategories",
    singular="TrackingCategory",
    id_field="TrackingCategoryID",
    schema=_fields(TrackingCategoryID=Text(), Name=Text(100), Status=_choice("ACTIVE", "ARCHIVED")),
    build=organisation.build_tracking_category,
    scopes=SETTINGS,
    name_field="Name",
    has_updated_date=False,
    lifecycle=_status(
        "ACTIVE", {"ACTIVE"}, {"ACTIVE": {"ARCHIVED"}, "ARCHIVED": {"ACTIVE"}}, locked={"DELETED"}
    ),
    unique=(
        Unique(
            "name", "A tracking category named '{value}' already exists.", released_by=frozenset({"DELETED"})
        ),
    ),
    verbs=frozenset({"create", "update", "delete"}),
    delete=organisation.delete_tracking_category,
    list_params=frozenset({"where", "order", "includeArchived"}),
    hidden_statuses=frozenset({"DELETED"}),
    archived_statuses=frozenset({"ARCHIVED"}),
    field_order=("Name", "Status", "TrackingCategoryID", "Options"),
)

ORGANISATION = Entity(
    plural="Organisation",
    singular="Organisation",
    id_field="OrganisationID",
    schema=_fields(),
    build=None,
    scopes=SETTINGS,
    envelope="Organisations",
    has_updated_date=False,
    verbs=frozenset(),
    list_params=frozenset(),
    fallback=organisation.organisation_fallback,
)

ENTITIES: dict[str, Entity] = {
    entity.plural: entity
    for entity in (
        ACCOUNTS,
        CONTACTS_ENTITY,
        CONTACT_GROUPS,
        INVOICES,
        CREDIT_NOTES,
        ITEMS_ENTITY,
        MANUAL_JOURNALS,
        PAYMENTS_ENTITY,
        BATCH_PAYMENTS,
        PURCHASE_ORDERS,
        TAX_RATES,
        TRACKING_CATEGORIES,
        ORGANISATION,
    )
}
# Xero's paths are case-insensitive; clients use the PascalCase of the spec.
BY_PATH: dict[str, Entity] = {plural.lower(): entity for plural, entity in ENTITIES.items()}
# Collections a payload may carry, by array key (the Organisation endpoint's array is "Organisations").
BY_ARRAY_KEY: dict[str, Entity] = {entity.array_key: entity for entity in ENTITIES.values()}
