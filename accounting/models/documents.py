"""Mirrored documents with lines: invoices and bills, credit notes, purchase orders, journals, payments."""

from __future__ import annotations

from django.db import models

from accounting.choices import (
    AllocationTargetChoices,
    DocumentKindChoices,
    DocumentStatusChoices,
    PaymentKindChoices,
)
from accounting.models.base import (
    MirrorRecord,
    exact_json,
    mirror_constraints,
    mirror_indexes,
    money,
    optional_money,
    rate,
)
from accounting.models.contacts import Contact

# The default order of dated documents' lists (the API's and the admin's).
NEWEST_FIRST = ("-issue_date", "-id")


class Document(MirrorRecord):
    """What every money document shares. `contact` is resolved from `contact_remote_id` when the
    contact is mirrored (it may arrive after the document, and is then linked by the contacts pull)."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact_remote_type = models.CharField(max_length=40, blank=True)
    contact_remote_id = models.CharField(max_length=64, blank=True)
    contact_name = models.CharField(max_length=500, blank=True)
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=500, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=DocumentStatusChoices.choices)
    currency = models.CharField(max_length=3, blank=True)
    exchange_rate = rate()

    class Meta:
        abstract = True

    @property
    def display_label(self) -> str:
        return self.number or self.remote_id


class DocumentLine(models.Model):
    """One line of a document, in the ledger's order."""

    position = models.PositiveIntegerField(default=0)
    remote_id = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=19, decimal_places=4, null=True, blank=True)
    unit_amount = models.DecimalField(max_digits=19, decimal_places=6, null=True, blank=True)
    amount = optional_money()
    tax_amount = optional_money()
    account_code = models.CharField(max_length=60, blank=True)
    account_remote_id = models.CharField(max_length=64, blank=True)
    item_code = models.CharField(max_length=100, blank=True)
    item_remote_id = models.CharField(max_length=64, blank=True)
    tax_code = models.CharField(max_length=60, blank=True)
    tracking = exact_json()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"line {self.position}: {self.description[:40]}"


class Invoice(Document):
    """A sales invoice or a bill: Xero ACCREC/ACCPAY invoices, QBO Invoice and Bill."""

    kind = models.CharField(max_length=10, choices=DocumentKindChoices.choices)
    due_date = models.DateField(null=True, blank=True)
    tax_mode = models.CharField(max_length=20, blank=True, help_text="Exclusive, inclusive or no tax.")
    subtotal = optional_money()
    total_tax = optional_money()
    total = money(default=0)
    amount_due = optional_money()
    amount_paid = optional_money()
    amount_credited = optional_money()
    fully_paid_on = models.DateField(null=True, blank=True)
    purchase_order_remote_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The purchase order a bill was made from, where the ledger links the two by id.",
    )

    class Meta:
        constraints = mirror_constraints("invoice")
        indexes = [
            *mirror_indexes(
                "invoice",
                "number",
                "issue_date",
                "due_date",
                "status",
                "total",
                "amount_due",
                listed=("kind", "-issue_date", "-id"),
                by_currency="issue_date",
            ),
            models.Index(fields=["connection", "kind", "status"], name="invoice_conn_kind_status"),
            models.Index(fields=["contact_remote_id"], name="invoice_contact_remote"),
            models.Index(fields=["purchase_order_remote_id"], name="invoice_purchase_order"),
        ]
        ordering = ("-issue_date", "-pk")


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ("invoice", "position")


class CreditNote(Document):
    """A credit note to a customer or from a supplier: Xero credit notes, QBO CreditMemo and VendorCredit."""

    kind = models.CharField(max_length=10, choices=DocumentKindChoices.choices)
    tax_mode = models.CharField(max_length=20, blank=True)
    subtotal = optional_money()
    total_tax = optional_money()
    total = money(default=0)
    remaining_credit = optional_money()

    class Meta:
        constraints = mirror_constraints("creditnote")
        indexes = [
            *mirror_indexes(
                "creditnote",
                "number",
                "issue_date",
                "status",
                "total",
                listed=NEWEST_FIRST,
                by_currency="issue_date",
            ),
            models.Index(fields=["connection", "kind", "status"], name="creditnote_conn_kind_status"),
            models.Index(fields=["contact_remote_id"], name="creditnote_contact_remote"),
        ]
        ordering = ("-issue_date", "-pk")


class CreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ("credit_note", "position")


class CreditNoteAllocation(models.Model):
    """Part of a credit note applied to an invoice or bill."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="allocations")
    position = models.PositiveIntegerField(default=0)
    remote_id = models.CharField(max_length=64, blank=True)
    invoice_remote_id = models.CharField(max_length=64, blank=True)
    amount = money(default=0)
    date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("credit_note", "position")

    def __str__(self) -> str:
        return f"{self.amount} to {self.invoice_remote_id}"


class PurchaseOrder(Document):
    """An order to a supplier: Xero and QBO purchase orders (not in the books until billed)."""

    delivery_date = models.DateField(null=True, blank=True)
    tax_mode = models.CharField(max_length=20, blank=True)
    subtotal = optional_money()
    total_tax = optional_money()
    total = money(default=0)

    class Meta:
        constraints = mirror_constraints("purchaseorder")
        indexes = [
            *mirror_indexes(
                "purchaseorder",
                "number",
                "issue_date",
                "delivery_date",
                "status",
                "total",
                listed=NEWEST_FIRST,
                by_currency="issue_date",
            ),
            models.Index(fields=["contact_remote_id"], name="purchaseorder_contact_remote"),
        ]
        ordering = ("-issue_date", "-pk")


class PurchaseOrderLine(DocumentLine):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ("purchase_order", "position")


class Journal(MirrorRecord):
    """A manual journal: Xero ManualJournal, QBO JournalEntry. Lines carry signed amounts: debit positive."""

    number = models.CharField(max_length=255, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    narration = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=DocumentStatusChoices.choices)
    currency = models.CharField(max_length=3, blank=True)
    exchange_rate = rate()
    tax_mode = models.CharField(max_length=20, blank=True)
    total = money(default=0, help_text="Sum of the debits.")

    class Meta:
        constraints = mirror_constraints("journal")
        indexes = mirror_indexes(
            "journal",
            "number",
            "issue_date",
            "status",
            "total",
            listed=NEWEST_FIRST,
            by_currency="issue_date",
        )
        ordering = ("-issue_date", "-pk")

    @property
    def display_label(self) -> str:
        return self.number or self.narration[:40]


class JournalLine(models.Model):
    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    remote_id = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    account_code = models.CharField(max_length=60, blank=True)
    account_remote_id = models.CharField(max_length=64, blank=True)
    amount = money(default=0, help_text="Debit positive, credit negative.")
    tax_code = models.CharField(max_length=60, blank=True)
    tax_amount = optional_money()
    tracking = exact_json()

    class Meta:
        ordering = ("journal", "position")

    def __str__(self) -> str:
        return f"{self.account_code or self.account_remote_id} {self.amount}"


class Payment(Document):
    """Money received from a customer or paid to a supplier: Xero Payment, QBO Payment and BillPayment."""

    kind = models.CharField(max_length=10, choices=PaymentKindChoices.choices)
    amount = money(default=0)
    unapplied_amount = optional_money()
    account_code = models.CharField(max_length=60, blank=True)
    account_remote_id = models.CharField(max_length=64, blank=True)
    is_reconciled = models.BooleanField(null=True, blank=True)
    payment_type = models.CharField(max_length=40, blank=True, help_text="The ledger's payment type.")

    class Meta:
        constraints = mirror_constraints("payment")
        indexes = [
            *mirror_indexes(
                "payment", "issue_date", "status", "amount", listed=NEWEST_FIRST, by_currency="issue_date"
            ),
            models.Index(fields=["connection", "kind", "status"], name="payment_conn_kind_status"),
            models.Index(fields=["contact_remote_id"], name="payment_contact_remote"),
        ]
        ordering = ("-issue_date", "-pk")


class PaymentAllocation(models.Model):
    """What a payment pays: an invoice, bill or credit note, and how much of it."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    position = models.PositiveIntegerField(default=0)
    target_type = models.CharField(max_length=12, choices=AllocationTargetChoices.choices)
    target_remote_type = models.CharField(max_length=40, blank=True)
    target_remote_id = models.CharField(max_length=64, blank=True)
    amount = money(default=0)

    class Meta:
        ordering = ("payment", "position")
        indexes = [models.Index(fields=["target_remote_id"], name="paymentalloc_target")]

    def __str__(self) -> str:
        return f"{self.amount} to {self.target_remote_type} {self.target_remote_id}"
