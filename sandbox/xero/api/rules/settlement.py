"""Payments, batch payments and credit note allocations, and how they move a document's AmountDue or
RemainingCredit (to PAID when nothing is left, back to AUTHORISED when a payment goes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.xero.api import wire
from sandbox.xero.api.entity import Draft
from sandbox.xero.api.lines import ZERO, account_by_code, account_by_id, as_decimal, money
from sandbox.xero.api.workspace import Workspace

PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def _later(a: str | None, b: str | None) -> str | None:
    moments = [(wire.parse_ms(text), text) for text in (a, b) if text]
    dated = [(moment, text) for moment, text in moments if moment is not None]
    return max(dated)[1] if dated else None


def settle(ws: Workspace, collection: str, document: dict[str, Any]) -> None:
    """Recompute what is paid, credited and still due from the document's own payment and credit lists,
    moving it to PAID when nothing is left (and back to AUTHORISED when a payment is removed)."""
    entries = list(document.get("Payments", []))
    if collection == "Invoices":
        paid = sum((as_decimal(p.get("Amount")) for p in entries), ZERO)
        credits = document.get("CreditNotes", [])
        credited = sum((as_decimal(c.get("AppliedAmount")) for c in credits), ZERO)
        document["AmountPaid"] = paid
        document["AmountCredited"] = credited
        left = as_decimal(document.get("Total")) - paid - credited
        document["AmountDue"] = left
        entries.extend(credits)
    else:
        allocations = document.get("Allocations", [])
        used = sum((as_decimal(a.get("Amount")) for a in [*entries, *allocations]), ZERO)
        left = as_decimal(document.get("Total")) - used
        document["RemainingCredit"] = left
        entries.extend(allocations)
    if left == 0 and document.get("Status") == "AUTHORISED":
        document["Status"] = "PAID"
        last: str | None = None
        for entry in entries:
            last = _later(last, entry.get("Date"))
        document["FullyPaidOnDate"] = last or document.get("Date")
    elif left > 0 and document.get("Status") == "PAID":
        document["Status"] = "AUTHORISED"
        document.pop("FullyPaidOnDate", None)
    ws.put(collection, document)


def document_reference(collection: str, document: dict[str, Any]) -> dict[str, Any]:
    """How a payment embeds the document it pays. Xero lists credit-note refunds under "Invoice" too."""
    number_key = "InvoiceNumber" if collection == "Invoices" else "CreditNoteNumber"
    id_key = "InvoiceID" if collection == "Invoices" else "CreditNoteID"
    reference: dict[str, Any] = {
        "Type": document.get("Type"),
        "InvoiceID": document[id_key],
        "InvoiceNumber": document.get(number_key, ""),
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
    }
    if document.get("Contact"):
        reference["Contact"] = document["Contact"]
    reference["LineItems"] = []
    reference["CurrencyCode"] = document.get("CurrencyCode")
    return reference


def _payable(draft: Draft, reference: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The invoice or credit note a payment names (by id or number), or None after recording the error."""
    ws = draft.ws
    invoice = reference.get("Invoice") or {}
    credit_note = reference.get("CreditNote") or {}
    document_id = invoice.get("InvoiceID") or credit_note.get("CreditNoteID")
    if document_id:
        for collection in ("Invoices", "CreditNotes"):
            found = ws.get(collection, str(document_id)) or ws.get(collection, str(document_id).lower())
            if found is not None:
                return collection, found
        draft.error(f"The document with ID '{document_id}' could not be found.")
        return None
    for collection, number in (
        ("Invoices", invoice.get("InvoiceNumber") or reference.get("InvoiceNumber")),
        ("CreditNotes", credit_note.get("CreditNoteNumber") or reference.get("CreditNoteNumber")),
    ):
        if number:
            matches = ws.find(collection, "number", str(number))
            if not matches:
                draft.error(f"The document with number '{number}' could not be found.")
                return None
            return collection, matches[0]
    draft.error("A payment must be applied to an Invoice or a CreditNote.")
    return None


def _payment_account(
    draft: Draft, reference: dict[str, Any] | None, code: str | None
) -> dict[str, Any] | None:
    reference = reference or {}
    account = None
    if reference.get("AccountID"):
        account = account_by_id(draft, str(reference["AccountID"]))
    elif reference.get("Code") or code:
        account = account_by_code(draft, str(reference.get("Code") or code))
    else:
        draft.error("An Account must be specified for the payment.")
        return None
    if account is None or account.get("Status", "ACTIVE") != "ACTIVE":
        named = reference.get("Code") or code or reference.get("AccountID")
        draft.error(f"Account code '{named}' is not a valid code for this document.")
        return None
    if account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        draft.error("Account type is invalid for making a payment to/from.")
        return None
    return account


def _apply_payment(
    draft: Draft,
    target: tuple[str, dict[str, Any]],
    *,
    payment_id: str,
    amount: Any,
    date: str,
    reference: str,
    currency_rate: Decimal,
) -> tuple[str, dict[str, Any]] | None:
    """Check a payment against its document and stage the document's new amounts."""
    collection, document = target
    if amount is None or amount <= 0:
        draft.error("The payment amount must be greater than zero.")
        return None
    amount = money(amount)
    if document.get("Status") != "AUTHORISED":
        draft.error("Payments can only be made against Authorised documents.")
        return None
    outstanding = document.get("AmountDue") if collection == "Invoices" else document.get("RemainingCredit")
    if amount > as_decimal(outstanding):
        draft.error("Payment amount exceeds the amount outstanding on this document.")
        return None
    changed = wire.clone(document)
    summary: dict[str, Any] = {"PaymentID": payment_id, "Date": date, "Amount": amount}
    if reference:
        summary["Reference"] = reference
    summary.update(CurrencyRate=currency_rate, HasAccount=False, HasValidationErrors=False)
    changed.setdefault("Payments", []).append(summary)
    settle(draft.ws, collection, changed)
    return collection, changed


def build_payment(draft: Draft) -> None:
    body, values = draft.body, draft.values
    if not draft.creating:
        before = draft.before or {}
        unchanged = all(
            values[key] == before.get(key) for key in values if key not in ("PaymentID", "Status")
        )
        if not unchanged:
            draft.error("A payment cannot be changed; delete it and create a new one instead.")
        if draft.status_after == "DELETED" and draft.status_before != "DELETED":
            if before.get("BatchPaymentID"):
                draft.error("This payment is part of a batch payment; delete the batch payment instead.")
            else:
                payment_remove(draft.ws, before)
        return
    target = _payable(draft, values)
    account = _payment_account(draft, values.get("Account"), values.get("Code"))
    if target is None or account is None:
        return
    date = values.get("Date") or wire.ms_date(draft.today)
    rate = values.get("CurrencyRate") or Decimal("1.0")
    applied = _apply_payment(
        draft,
        target,
        payment_id=body["PaymentID"],
        amount=values.get("Amount"),
        date=date,
        reference=values.get("Reference", ""),
        currency_rate=rate,
    )
    if applied is None:
        return
    collection, document = applied
    amount = money(values["Amount"])
    body.update(
        Date=date,
        BankAmount=amount,
        Amount=amount,
        Reference=values.get("Reference", ""),
        CurrencyRate=rate,
        PaymentType=PAYMENT_TYPES.get(document.get("Type", ""), "ACCRECPAYMENT"),
        HasAccount=True,
        IsReconciled=values.get("IsReconciled", False),
        Account={"AccountID": account["AccountID"], "Code": account.get("Code", "")},
        Invoice=document_reference(collection, document),
        HasValidationErrors=False,
    )
    for key in ("InvoiceNumber", "CreditNoteNumber", "Code", "CreditNote"):
        body.pop(key, None)


def payment_remove(ws: Workspace, payment: dict[str, Any]) -> None:
    """Take a deleted payment off its invoice or credit note, restoring what is due."""
    document_id = (payment.get("Invoice") or {}).get("InvoiceID") or (payment.get("CreditNote") or {}).get(
        "CreditNoteID"
    )
    for collection in ("Invoices", "CreditNotes"):
        document = ws.get(collection, str(document_id)) if document_id else None
        if document is not None:
            changed = wire.clone(document)
            changed["Payments"] = [
                p for p in changed.get("Payments", []) if p.get("PaymentID") != payment["PaymentID"]
            ]
            settle(ws, collection, changed)
            return


def build_batch_payment(draft: Draft) -> None:
    body, values, ws = draft.body, draft.values, draft.ws
    if not draft.creating:
        before = draft.before or {}
        if any(values[key] != before.get(key) for key in values if key not in ("BatchPaymentID", "Status")):
            draft.error("A batch payment cannot be changed; delete it and create a new one instead.")
        if draft.status_after == "DELETED" and draft.status_before != "DELETED":
            for entry in before.get("Payments", []):
                payment = ws.get("Payments", entry["PaymentID"])
                if payment is None or payment.get("Status") == "DELETED":
                    continue
                deleted = wire.clone(payment)
                deleted["Status"] = "DELETED"
                ws.put("Payments", deleted)
                payment_remove(ws, payment)
        return
    account = _payment_account(draft, values.get("Account"), values.get("Code"))
    given = values.get("Payments") or []
    if not given:
        draft.error("A batch payment must contain at least one payment.")
    if account is None or not given:
        return
    date = values.get("Date") or wire.ms_date(draft.today)
    created: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
    kinds: set[str] = set()
    for entry in given:
        target = _payable(draft, entry)
        if target is None:
            continue
        collection, document = target
        if collection != "Invoices":
            draft.error("Batch payments can only pay invoices and bills.")
            continue
        kinds.add(document.get("Type", ""))
        payment_id = ws.new_id()
        applied = _apply_payment(
            draft,
            target,
            payment_id=payment_id,
            amount=entry.get("Amount"),
            date=date,
            reference=entry.get("Reference") or values.get("Reference", ""),
            currency_rate=Decimal("1.0"),
        )
        if applied is not None:
            created.append((entry, payment_id, applied[1]))
    if len(kinds) > 1:
        draft.error("All payments in a batch must be for the same type of invoice.")
    if draft.errors:
        return
    batch_type = "RECBATCH" if kinds == {"ACCREC"} else "PAYBATCH"
    total = sum((money(entry["Amount"]) for entry, _, _ in created), ZERO)
    body.update(
        Account={"AccountID": account["AccountID"], "Code": account.get("Code", "")},
        Reference=values.get("Reference", ""),
        DateString=wire.iso_day(wire.day_of(date) or draft.today),
        Date=date,
        Payments=[],
        Type=batch_type,
        Status="AUTHORISED",
        TotalAmount=total,
        IsReconciled=values.get("IsReconciled", False),
    )
    batch_summary = {
        "Account": {"AccountID": account["AccountID"]},
        "BatchPaymentID": body["BatchPaymentID"],
        "Date": date,
        "Type": batch_type,
        "Status": "AUTHORISED",
        "TotalAmount": total,
        "UpdatedDateUTC": wire.ms_datetime(draft.now),
        "IsReconciled": body["IsReconciled"],
    }
    for entry, payment_id, document in created:
        amount = money(entry["Amount"])
        reference = document_reference("Invoices", document)
        body["Payments"].append(
            {
                "Invoice": {k: v for k, v in reference.items() if k not in ("Type", "Contact")},
                "PaymentID": payment_id,
                "Amount": amount,
                "BankAmount": amount,
            }
        )
        payment = {
            "PaymentID": payment_id,
            "BatchPaymentID": body["BatchPaymentID"],
            "BatchPayment": batch_summary,
            "Date": date,
            "BankAmount": amount,
            "Amount": amount,
            "Reference": entry.get("Reference") or values.get("Reference", ""),
            "CurrencyRate": Decimal("1.0"),
            "PaymentType": PAYMENT_TYPES[document["Type"]],
            "Status": "AUTHORISED",
            "HasAccount": True,
            "IsReconciled": body["IsReconciled"],
            "Account": {"AccountID": account["AccountID"], "Code": account.get("Code", "")},
            "Invoice": reference,
            "HasValidationErrors": False,
        }
        ws.put("Payments", payment, created=True)


# --- credit note allocations -----------------------------------------------------------------------------


def allocation_apply(
    draft: Draft, credit_note: dict[str, Any], element: dict[str, Any]
) -> dict[str, Any] | None:
    """Allocate part of a credit note to an invoice of the same contact and side; the allocation made."""
    ws = draft.ws
    invoice_reference = element.get("Invoice") or {}
    invoice: dict[str, Any] | None = None
    if invoice_reference.get("InvoiceID"):
        invoice = ws.get("Invoices", str(invoice_reference["InvoiceID"]))
    elif invoice_reference.get("InvoiceNumber"):
        found = ws.find("Invoices", "number", str(invoice_reference["InvoiceNumber"]))
        invoice = found[0] if found else None
    if invoice is None:
        draft.error("The invoice to allocate the credit note to could not be found.")
        return None
    amount = element.get("Amount")
    if amount is None or amount <= 0:
        draft.error("The allocation amount must be greater than zero.")
        return None
    amount = money(amount)
    expected = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}.get(credit_note.get("Type", ""))
    if credit_note.get("Status") != "AUTHORISED" or invoice.get("Status") != "AUTHORISED":
        draft.error("Credit notes can only be allocated when both documents are Authorised.")
    elif invoice.get("Type") != expected:
        draft.error("A credit note can only be allocated to an invoice of the matching type.")
    elif (invoice.get("Contact") or {}).get("ContactID") != (credit_note.get("Contact") or {}).get(
        "ContactID"
    ):
        draft.error("A credit note can only be allocated to an invoice of the same contact.")
    elif amount > as_decimal(credit_note.get("RemainingCredit")):
        draft.error("The allocation amount exceeds the remaining credit on the credit note.")
    elif amount > as_decimal(invoice.get("AmountDue")):
        draft.error("The allocation amount exceeds the amount due on the invoice.")
    if draft.errors:
        return None
    date = element.get("Date") or wire.ms_date(draft.today)
    allocation = {
        "AllocationID": ws.new_id(),
        "Amount": amount,
        "Date": date,
        "Invoice": {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice.get("InvoiceNumber", ""),
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
    }
    changed_note = wire.clone(credit_note)
    changed_note.setdefault("Allocations", []).append(allocation)
    settle(ws, "CreditNotes", changed_note)
    changed_invoice = wire.clone(invoice)
    changed_invoice.setdefault("CreditNotes", []).append(
        {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
            "AppliedAmount": amount,
            "Date": date,
            "Total": credit_note.get("Total"),
            "HasErrors": False,
        }
    )
    settle(ws, "Invoices", changed_invoice)
    return {
        **allocation,
        "CreditNote": {
            "CreditNoteID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
        },
    }


def allocation_remove(
    ws: Workspace, credit_note: dict[str, Any], allocation_id: str
) -> dict[str, Any] | None:
    """Undo an allocation on both documents; the allocation, marked deleted, or None if unknown."""
    allocation = next(
        (a for a in credit_note.get("Allocations", []) if a.get("AllocationID") == allocation_id), None
    )
    if allocation is None:
        return None
    changed_note = wire.clone(credit_note)
    changed_note["Allocations"] = [
        a for a in changed_note["Allocations"] if a.get("AllocationID") != allocation_id
    ]
    settle(ws, "CreditNotes", changed_note)
    invoice = ws.get("Invoices", str((allocation.get("Invoice") or {}).get("InvoiceID", "")))
    if invoice is not None:
        changed_invoice = wire.clone(invoice)
        credits = changed_invoice.get("CreditNotes", [])
        # The invoice lists the credit (note, amount, date), not the allocation id: drop the first match.
        match = next(
            (
                index
                for index, credit in enumerate(credits)
                if credit.get("CreditNoteID") == credit_note["CreditNoteID"]
                and as_decimal(credit.get("AppliedAmount")) == as_decimal(allocation.get("Amount"))
                and credit.get("Date") == allocation.get("Date")
            ),
            None,
        )
        if match is not None:
            del credits[match]
        settle(ws, "Invoices", changed_invoice)
    return {**wire.clone(allocation), "IsDeleted": True}
