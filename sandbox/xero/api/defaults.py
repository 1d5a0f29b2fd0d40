"""What a new Xero organisation comes with: its country's tax rates and a small chart of accounts, and the
Organisation record built from the sandbox tenant.

Real organisations are never without tax rates, and invoice totals need them, so the first API call to an
organisation that has none gets its country's defaults (an organisation loaded from real payloads keeps
exactly what was imported)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction

from sandbox.models import Tenant
from sandbox.models.xero_records import XeroRecord
from sandbox.xero.api import wire

# (TaxType, Name, ReportTaxType, rate %)
TAX_RATES: dict[str, list[tuple[str, str, str, str]]] = {
    "GB": [
        ("OUTPUT2", "20% (VAT on Income)", "OUTPUT", "20.00"),
        ("INPUT2", "20% (VAT on Expenses)", "INPUT", "20.00"),
        ("RROUTPUT", "5% (VAT on Income)", "OUTPUT", "5.00"),
        ("RRINPUT", "5% (VAT on Expenses)", "INPUT", "5.00"),
        ("ZERORATEDOUTPUT", "Zero Rated Income", "OUTPUT", "0.00"),
        ("ZERORATEDINPUT", "Zero Rated Expenses", "INPUT", "0.00"),
        ("EXEMPTOUTPUT", "Exempt Income", "EXEMPTOUTPUT", "0.00"),
        ("EXEMPTINPUT", "Exempt Expenses", "EXEMPTINPUT", "0.00"),
        ("NONE", "No VAT", "NONE", "0.00"),
    ],
    "NZ": [
        ("INPUT2", "15% GST on Expenses", "INPUT", "15.00"),
        ("OUTPUT2", "15% GST on Income", "OUTPUT", "15.00"),
        ("GSTONIMPORTS", "GST on Imports", "GSTONIMPORTS", "0.00"),
        ("NONE", "No GST", "NONE", "0.00"),
        ("ZERORATED", "Zero Rated", "OUTPUT", "0.00"),
    ],
    "AU": [
        ("OUTPUT", "GST on Income", "OUTPUT", "10.00"),
        ("INPUT", "GST on Expenses", "INPUT", "10.00"),
        ("EXEMPTOUTPUT", "GST Free Income", "EXEMPTOUTPUT", "0.00"),
        ("EXEMPTEXPENSES", "GST Free Expenses", "EXEMPTEXPENSES", "0.00"),
        ("BASEXCLUDED", "BAS Excluded", "BASEXCLUDED", "0.00"),
    ],
}
TAX_RATES_OTHER = [("NONE", "Tax Exempt", "NONE", "0.00")]
SALES_TAX = {"GB": "OUTPUT2", "NZ": "OUTPUT2", "AU": "OUTPUT"}
PURCHASES_TAX = {"GB": "INPUT2", "NZ": "INPUT2", "AU": "INPUT"}
# The rate of accounts outside the tax return (banks, control accounts, equity). Australian organisations
# have no "NONE" rate: theirs is "BAS Excluded".
NO_TAX = {"AU": "BASEXCLUDED"}
TAX_LIABILITY_NAME = {"GB": "VAT", "NZ": "GST", "AU": "GST"}

# (Code, Name, Type, tax: "sales" | "purchases" | "none", SystemAccount)
CHART: list[tuple[str, str, str, str, str]] = [
    ("090", "Business Bank Account", "BANK", "none", ""),
    ("200", "Sales", "REVENUE", "sales", ""),
    ("260", "Other Revenue", "REVENUE", "sales", ""),
    ("270", "Interest Income", "REVENUE", "none", ""),
    ("300", "Purchases", "DIRECTCOSTS", "purchases", ""),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "purchases", ""),
    ("400", "Advertising", "OVERHEADS", "purchases", ""),
    ("429", "General Expenses", "OVERHEADS", "purchases", ""),
    ("610", "Accounts Receivable", "CURRENT", "none", "DEBTORS"),
    ("710", "Office Equipment", "FIXED", "purchases", ""),
    ("800", "Accounts Payable", "CURRLIAB", "none", "CREDITORS"),
    ("820", "Sales Tax", "CURRLIAB", "none", "GST"),
    ("960", "Retained Earnings", "EQUITY", "none", "RETAINEDEARNINGS"),
    ("970", "Owner A Funds Introduced", "EQUITY", "none", ""),
]

CLASS_BY_TYPE = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYGLIABILITY": "LIABILITY",
    "SUPERANNUATIONLIABILITY": "LIABILITY",
    "WAGESPAYABLELIABILITY": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "SUPERANNUATIONEXPENSE": "EXPENSE",
    "WAGESEXPENSE": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}

# Xero's Organisation.Version and Timezone values for the countries the sandbox knows well.
VERSION = {"GB": "UK", "NZ": "NZ", "AU": "AU", "US": "US"}
TIMEZONE = {
    "GB": "GMTSTANDARDTIME",
    "NZ": "NEWZEALANDSTANDARDTIME",
    "AU": "AUSEASTERNSTANDARDTIME",
    "US": "EASTERNSTANDARDTIME",
}


def tax_rate_body(
    tax_type: str, name: str, report_tax_type: str, rate: str, component: str = "Tax"
) -> dict[str, Any]:
    value = Decimal(rate)
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report_tax_type,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": report_tax_type != "OUTPUT",
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": report_tax_type != "INPUT",
        "DisplayTaxRate": value,
        "EffectiveRate": value,
        "Status": "ACTIVE",
        "TaxComponents": [{"Name": component, "Rate": value, "IsCompound": False, "IsNonRecoverable": False}],
    }


def tax_rates_for(tenant: Tenant) -> list[dict[str, Any]]:
    component = TAX_LIABILITY_NAME.get(tenant.country, "Tax")
    return [
        tax_rate_body(*row, component=component) for row in TAX_RATES.get(tenant.country, TAX_RATES_OTHER)
    ]


def no_tax_type(tenant: Tenant) -> str:
    return NO_TAX.get(tenant.country, "NONE")


def account_id(tenant: Tenant, code: str) -> str:
    # Derived, not random: two first calls racing to seed produce the same rows, and one insert wins.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-xero:{tenant.tenant_id}:account:{code}"))


def accounts_for(tenant: Tenant) -> list[dict[str, Any]]:
    now = wire.ms_datetime(wire.truncate_ms(tenant.created_at))
    tax_by_use = {
        "sales": SALES_TAX.get(tenant.country, "NONE"),
        "purchases": PURCHASES_TAX.get(tenant.country, "NONE"),
        "none": no_tax_type(tenant),
    }
    bodies = []
    for code, name, account_type, tax_use, system in CHART:
        label = TAX_LIABILITY_NAME.get(tenant.country, name) if system == "GST" else name
        body: dict[str, Any] = {
            "AccountID": account_id(tenant, code),
            "Code": code,
            "Name": label,
            "Status": "ACTIVE",
            "Type": account_type,
            "TaxType": tax_by_use[tax_use],
            "Class": CLASS_BY_TYPE[account_type],
            "EnablePaymentsToAccount": False,
            "ShowInExpenseClaims": False,
            "HasAttachments": False,
            "AddToWatchlist": False,
            "UpdatedDateUTC": now,
        }
        if system:
            body["SystemAccount"] = system
        if account_type == "BANK":
            body["BankAccountNumber"] = "0000000000"
            body["BankAccountType"] = "BANK"
            body["CurrencyCode"] = tenant.base_currency
        bodies.append(body)
    return bodies


def organisation_body(tenant: Tenant) -> dict[str, Any]:
    return {
        "OrganisationID": tenant.tenant_id,
        "Name": tenant.name,
        "LegalName": tenant.name,
        "PaysTax": True,
        "Version": VERSION.get(tenant.country, "GLOBAL"),
        "OrganisationType": "COMPANY",
        "BaseCurrency": tenant.base_currency,
        "CountryCode": tenant.country,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3 if tenant.country in ("GB", "NZ") else 6 if tenant.country == "AU" else 12,
        "SalesTaxBasis": "ACCRUALS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": wire.envelope_datetime(wire.truncate_ms(tenant.created_at)),
        "OrganisationEntityType": "COMPANY",
        "Timezone": TIMEZONE.get(tenant.country, "UTC"),
        "ShortCode": tenant.short_code,
        "Edition": "BUSINESS",
        "Class": "PREMIUM",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def defaults_ensure(*, tenant: Tenant) -> None:
    """Give an organisation that has no tax rates (or no accounts) its country's defaults."""
    from sandbox.xero.api.entities import ENTITIES

    records = XeroRecord.objects.filter(tenant=tenant)
    missing_tax = not records.filter(collection="TaxRates").exists()
    missing_accounts = not records.filter(collection="Accounts").exists()
    if not (missing_tax or missing_accounts):
        return
    bodies: list[tuple[str, dict[str, Any]]] = []
    if missing_tax:
        bodies.extend(("TaxRates", body) for body in tax_rates_for(tenant))
    if missing_accounts:
        bodies.extend(("Accounts", body) for body in accounts_for(tenant))
    rows = [
        XeroRecord(
            tenant=tenant,
            collection=collection,
            body=wire.encode(ENTITIES[collection].ordered(body)),
            **ENTITIES[collection].column_values(body),
        )
        for collection, body in bodies
    ]
    with transaction.atomic(using="sandbox"):
        # Two first calls racing both seed the same ids; the unique key keeps one copy.
        XeroRecord.objects.bulk_create(rows, ignore_conflicts=True)
