"""Line items and document totals, computed as Xero does.

Per line: LineAmount = Quantity * UnitAmount less any discount, rounded to the cent; its tax is rounded per
line from the tax rate's effective rate: on top of the line (Exclusive), inside it (Inclusive) or none
(NoTax). Totals are sums of the rounded lines. Decimal and ROUND_HALF_UP throughout."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.xero.api import wire
from sandbox.xero.api.entity import Draft

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def as_decimal(value: Any) -> Decimal:
    """A stored amount as a Decimal (absent means zero)."""
    return value if isinstance(value, Decimal) else Decimal(value or 0)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def unit_places(unitdp: int) -> Decimal:
    return Decimal(1).scaleb(-unitdp)


def round_units(value: Decimal, unitdp: int) -> Decimal:
    """A unit price as stored: at most `unitdp` decimals (Xero keeps 4 only when asked with unitdp=4)."""
    if wire.places(value) <= unitdp:
        return value
    return value.quantize(unit_places(unitdp), rounding=ROUND_HALF_UP)


@dataclass
class Totals:
    sub_total: Decimal = ZERO
    total_tax: Decimal = ZERO
    total: Decimal = ZERO
    total_discount: Decimal = ZERO
    discounted: bool = False


# --- reference lookups shared by every document ----------------------------------------------------------


def account_by_code(draft: Draft, code: str) -> dict[str, Any] | None:
    found = [body for body in draft.ws.find("Accounts", "number", code) if body.get("Status") != "DELETED"]
    return found[0] if found else None


def account_by_id(draft: Draft, account_id: str) -> dict[str, Any] | None:
    body = draft.ws.get("Accounts", account_id) or draft.ws.get("Accounts", account_id.lower())
    return body if body is not None and body.get("Status") != "DELETED" else None


def usable_account(draft: Draft, *, code: str | None, account_id: str | None) -> dict[str, Any] | None:
    """The active account a line or payment names, or None after recording Xero's error."""
    account = None
    if account_id:
        account = account_by_id(draft, account_id)
    elif code:
        account = account_by_code(draft, code)
    if account is None or account.get("Status", "ACTIVE") != "ACTIVE":
        draft.error(f"Account code '{code or account_id or ''}' is not a valid code for this document.")
        return None
    return account


def tax_rate(draft: Draft, tax_type: str) -> Decimal | None:
    rate = draft.ws.get("TaxRates", tax_type)
    if rate is None or rate.get("Status", "ACTIVE") != "ACTIVE":
        draft.error(
            f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction."
        )
        return None
    return Decimal(rate.get("EffectiveRate") or 0)


def line_tax(line_amount: Decimal, rate: Decimal, line_amount_types: str) -> Decimal:
    if line_amount_types == "Exclusive":
        return money(line_amount * rate / HUNDRED)
    if line_amount_types == "Inclusive":
        return money(line_amount * rate / (HUNDRED + rate))
    return ZERO


def tracking(draft: Draft, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Line tracking named by {Name, Option} or by ids, resolved against the active categories."""
    if not given:
        return []
    if len(given) > 2:
        draft.error("A line item can have a maximum of two tracking categories.")
    categories = [c for c in draft.ws.all("TrackingCategories") if c.get("Status", "ACTIVE") == "ACTIVE"]
    result = []
    for reference in given:
        category_id = str(reference.get("TrackingCategoryID") or "").lower()
        name = str(reference.get("Name") or "").lower()
        category = next(
            (
                c
                for c in categories
                if (category_id and str(c["TrackingCategoryID"]).lower() == category_id)
                or (not category_id and name and str(c.get("Name", "")).lower() == name)
            ),
            None,
        )
        option_id = str(reference.get("TrackingOptionID") or "").lower()
        option_name = str(reference.get("Option") or "").lower()
        option = None
        if category is not None:
            option = next(
                (
                    o
                    for o in category.get("Options", [])
                    if o.get("Status", "ACTIVE") == "ACTIVE"
                    and (
                        (option_id and str(o["TrackingOptionID"]).lower() == option_id)
                        or (not option_id and option_name and str(o.get("Name", "")).lower() == option_name)
                    )
                ),
                None,
            )
        if category is None or option is None:
            label = reference.get("Name") or reference.get("TrackingCategoryID") or ""
            choice = reference.get("Option") or reference.get("TrackingOptionID") or ""
            draft.error(f"The tracking category '{label}' option '{choice}' is not valid.")
            continue
        result.append(
            {
                "Name": category["Name"],
                "Option": option["Name"],
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
            }
        )
    return result


# --- invoices, credit notes, purchase orders -------------------------------------------------------------


def document_lines(
    draft: Draft, given: list[dict[str, Any]], *, line_amount_types: str, sales: bool
) -> tuple[list[dict[str, Any]], Totals]:
    previous_ids = {line.get("LineItemID") for line in (draft.before or {}).get("LineItems", [])}
    lines = [_document_line(draft, raw, previous_ids, line_amount_types, sales) for raw in given]
    totals = Totals()
    for line in lines:
        totals.total_tax += line["TaxAmount"]
        if line_amount_types == "Inclusive":
            totals.total += line["LineAmount"]
        else:
            totals.sub_total += line["LineAmount"]
        if "DiscountRate" in line or "DiscountAmount" in line:
            totals.discounted = True
            gross = line.get("Quantity", Decimal(1)) * line.get("UnitAmount", ZERO)
            totals.total_discount += money(gross) - line["LineAmount"]
    if line_amount_types == "Inclusive":
        totals.sub_total = totals.total - totals.total_tax
    else:
        totals.total = totals.sub_total + totals.total_tax
    return lines, totals


def _document_line(
    draft: Draft, raw: dict[str, Any], previous_ids: set[Any], line_amount_types: str, sales: bool
) -> dict[str, Any]:
    line: dict[str, Any] = {}
    line_id = raw.get("LineItemID")
    line["LineItemID"] = line_id if line_id and line_id in previous_ids else draft.ws.new_id()

    item: dict[str, Any] | None = None
    details: dict[str, Any] = {}
    if raw.get("ItemCode"):
        found = draft.ws.find("Items", "number", raw["ItemCode"])
        if not found:
            draft.error(f"Item code '{raw['ItemCode']}' is not valid.")
        else:
            item = found[0]
            details = item.get("SalesDetails" if sales else "PurchaseDetails") or {}
    item_description = (item or {}).get("Description" if sales else "PurchaseDescription")
    description = raw.get("Description", item_description)
    if description is not None:
        line["Description"] = description

    unit = raw.get("UnitAmount", details.get("UnitPrice"))
    given_amount = raw.get("LineAmount")
    quantity = raw.get("Quantity")
    if quantity is None and (unit is not None or given_amount is not None):
        quantity = Decimal("1.0")
    if quantity is not None:
        line["Quantity"] = round_units(quantity, 4)
    if item is not None:
        line["ItemCode"] = item["Code"]
        line["Item"] = {"ItemID": item["ItemID"], "Name": item.get("Name", ""), "Code": item["Code"]}

    account = None
    code = raw.get("AccountCode") or (None if raw.get("AccountID") else details.get("AccountCode"))
    if code or raw.get("AccountID"):
        account = usable_account(draft, code=code, account_id=raw.get("AccountID"))
    if account is not None:
        line["AccountCode"] = account.get("Code", "")
        line["AccountID"] = account["AccountID"]

    tax_type = raw.get("TaxType") or details.get("TaxType") or (account or {}).get("TaxType")
    rate = ZERO
    if tax_type:
        line["TaxType"] = tax_type
        rate = tax_rate(draft, tax_type) or ZERO

    discount_rate = raw.get("DiscountRate")
    discount_amount = raw.get("DiscountAmount")
    if unit is not None:
        unit = round_units(unit, draft.unitdp)
        gross = line["Quantity"] * unit
        if discount_rate is not None:
            gross = gross * (HUNDRED - discount_rate) / HUNDRED
        if discount_amount is not None:
            gross -= discount_amount
        line_amount = money(gross)
        if given_amount is not None and money(given_amount) != line_amount:
            draft.error(
                f"The line total ({money(given_amount)}) does not match the expected line total ({line_amount})."
            )
        line["UnitAmount"] = unit
    elif given_amount is not None:
        line_amount = money(given_amount)
        if line["Quantity"]:
            line["UnitAmount"] = round_units(line_amount / line["Quantity"], draft.unitdp)
    else:
        line_amount = ZERO

    if "TaxAmount" in raw and line_amount_types != "NoTax":
        # Xero lets a client override the calculated tax of a line.
        tax = money(raw["TaxAmount"])
    else:
        tax = line_tax(line_amount, rate, line_amount_types)
    line["TaxAmount"] = tax
    line["LineAmount"] = line_amount
    if discount_rate is not None:
        line["DiscountRate"] = discount_rate
    if discount_amount is not None:
        line["DiscountAmount"] = money(discount_amount)
    line["Tracking"] = tracking(draft, raw.get("Tracking") or [])
    return line


# --- manual journals -------------------------------------------------------------------------------------


def journal_lines(
    draft: Draft, given: list[dict[str, Any]], *, line_amount_types: str
) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    """The journal's lines, and its total debits and credits (gross of tax)."""
    lines = []
    debits = credits = ZERO
    for raw in given:
        line: dict[str, Any] = {}
        if raw.get("Description") is not None:
            line["Description"] = raw["Description"]
        account = usable_account(draft, code=raw.get("AccountCode"), account_id=raw.get("AccountID"))
        if account is not None:
            line["AccountCode"] = account.get("Code", "")
            line["AccountID"] = account["AccountID"]
        amount = raw.get("LineAmount")
        if amount is None:
            draft.error("Each journal line must have a LineAmount.")
            amount = ZERO
        amount = money(amount)
        tax_type = raw.get("TaxType") or (account or {}).get("TaxType")
        rate = ZERO
        if tax_type:
            line["TaxType"] = tax_type
            rate = tax_rate(draft, tax_type) or ZERO
        if "TaxAmount" in raw and line_amount_types != "NoTax":
            tax = money(raw["TaxAmount"])
        else:
            tax = line_tax(abs(amount), rate, line_amount_types)
            if amount < 0:
                # ZERO - tax: a credit line's tax is negative, and never the "-0.00" that negation gives.
                tax = ZERO - tax
        gross = amount + tax if line_amount_types == "Exclusive" else amount
        if gross > 0:
            debits += gross
        else:
            credits -= gross
        line["LineAmount"] = amount
        line["TaxAmount"] = tax
        line["Tracking"] = tracking(draft, raw.get("Tracking") or [])
        line["IsBlank"] = False
        lines.append(line)
    return lines, debits, credits
