"""Credit notes, their allocations to invoices and their refunds, through the unmodified SDK."""

from __future__ import annotations

from datetime import date

import pytest
from xero_python.accounting import (
    Account,
    Allocation,
    Allocations,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    LineItem,
    Payment,
    PaymentDelete,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from tests.sandbox.test_xero_api_support import D, seed_contact, seed_invoice

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def customer(xero_org) -> dict:
    return seed_contact(xero_org, "Liam Gallagher")


def credit_note(
    accounting_api, xero_org, customer, *, status="AUTHORISED", kind="ACCRECCREDIT", amount="30.00"
):
    return accounting_api.create_credit_notes(
        xero_org.tenant_id,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type=kind,
                    contact=Contact(contact_id=customer["ContactID"]),
                    date=date(2026, 3, 5),
                    status=status,
                    line_items=[
                        LineItem(
                            description="Refund", quantity=D("1"), unit_amount=D(amount), account_code="200"
                        )
                    ],
                )
            ]
        ),
    ).credit_notes[0]


def test_credit_note_totals_numbering_and_lifecycle(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    note = credit_note(accounting_api, xero_org, customer)
    assert (note.credit_note_number, note.type, note.status) == ("CN-0001", "ACCRECCREDIT", "AUTHORISED")
    assert (note.sub_total, note.total_tax, note.total, note.remaining_credit) == (
        D("30.00"),
        D("6.00"),
        D("36.00"),
        D("36.00"),
    )
    draft = credit_note(
        accounting_api, xero_org, customer, status="DRAFT", kind="ACCPAYCREDIT", amount="10.00"
    )
    assert draft.credit_note_number is None
    assert draft.line_items[0].tax_type == "OUTPUT2"
    deleted = accounting_api.update_credit_note(
        tenant, draft.credit_note_id, CreditNotes(credit_notes=[CreditNote(status="DELETED")])
    ).credit_notes[0]
    assert (deleted.status, deleted.remaining_credit) == ("DELETED", D("0.00"))
    listed = accounting_api.get_credit_notes(tenant, where='Status=="AUTHORISED"').credit_notes
    assert [n.credit_note_id for n in listed] == [note.credit_note_id]
    assert accounting_api.get_credit_note(tenant, note.credit_note_id).credit_notes[0].total == D("36.00")


def test_allocation_reduces_invoice_and_credit_then_undo(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    invoice = seed_invoice(
        xero_org,
        customer,
        {"Description": "Gig", "Quantity": D("1"), "UnitAmount": D("30.00"), "AccountCode": "200"},
    )
    note = credit_note(accounting_api, xero_org, customer, amount="20.00")  # total 24.00

    [allocation] = accounting_api.create_credit_note_allocation(
        tenant,
        note.credit_note_id,
        Allocations(
            allocations=[
                Allocation(
                    invoice=Invoice(invoice_id=invoice["InvoiceID"]), amount=D("24.00"), date=date(2026, 3, 6)
                )
            ]
        ),
    ).allocations
    assert (allocation.amount, allocation.date, allocation.invoice.invoice_id) == (
        D("24.00"),
        date(2026, 3, 6),
        invoice["InvoiceID"],
    )

    credited = accounting_api.get_invoice(tenant, invoice["InvoiceID"]).invoices[0]
    assert (credited.amount_credited, credited.amount_due, credited.status) == (
        D("24.00"),
        D("12.00"),
        "AUTHORISED",
    )
    assert credited.credit_notes[0].credit_note_id == note.credit_note_id
    used = accounting_api.get_credit_note(tenant, note.credit_note_id).credit_notes[0]
    assert (used.remaining_credit, used.status) == (D("0.00"), "PAID")
    assert used.fully_paid_on_date == date(2026, 3, 6)

    # The invoice can't be voided while credited; the credit note can't be allocated twice.
    with pytest.raises(AccountingBadRequestException):
        accounting_api.create_credit_note_allocation(
            tenant,
            note.credit_note_id,
            Allocations(
                allocations=[
                    Allocation(
                        invoice=Invoice(invoice_id=invoice["InvoiceID"]),
                        amount=D("1.00"),
                        date=date(2026, 3, 6),
                    )
                ]
            ),
        )

    removed = accounting_api.delete_credit_note_allocations(
        tenant, note.credit_note_id, allocation.allocation_id
    )
    assert (removed.allocation_id, removed.is_deleted, removed.amount) == (
        allocation.allocation_id,
        True,
        D("24.00"),
    )
    restored = accounting_api.get_invoice(tenant, invoice["InvoiceID"]).invoices[0]
    assert (restored.amount_credited, restored.amount_due, restored.credit_notes) == (
        D("0.00"),
        D("36.00"),
        [],
    )
    reopened = accounting_api.get_credit_note(tenant, note.credit_note_id).credit_notes[0]
    assert (reopened.remaining_credit, reopened.status, reopened.fully_paid_on_date) == (
        D("24.00"),
        "AUTHORISED",
        None,
    )
    with pytest.raises(NotFoundException):
        accounting_api.delete_credit_note_allocations(tenant, note.credit_note_id, allocation.allocation_id)


def test_allocation_rules(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    stranger = seed_contact(xero_org, "Someone Else")
    theirs = seed_invoice(xero_org, stranger)
    small = seed_invoice(
        xero_org,
        customer,
        {"Description": "x", "Quantity": D("1"), "UnitAmount": D("5.00"), "AccountCode": "200"},
    )
    note = credit_note(accounting_api, xero_org, customer)

    def reason(invoice_id: str, amount: str) -> str:
        with pytest.raises(AccountingBadRequestException) as raised:
            accounting_api.create_credit_note_allocation(
                tenant,
                note.credit_note_id,
                Allocations(
                    allocations=[
                        Allocation(
                            invoice=Invoice(invoice_id=invoice_id), amount=D(amount), date=date(2026, 3, 6)
                        )
                    ]
                ),
            )
        return raised.value.reason

    assert (
        reason(theirs["InvoiceID"], "1.00")
        == "A credit note can only be allocated to an invoice of the same contact."
    )
    assert (
        reason(small["InvoiceID"], "6.01") == "The allocation amount exceeds the amount due on the invoice."
    )
    assert reason(small["InvoiceID"], "0") == "The allocation amount must be greater than zero."
    assert accounting_api.get_credit_note(tenant, note.credit_note_id).credit_notes[0].remaining_credit == D(
        "36.00"
    )


def test_refund_of_credit_note_and_void_rules(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    note = credit_note(accounting_api, xero_org, customer)
    refund = accounting_api.create_payment(
        tenant,
        Payment(
            credit_note=CreditNote(credit_note_id=note.credit_note_id),
            account=Account(code="090"),
            amount=D("10.00"),
            date=date(2026, 3, 9),
            reference="Refund",
        ),
    ).payments[0]
    assert refund.payment_type == "ARCREDITPAYMENT"
    # Xero lists a credit note a payment refunds under "Invoice", with the credit note's type.
    assert (refund.invoice.invoice_id, refund.invoice.type, refund.invoice.invoice_number) == (
        note.credit_note_id,
        "ACCRECCREDIT",
        "CN-0001",
    )
    after = accounting_api.get_credit_note(tenant, note.credit_note_id).credit_notes[0]
    assert (after.remaining_credit, [p.amount for p in after.payments]) == (D("26.00"), [D("10.00")])
    with pytest.raises(AccountingBadRequestException):
        accounting_api.update_credit_note(
            tenant, note.credit_note_id, CreditNotes(credit_notes=[CreditNote(status="VOIDED")])
        )
    accounting_api.delete_payment(tenant, refund.payment_id, PaymentDelete(status="DELETED"))
    voided = accounting_api.update_credit_note(
        tenant, note.credit_note_id, CreditNotes(credit_notes=[CreditNote(status="VOIDED")])
    ).credit_notes[0]
    assert (voided.status, voided.remaining_credit, voided.payments) == ("VOIDED", D("0.00"), [])
