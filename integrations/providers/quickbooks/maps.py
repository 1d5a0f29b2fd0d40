"""How QuickBooks Online's records read into the mirror: one field map per entity type feeding each
family (`SOURCES`), declared as data, and the parsers of its own formats."""

from __future__ import annotations

from integrations.providers.quickbooks.fields import (
    CDC_LOOKBACK_DAYS,
    CLASSIFICATION,
    ITEM_TYPE,
    JOURNAL_LINES,
    LINES,
    PO_STATUS,
    ZERO,
    _agency,
    _bill_payment_account,
    _contact,
    _credit_note,
    _document_fields,
    _entity,
    _invoice,
    _journal_total,
    _linked_id,
    _list_status,
    _payment,
    _rate_ids,
    _ref,
    _ref_name,
    _subtotal,
    _total_tax,
    _tracking,
    qbo_date,
)
from integrations.providers.remote import (
    FamilySource,
    at,
    bool_at,
    const,
    converted,
    decimal_at,
    mapped,
    text_at,
)

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
                    name_list=True,
                    fields={
                        "code": text_at("AcctNum"),
                        "name": text_at("Name"),
                        "account_type": text_at("AccountType"),
                        "classification": mapped("Classification", CLASSIFICATION),
                        "status": _list_status,
                        "currency": _ref("CurrencyRef"),
                        "tax_code": _ref("TaxCodeRef"),
                        "description": text_at("Description"),
                        "bank_account_number": text_at("BankNum"),
                        "current_balance": decimal_at("CurrentBalance"),
                    },
                ),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "tax_rates",
            (
                _entity(
                    "tax_rates",
                    "TaxRate",
                    name_list=True,
                    fields={
                        # QBO tax rates have no code of their own; lines name tax codes, not rates.
                        "code": const(""),
                        "name": text_at("Name"),
                        "rate": decimal_at("RateValue"),
                        "status": _list_status,
                        "report_tax_type": text_at("SpecialTaxType"),
                        "agency": _agency,
                        "components": at("EffectiveTaxRate", []),
                    },
                ),
            ),
            incremental=False,
        ),
        FamilySource(
            "tax_codes",
            (
                _entity(
                    "tax_codes",
                    "TaxCode",
                    name_list=True,
                    fields={
                        # Lines name a tax code by its id (TAX, NON, or a number): that is its code.
                        "code": text_at("Id"),
                        "name": text_at("Name"),
                        "description": text_at("Description"),
                        "status": _list_status,
                        "taxable": bool_at("Taxable", None),
                        "is_group": bool_at("TaxGroup", None),
                        "sales_rate_ids": _rate_ids("SalesTaxRateList"),
                        "purchase_rate_ids": _rate_ids("PurchaseTaxRateList"),
                    },
                ),
            ),
            incremental=False,
        ),
        FamilySource(
            "tracking_categories",
            (_tracking("Class", "class"), _tracking("Department", "department")),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "contacts",
            (_contact("Customer", customer=True), _contact("Vendor", customer=False)),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "items",
            (
                _entity(
                    "items",
                    "Item",
                    name_list=True,
                    fields={
                        "code": text_at("Sku"),
                        "name": text_at("Name"),
                        "description": text_at("Description"),
                        "purchase_description": text_at("PurchaseDesc"),
                        "item_type": mapped("Type", ITEM_TYPE, "other"),
                        "status": _list_status,
                        "is_sold": lambda record: bool(record.get("IncomeAccountRef")),
                        "is_purchased": lambda record: bool(record.get("ExpenseAccountRef")),
                        "is_tracked": bool_at("TrackQtyOnHand"),
                        "sales_unit_price": decimal_at("UnitPrice"),
                        "purchase_unit_price": decimal_at("PurchaseCost"),
                        "sales_account": _ref("IncomeAccountRef"),
                        "purchase_account": _ref("ExpenseAccountRef"),
                        "sales_tax_code": _ref("SalesTaxCodeRef"),
                        "purchase_tax_code": _ref("PurchaseTaxCodeRef"),
                        "quantity_on_hand": decimal_at("QtyOnHand"),
                    },
                ),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "invoices",
            (
                _invoice("Invoice", "sales", "CustomerRef"),
                _invoice("Bill", "purchase", "VendorRef", purchase_order=_linked_id("PurchaseOrder")),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "credit_notes",
            (
                _credit_note("CreditMemo", "sales", "CustomerRef"),
                _credit_note("VendorCredit", "purchase", "VendorRef"),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "payments",
            (
                _payment(
                    "Payment",
                    "received",
                    "CustomerRef",
                    account_remote_id=_ref("DepositToAccountRef"),
                    payment_type=_ref_name("PaymentMethodRef"),
                ),
                _payment(
                    "BillPayment",
                    "made",
                    "VendorRef",
                    account_remote_id=_bill_payment_account,
                    payment_type=text_at("PayType"),
                ),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "purchase_orders",
            (
                _entity(
                    "purchase_orders",
                    "PurchaseOrder",
                    contact_remote_type="Vendor",
                    status=text_at("POStatus"),
                    fields={
                        **_document_fields("VendorRef"),
                        "reference": text_at("Memo"),
                        "delivery_date": converted("DueDate", qbo_date),
                        "status": mapped("POStatus", PO_STATUS, "authorised"),
                        "tax_mode": text_at("GlobalTaxCalculation"),
                        "subtotal": _subtotal,
                        "total_tax": _total_tax,
                        "total": decimal_at("TotalAmt", ZERO),
                    },
                    children={"lines": LINES},
                ),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
        FamilySource(
            "journals",
            (
                _entity(
                    "journals",
                    "JournalEntry",
                    fields={
                        "number": text_at("DocNumber"),
                        "issue_date": converted("TxnDate", qbo_date),
                        "narration": text_at("PrivateNote"),
                        "status": const("posted"),
                        "currency": _ref("CurrencyRef"),
                        "exchange_rate": decimal_at("ExchangeRate"),
                        "tax_mode": text_at("GlobalTaxCalculation"),
                        "total": _journal_total,
                    },
                    children={"lines": JOURNAL_LINES},
                ),
            ),
            incremental_max_age_days=CDC_LOOKBACK_DAYS,
        ),
    )
}
