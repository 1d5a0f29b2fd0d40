"""What a new QBO company starts with, and what its Preferences decide for documents.

Intuit's sandbox companies come with a chart of accounts, terms, payment methods, a "Services" item, a
sales tax code, Preferences and CompanyInfo. The emulator creates the same kind of set the first time a
company is used (ids and names follow Intuit's US sandbox where a recording shows them: account 33 is
"Accounts Payable (A/P)", 35 "Checking", 79-81 the inventory accounts)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.models import Tenant
from sandbox.qbo.api import wire
from sandbox.qbo.api.entity import Draft

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "GBP": "British Pound Sterling",
    "EUR": "Euro",
    "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar",
    "INR": "Indian Rupee",
    "MXN": "Mexican Peso",
    "JPY": "Japanese Yen",
    "ZAR": "South African Rand",
}

UNDEPOSITED_FUNDS = "4"
ACCOUNTS_PAYABLE = "33"
ACCOUNTS_RECEIVABLE = "84"

# (Id, Name, AccountType, AccountSubType, Classification)
_ACCOUNTS = (
    ("1", "Services", "Income", "ServiceFeeIncome", "Revenue"),
    (UNDEPOSITED_FUNDS, "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("7", "Advertising", "Expense", "AdvertisingPromotional", "Expense"),
    (ACCOUNTS_PAYABLE, "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability"),
    ("35", "Checking", "Bank", "Checking", "Asset"),
    ("41", "Mastercard", "Credit Card", "CreditCard", "Liability"),
    ("79", "Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("80", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("81", "Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
    (ACCOUNTS_RECEIVABLE, "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("86", "Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
)
_TERMS = (("1", "Due on receipt", 0), ("2", "Net 15", 15), ("3", "Net 30", 30), ("4", "Net 60", 60))
_PAYMENT_METHODS = (
    ("1", "Cash", "NON_CREDIT_CARD"),
    ("2", "Check", "NON_CREDIT_CARD"),
    ("3", "Visa", "CREDIT_CARD"),
    ("4", "MasterCard", "CREDIT_CARD"),
)
DEFAULT_TERMS = "3"
DEFAULT_ITEM = "1"


def currency_ref(tenant: Tenant) -> dict[str, str]:
    code = tenant.base_currency or "USD"
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


def _system(record_id: str, now: datetime) -> dict[str, Any]:
    moment = wire.stamp(now)
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": record_id,
        "SyncToken": "0",
        "MetaData": {"CreateTime": moment, "LastUpdatedTime": moment},
    }


def default_records(tenant: Tenant, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every entity a new company starts with, by type, as finished bodies."""
    currency = currency_ref(tenant)
    accounts = [
        {
            "Name": name,
            "SubAccount": False,
            "FullyQualifiedName": name,
            "Active": True,
            "Classification": classification,
            "AccountType": account_type,
            "AccountSubType": sub_type,
            "CurrentBalance": wire.ZERO,
            "CurrentBalanceWithSubAccounts": wire.ZERO,
            "CurrencyRef": dict(currency),
            **_system(record_id, now),
        }
        for record_id, name, account_type, sub_type, classification in _ACCOUNTS
    ]
    terms = [
        {"Name": name, "Active": True, "Type": "STANDARD", "DueDays": days, **_system(record_id, now)}
        for record_id, name, days in _TERMS
    ]
    methods = [
        {"Name": name, "Active": True, "Type": kind, **_system(record_id, now)}
        for record_id, name, kind in _PAYMENT_METHODS
    ]
    items = [
        {
            "Name": "Services",
            "Active": True,
            "FullyQualifiedName": "Services",
            "Taxable": False,
            "UnitPrice": 0,
            "Type": "Service",
            "IncomeAccountRef": {"value": "1", "name": "Services"},
            "PurchaseCost": 0,
            "TrackQtyOnHand": False,
            **_system(DEFAULT_ITEM, now),
        }
    ]
    tax_rates = [
        {
            "Name": "California",
            "Description": "Sales Tax",
            "Active": True,
            "RateValue": Decimal(8),
            "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
            **_system("1", now),
        }
    ]
    tax_codes = [
        {
            "Name": "California",
            "Description": "California",
            "Active": True,
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {
                "TaxRateDetail": [
                    {
                        "TaxRateRef": {"value": "1", "name": "California"},
                        "TaxTypeApplicable": "TaxOnAmount",
                        "TaxOrder": 0,
                    }
                ]
            },
            "PurchaseTaxRateList": {"TaxRateDetail": []},
            **_system("1", now),
        }
    ]
    return {
        "Preferences": [preferences_default(tenant, now)],
        "CompanyInfo": [company_info_default(tenant, now)],
        "Account": accounts,
        "Term": terms,
        "PaymentMethod": methods,
        "Item": items,
        "TaxRate": tax_rates,
        "TaxCode": tax_codes,
    }


def _custom_group(prefix: str, enabled: dict[int, str]) -> list[dict[str, Any]]:
    flags = [
        {"Name": f"{prefix}{slot}", "Type": "BooleanType", "BooleanValue": slot in enabled}
        for slot in (3, 2, 1)
    ]
    return [{"CustomField": flags}]


def preferences_default(tenant: Tenant, now: datetime) -> dict[str, Any]:
    """Intuit's US sandbox company: custom field 1 ("Crew #") on sales forms, none on purchase orders."""
    sales_custom = _custom_group("SalesFormsPrefs.UseSalesCustom", {1: "Crew #"})
    sales_custom.append(
        {
            "CustomField": [
                {"Name": "SalesFormsPrefs.SalesCustomName1", "Type": "StringType", "StringValue": "Crew #"}
            ]
        }
    )
    return {
        "AccountingInfoPrefs": {
            "TrackDepartments": False,
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": False,
            "CustomerTerminology": "Customers",
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomField": sales_custom,
            "CustomTxnNumbers": False,
            "AllowDeposit": True,
            "AllowDiscount": True,
            "AllowEstimates": True,
            "IPNSupportEnabled": False,
            "AllowServiceDate": False,
            "AllowShipping": False,
            "DefaultTerms": {"value": DEFAULT_TERMS},
            "ETransactionEnabledStatus": "NotApplicable",
        },
        "VendorAndPurchasesPrefs": {
            "TrackingByCustomer": True,
            "BillableExpenseTracking": True,
            "POCustomField": _custom_group("PurchasePrefs.UsePurchaseCustom", {}),
        },
        "TimeTrackingPrefs": {
            "UseServices": True,
            "BillCustomers": True,
            "ShowBillRateToAll": False,
            "MarkTimeEntriesBillable": True,
        },
        "TaxPrefs": {"UsingSalesTax": True},
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": False,
            "HomeCurrency": {"value": tenant.base_currency or "USD"},
        },
        "OtherPrefs": {
            "NameValue": [
                {"Name": "SalesFormsPrefs.DefaultCustomerMessage"},
                {"Name": "SalesFormsPrefs.DefaultItem", "Value": DEFAULT_ITEM},
            ]
        },
        **_system("1", now),
    }


def company_info_default(tenant: Tenant, now: datetime) -> dict[str, Any]:
    address = {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA"}
    address["PostalCode"] = "87999"
    return {
        "CompanyName": tenant.name,
        "LegalName": tenant.name,
        "CompanyAddr": dict(address),
        "CustomerCommunicationAddr": dict(address),
        "LegalAddr": dict(address),
        "PrimaryPhone": {},
        "CompanyStartDate": wire.company_today(tenant.created_at or now).isoformat(),
        "FiscalYearStartMonth": "January",
        "Country": tenant.country or "US",
        "Email": {"Address": "noreply@quickbooks.com"},
        "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Sandbox"},
            {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Advanced"},
        ],
        **_system("1", now),
    }


# --- what Preferences decide -----------------------------------------------------------------------------


def _slots(
    prefs: dict[str, Any] | None, section: str, group_key: str, use: str, label: str
) -> list[tuple[str, str]]:
    holder = (prefs or {}).get(section) or {}
    flags: dict[str, bool] = {}
    names: dict[str, str] = {}
    for group in holder.get(group_key) or []:
        for entry in (group or {}).get("CustomField") or []:
            name = str(entry.get("Name", ""))
            if name.startswith(use):
                flags[name[len(use) :]] = entry.get("BooleanValue") is True
            elif name.startswith(label) and entry.get("StringValue"):
                names[name[len(label) :]] = str(entry["StringValue"])
    return [(slot, names[slot]) for slot in ("1", "2", "3") if flags.get(slot) and slot in names]


def sales_custom_fields(prefs: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The enabled legacy custom fields of sales forms: (DefinitionId, Name), slots 1-3."""
    return _slots(
        prefs,
        "SalesFormsPrefs",
        "CustomField",
        "SalesFormsPrefs.UseSalesCustom",
        "SalesFormsPrefs.SalesCustomName",
    )


def purchase_custom_fields(prefs: dict[str, Any] | None) -> list[tuple[str, str]]:
    return _slots(
        prefs,
        "VendorAndPurchasesPrefs",
        "POCustomField",
        "PurchasePrefs.UsePurchaseCustom",
        "PurchasePrefs.PurchaseCustomName",
    )


def default_item_id(prefs: dict[str, Any] | None) -> str | None:
    for pair in ((prefs or {}).get("OtherPrefs") or {}).get("NameValue") or []:
        if pair.get("Name") == "SalesFormsPrefs.DefaultItem" and pair.get("Value"):
            return str(pair["Value"])
    return None


def default_terms_id(prefs: dict[str, Any] | None) -> str | None:
    ref = ((prefs or {}).get("SalesFormsPrefs") or {}).get("DefaultTerms")
    return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") else None


def custom_txn_numbers(prefs: dict[str, Any] | None) -> bool:
    return ((prefs or {}).get("SalesFormsPrefs") or {}).get("CustomTxnNumbers") is True


def preferences(draft: Draft) -> None:
    """Preferences change section by section (a sparse update of SalesFormsPrefs.AllowDiscount keeps the
    rest of SalesFormsPrefs), and the legacy custom-field definitions cannot be changed through the API."""
    body, before = draft.body, draft.before or {}
    for section, value in list(body.items()):
        previous = before.get(section)
        if isinstance(value, dict) and isinstance(previous, dict) and section in draft.given:
            body[section] = {**previous, **value}
    for section, key in (("SalesFormsPrefs", "CustomField"), ("VendorAndPurchasesPrefs", "POCustomField")):
        kept = (before.get(section) or {}).get(key)
        if isinstance(body.get(section), dict):
            if kept is None:
                body[section].pop(key, None)
            else:
                body[section][key] = kept
