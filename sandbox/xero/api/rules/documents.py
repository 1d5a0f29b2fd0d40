"""Invoices, credit notes, purchase orders and manual journals: type, contact, dates, lines, totals, and
what is still due."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.xero.api import wire
from sandbox.xero.api.entity import Draft
from sandbox.xero.api.lines import ZERO, as_decimal, document_lines, journal_lines
from sandbox.xero.api.rules.contacts import contact_summary, mark_contact, resolve_contact

SETTLED_EDIT = "This document cannot be edited as it has a payment or credit note allocated to it."


def settled(before: dict[str, Any] | None) -> bool:
    if before is None:
        return False
    return bool(before.get("Payments") or before.get("CreditNotes") or before.get("Allocations")) or any(
        as_decimal(before.get(key)) > 0 for key in ("AmountPaid", "AmountCredited")
    )


def _document(draft: Draft, *, sales_kinds: frozenset[str], fixed_kind: str | None = None) -> None:
    """What invoices, credit notes and purchase orders share: type, contact, dates, currency, lines, totals."""
    body, values, before = draft.body, draft.values, draft.before
    if fixed_kind:
        body["Type"] = fixed_kind
    elif draft.creating:
        if values.get("Type"):
            body["Type"] = values["Type"]
        else:
            draft.error(f"{draft.entity.singular} Type must be specified.")
    elif values.get("Type") and values["Type"] != (before or {}).get("Type"):
        draft.error(f"The Type of an existing {draft.entity.singular} cannot be changed.")
        body["Type"] = (before or {}).get("Type")
    sales = body.get("Type") in sales_kinds

    if settled(before) and any(
        key in values for key in ("Contact", "LineItems", "LineAmountTypes", "CurrencyCode")
    ):
        draft.error(SETTLED_EDIT)

    if draft.creating or "Contact" in values:
        contact = resolve_contact(draft, values.get("Contact"))
        if contact is not None:
            body["Contact"] = contact_summary(contact)
            if not fixed_kind:
                mark_contact(draft.ws, contact, "IsCustomer" if sales else "IsSupplier")

    body["Date"] = body.get("Date") or wire.ms_date(draft.today)
    body["DateString"] = wire.iso_day(wire.day_of(body["Date"]) or draft.today)
    for key in ("DueDate", "DeliveryDate"):
        day = wire.day_of(body.get(key))
        if day is not None:
            body[f"{key}String"] = wire.iso_day(day)
    body.setdefault("CurrencyCode", draft.ws.tenant.base_currency)
    body.setdefault("CurrencyRate", Decimal("1.0"))

    line_amount_types = draft.value("LineAmountTypes") or "Exclusive"
    body["LineAmountTypes"] = line_amount_types
    if draft.creating or "LineItems" in values or "LineAmountTypes" in values:
        if "LineItems" in values:
            given = values["LineItems"]
        else:
            # Restating stored lines under new LineAmountTypes: their tax is recalculated.
            given = [
                {k: v for k, v in line.items() if k != "TaxAmount"} for line in body.get("LineItems", [])
            ]
        lines, totals = document_lines(draft, given, line_amount_types=line_amount_types, sales=sales)
        body["LineItems"] = lines
        body["SubTotal"] = totals.sub_total
        body["TotalTax"] = totals.total_tax
        body["Total"] = totals.total
        body["IsDiscounted"] = totals.discounted
        if totals.discounted:
            body["TotalDiscount"] = totals.total_discount
        else:
            body.pop("TotalDiscount", None)
        if totals.total < 0:
            draft.error(f"The {draft.entity.singular} total cannot be negative.")
    body.setdefault("IsDiscounted", False)
    body.setdefault("HasErrors", False)
    body.setdefault("HasAttachments", False)


def _zero_total_paid(draft: Draft, remaining_key: str) -> None:
    # Approving a document worth nothing settles it at once, as Xero does.
    body = draft.body
    if body.get("Status") == "AUTHORISED" and body.get("Total") == 0 and body.get(remaining_key) == 0:
        body["Status"] = "PAID"
        body["FullyPaidOnDate"] = body["Date"]


def build_invoice(draft: Draft) -> None:
    _document(draft, sales_kinds=frozenset({"ACCREC"}))
    body = draft.body
    for key in ("Payments", "CreditNotes", "Prepayments", "Overpayments"):
        body.setdefault(key, [])
    paid = as_decimal(body.get("AmountPaid"))
    credited = as_decimal(body.get("AmountCredited"))
    body["AmountPaid"] = body.get("AmountPaid", ZERO)
    body["AmountCredited"] = body.get("AmountCredited", ZERO)
    status = draft.status_after
    if status == "VOIDED" and settled(draft.before):
        draft.error("An invoice with payments or credit notes allocated cannot be voided. Remove them first.")
    if status in ("VOIDED", "DELETED"):
        body["AmountDue"] = ZERO
        return
    due = as_decimal(body.get("Total")) - paid - credited
    if due < 0:
        draft.error(
            f"The invoice total cannot be less than the amount already paid or credited ({paid + credited})."
        )
    body["AmountDue"] = due
    _zero_total_paid(draft, "AmountDue")


def build_credit_note(draft: Draft) -> None:
    _document(draft, sales_kinds=frozenset({"ACCRECCREDIT"}))
    body = draft.body
    body.setdefault("Allocations", [])
    body.setdefault("Payments", [])
    used = sum((as_decimal(a.get("Amount")) for a in body["Allocations"]), ZERO) + sum(
        (as_decimal(p.get("Amount")) for p in body["Payments"]), ZERO
    )
    status = draft.status_after
    if status == "VOIDED" and settled(draft.before):
        draft.error("A credit note with allocations or refunds cannot be voided. Remove them first.")
    if status in ("VOIDED", "DELETED"):
        body["RemainingCredit"] = ZERO
        return
    remaining = as_decimal(body.get("Total")) - used
    if remaining < 0:
        draft.error(f"The credit note total cannot be less than the credit already used ({used}).")
    body["RemainingCredit"] = remaining
    _zero_total_paid(draft, "RemainingCredit")


def build_purchase_order(draft: Draft) -> None:
    _document(draft, sales_kinds=frozenset(), fixed_kind="PURCHASEORDER")
    body = draft.body
    if "SentToContact" in draft.values and draft.status_after not in ("AUTHORISED", "BILLED"):
        draft.warnings.append("Only AUTHORISED and BILLED purchase orders may have SentToContact updated.")
        body["SentToContact"] = (draft.before or {}).get("SentToContact", False)
    body.setdefault("SentToContact", False)


def credit_note_event_data(body: dict[str, Any]) -> dict[str, Any]:
    return {"Type": body.get("Type"), "Status": body.get("Status")}


def build_manual_journal(draft: Draft) -> None:
    body, values = draft.body, draft.values
    if not str(body.get("Narration") or "").strip():
        draft.error("The Narration field is mandatory.")
    body["Date"] = body.get("Date") or wire.ms_date(draft.today)
    line_amount_types = draft.value("LineAmountTypes") or "NoTax"
    body["LineAmountTypes"] = line_amount_types
    if draft.creating or "JournalLines" in values or "LineAmountTypes" in values:
        given = values.get("JournalLines")
        if given is None:
            given = [
                {k: v for k, v in line.items() if k != "TaxAmount"} for line in body.get("JournalLines", [])
            ]
        if len(given) < 2:
            draft.error("A manual journal must have at least two journal lines.")
        lines, debits, credits = journal_lines(draft, given, line_amount_types=line_amount_types)
        if debits != credits:
            draft.error(f"The total debits ({debits}) must equal total credits ({credits}).")
        body["JournalLines"] = lines
    body.setdefault("ShowOnCashBasisReports", True)
    body.setdefault("HasAttachments", False)
