"""Loading real Xero payloads into an emulated organisation.

Any GET response body (or a file of one) shaped like Xero's — `{"Invoices": [...]}`, with or without the
envelope fields — is stored document by document, keeping every id, number, date and amount exactly as
given, so the same documents come back through the API unchanged. The one thing changed is a known defect
of Xero's published examples: booleans and decimals given as strings ("false", "50.00") are stored as the
real JSON types the live API returns."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sandbox.imports import ImportFailed, ImportReport
from sandbox.models import Tenant
from sandbox.xero.api import services, wire
from sandbox.xero.api.entities import BY_ARRAY_KEY
from sandbox.xero.api.workspace import new_id

ENVELOPE_KEYS = frozenset({"Id", "Status", "ProviderName", "DateTimeUTC", "pagination", "Warnings"})
# How a write response reports on an element, not part of the document.
OUTCOME_KEYS = ("StatusAttributeString", "ValidationErrors", "Warnings")

# Fields Xero types as booleans / numbers, wherever they appear in a document.
BOOLEAN_FIELDS = frozenset(
    {
        "AddToWatchlist",
        "CanApplyToAssets",
        "CanApplyToEquity",
        "CanApplyToExpenses",
        "CanApplyToLiabilities",
        "CanApplyToRevenue",
        "EnablePaymentsToAccount",
        "HasAccount",
        "HasAttachments",
        "HasErrors",
        "HasValidationErrors",
        "IncludeInEmails",
        "IsBlank",
        "IsCompound",
        "IsCustomer",
        "IsDeleted",
        "IsDemoCompany",
        "IsDiscounted",
        "IsNonRecoverable",
        "IsPurchased",
        "IsReconciled",
        "IsSold",
        "IsSupplier",
        "IsTrackedAsInventory",
        "PaysTax",
        "SentToContact",
        "ShowInExpenseClaims",
        "ShowOnCashBasisReports",
    }
)
DECIMAL_FIELDS = frozenset(
    {
        "Amount",
        "AmountCredited",
        "AmountDue",
        "AmountPaid",
        "AppliedAmount",
        "BankAmount",
        "CurrencyRate",
        "DiscountAmount",
        "DiscountRate",
        "DisplayTaxRate",
        "EffectiveRate",
        "LineAmount",
        "Outstanding",
        "Overdue",
        "Quantity",
        "QuantityOnHand",
        "Rate",
        "RemainingCredit",
        "SubTotal",
        "TaxAmount",
        "Total",
        "TotalAmount",
        "TotalCostPool",
        "TotalDiscount",
        "TotalTax",
        "UnitAmount",
        "UnitPrice",
    }
)


def normalise(value: Any, key: str | None = None) -> Any:
    """Real JSON types for fields Xero's examples give as strings; everything else untouched."""
    if isinstance(value, dict):
        return {name: normalise(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str) and key in BOOLEAN_FIELDS and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, str) and key in DECIMAL_FIELDS:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    if isinstance(value, int) and not isinstance(value, bool) and key in DECIMAL_FIELDS:
        return Decimal(value)
    return value


def xero_payload_import(*, tenant: Tenant, payload: Any) -> ImportReport:
    """Store every document of a Xero response body in the organisation (replacing same-id documents)."""
    if not isinstance(payload, dict):
        raise ImportFailed('A Xero payload is a JSON object such as {"Invoices": [...]}.')
    report = ImportReport()
    for key, documents in payload.items():
        if key in ENVELOPE_KEYS:
            continue
        entity = BY_ARRAY_KEY.get(key)
        if entity is None or not isinstance(documents, list):
            report.skipped.append(key)
            continue
        bodies = []
        for document in documents:
            if not isinstance(document, dict):
                raise ImportFailed(f"{key} holds something other than documents: {document!r}")
            if document.get("StatusAttributeString") == "ERROR":
                continue  # an element Xero refused was never stored
            body = {name: value for name, value in normalise(document).items() if name not in OUTCOME_KEYS}
            if not body.get(entity.id_field):
                if entity.id_field == "TaxType":
                    raise ImportFailed("A tax rate needs its TaxType.")
                body[entity.id_field] = new_id()
            bodies.append(body)
        report.counts[entity.plural] = services.records_bulk_insert(
            tenant=tenant, collection=entity.plural, bodies=bodies
        )
    return report


def xero_path_import(*, tenant: Tenant, path: Path) -> ImportReport:
    """Import one .json file, or every .json file of a directory (in name order)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    report = ImportReport()
    for file in files:
        try:
            payload = wire.decode(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ImportFailed(f"{file}: {error}") from error
        if not isinstance(payload, dict):
            report.skipped.append(file.name)
            continue
        report.merge(xero_payload_import(tenant=tenant, payload=payload))
    return report
