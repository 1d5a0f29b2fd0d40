"""The organisation's settings: accounts, items, tax rates, tracking categories and their options, and the
Organisation record itself."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from sandbox.models.xero_records import XeroRecord
from sandbox.xero.api import wire
from sandbox.xero.api.defaults import CLASS_BY_TYPE, no_tax_type, organisation_body
from sandbox.xero.api.entity import Draft
from sandbox.xero.api.lines import HUNDRED, ZERO, account_by_code, as_decimal, round_units, tax_rate
from sandbox.xero.api.workspace import Workspace


def _used_in_documents(ws: Workspace, owner: str, *fragments: str) -> bool:
    """Whether a document outside the owner's own collection mentions one of these exact JSON fragments."""
    condition = Q()
    for fragment in fragments:
        condition |= Q(body__contains=fragment)
    return XeroRecord.objects.filter(tenant=ws.tenant).exclude(collection=owner).filter(condition).exists()


def _fragment(key: str, value: str) -> str:
    return f"{wire.encode(key)}:{wire.encode(value)}"


def build_account(draft: Draft) -> None:
    body = draft.body
    if draft.creating:
        body.update({key: body.get(key, value) for key, value in _ACCOUNT_DEFAULTS.items()})
    account_type = body.get("Type")
    if not account_type:
        draft.error("Please select an Account Type.")
    if not str(body.get("Name") or "").strip():
        draft.error("Please enter a Name.")
    if account_type == "BANK":
        if not body.get("BankAccountNumber"):
            draft.error("Please enter a Bank Account Number.")
        body.setdefault("BankAccountType", "BANK")
        body.setdefault("CurrencyCode", draft.ws.tenant.base_currency)
    elif not body.get("Code"):
        draft.error("Please enter a Code.")
    before = draft.before or {}
    if not draft.creating and before.get("Type") == "BANK" and account_type != "BANK":
        draft.error("The type of a bank account cannot be changed.")
    if account_type:
        body["Class"] = CLASS_BY_TYPE.get(account_type, "EXPENSE")
    if body.get("TaxType") and "TaxType" in draft.values:
        tax_rate(draft, body["TaxType"])
    body.setdefault("TaxType", no_tax_type(draft.ws.tenant))
    if before.get("SystemAccount") and draft.status_after != draft.status_before:
        draft.error("System accounts cannot be archived.")


_ACCOUNT_DEFAULTS: dict[str, Any] = {
    "EnablePaymentsToAccount": False,
    "ShowInExpenseClaims": False,
    "HasAttachments": False,
    "AddToWatchlist": False,
}


def delete_account(draft: Draft) -> bool:
    body = draft.body
    if body.get("SystemAccount"):
        draft.error("System accounts cannot be deleted.")
    elif _used_in_documents(
        draft.ws,
        "Accounts",
        _fragment("AccountID", body["AccountID"]),
        _fragment("AccountCode", body.get("Code", "")),
    ):
        draft.error("This account has been used in transactions and cannot be deleted. Archive it instead.")
    else:
        body["Status"] = "DELETED"
    return False


def _item_details(draft: Draft, key: str) -> None:
    details = draft.body.get(key)
    if not isinstance(details, dict):
        draft.body[key] = {}
        return
    for code_key in ("AccountCode", "COGSAccountCode"):
        if details.get(code_key) and account_by_code(draft, details[code_key]) is None:
            draft.error(f"Account code '{details[code_key]}' is not a valid code for this item.")
    if details.get("TaxType"):
        tax_rate(draft, details["TaxType"])
    if details.get("UnitPrice") is not None:
        details["UnitPrice"] = round_units(details["UnitPrice"], draft.unitdp)


def build_item(draft: Draft) -> None:
    body = draft.body
    if draft.creating:
        body.setdefault("IsSold", True)
        body.setdefault("IsPurchased", True)
        body.setdefault("IsTrackedAsInventory", False)
    if not str(body.get("Code") or "").strip():
        draft.error("Item Code must be specified.")
    for key in ("PurchaseDetails", "SalesDetails"):
        _item_details(draft, key)
    if body.get("IsTrackedAsInventory"):
        code = body.get("InventoryAssetAccountCode")
        if not code or account_by_code(draft, code) is None:
            draft.error("A tracked item needs a valid InventoryAssetAccountCode.")
        body.setdefault("QuantityOnHand", ZERO)
        body.setdefault("TotalCostPool", ZERO)


def delete_item(draft: Draft) -> bool:
    return True


def build_tax_rate(draft: Draft) -> None:
    body = draft.body
    if draft.creating:
        existing = [rate["TaxType"] for rate in draft.ws.all("TaxRates")]
        numbers = [int(code[3:]) for code in existing if code.startswith("TAX") and code[3:].isdigit()]
        body["TaxType"] = f"TAX{max(numbers, default=0) + 1:03d}"
        for key in ("Assets", "Equity", "Expenses", "Liabilities", "Revenue"):
            body.setdefault(f"CanApplyTo{key}", True)
    if not str(body.get("Name") or "").strip():
        draft.error("The tax rate name must be provided.")
    components = body.get("TaxComponents") or []
    if not components:
        draft.error("A tax rate must have at least one tax component.")
    normalised = []
    simple = compound = ZERO
    for component in components:
        rate = as_decimal(component.get("Rate"))
        is_compound = bool(component.get("IsCompound", False))
        normalised.append(
            {
                "Name": component.get("Name", ""),
                "Rate": rate,
                "IsCompound": is_compound,
                "IsNonRecoverable": bool(component.get("IsNonRecoverable", False)),
            }
        )
        if is_compound:
            compound += rate
        else:
            simple += rate
    body["TaxComponents"] = normalised
    # A compound component is charged on the price plus the simple components.
    effective = simple + compound * (HUNDRED + simple) / HUNDRED
    body["DisplayTaxRate"] = simple + compound
    body["EffectiveRate"] = round_units(effective, 4)


def build_tracking_category(draft: Draft) -> None:
    body = draft.body
    body.setdefault("Options", [])
    if not str(body.get("Name") or "").strip():
        draft.error("The tracking category name must be provided.")
    becomes_active = draft.status_after == "ACTIVE" and draft.status_before != "ACTIVE"
    if becomes_active:
        others = [
            c
            for c in draft.ws.all("TrackingCategories")
            if c.get("Status", "ACTIVE") == "ACTIVE" and c["TrackingCategoryID"] != body["TrackingCategoryID"]
        ]
        if len(others) >= 2:
            draft.error("An organisation can only have 2 active tracking categories.")


def delete_tracking_category(draft: Draft) -> bool:
    body = draft.body
    if _used_in_documents(
        draft.ws, "TrackingCategories", _fragment("TrackingCategoryID", body["TrackingCategoryID"])
    ):
        draft.error(
            "This tracking category has been used in transactions and cannot be deleted. Archive it instead."
        )
    else:
        body["Status"] = "DELETED"
    return False


def tracking_option_write(
    draft: Draft, option_id: str | None, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Create (option_id None) or change an option of the category being built; the option."""
    body = draft.body
    options = body.setdefault("Options", [])
    name = values.get("Name")
    if option_id is None and not str(name or "").strip():
        draft.error("The tracking option name must be provided.")
        return None
    current = (
        next((o for o in options if o.get("TrackingOptionID") == option_id), None) if option_id else None
    )
    if option_id and current is None:
        return None
    if name is not None:
        clash = [
            o
            for o in options
            if str(o.get("Name", "")).lower() == str(name).lower()
            and o.get("TrackingOptionID") != option_id
            and o.get("Status") != "DELETED"
        ]
        if clash:
            draft.error(f"A tracking option named '{name}' already exists in this category.")
            return None
    if current is None:
        current = {"TrackingOptionID": draft.ws.new_id(), "Name": name, "Status": "ACTIVE"}
        options.append(current)
    if name is not None:
        current["Name"] = name
    if values.get("Status") in ("ACTIVE", "ARCHIVED"):
        current["Status"] = values["Status"]
    return current


def tracking_option_delete(draft: Draft, option_id: str) -> dict[str, Any] | None:
    options = draft.body.get("Options", [])
    current = next((o for o in options if o.get("TrackingOptionID") == option_id), None)
    if current is None:
        return None
    draft.body["Options"] = [o for o in options if o.get("TrackingOptionID") != option_id]
    return {**current, "Status": "DELETED"}


def organisation_fallback(ws: Workspace) -> list[dict[str, Any]]:
    return [organisation_body(ws.tenant)]
