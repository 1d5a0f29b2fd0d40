"""The provider-neutral mirror of each connected ledger, one table per entity family."""

from accounting.models.base import MirrorRecord
from accounting.models.contacts import Contact
from accounting.models.documents import (
    CreditNote,
    CreditNoteAllocation,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Journal,
    JournalLine,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    PurchaseOrderLine,
)
from accounting.models.exports import ExportJob
from accounting.models.reference import (
    Account,
    ContactGroup,
    Item,
    TaxCode,
    TaxRate,
    TrackingCategory,
    TrackingOption,
)

__all__ = [
    "Account",
    "Contact",
    "ContactGroup",
    "CreditNote",
    "CreditNoteAllocation",
    "CreditNoteLine",
    "ExportJob",
    "Invoice",
    "InvoiceLine",
    "Item",
    "Journal",
    "JournalLine",
    "MirrorRecord",
    "Payment",
    "PaymentAllocation",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "TaxCode",
    "TaxRate",
    "TrackingCategory",
    "TrackingOption",
]
