"""Provider-neutral vocabularies of the mirror. Each provider's field map translates its ledger's own
words into these; the ledger's word itself is kept in `remote_status`."""

from django.db import models


class AccountClassificationChoices(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"
    UNKNOWN = "", "Unknown"


class RecordStatusChoices(models.TextChoices):
    """Lifecycle of list records (accounts, contacts, items, tax rates, tracking, groups)."""

    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived (inactive in the ledger)"
    DELETED = "deleted", "Deleted in the ledger"
    PENDING = "pending", "Pending"


class DocumentStatusChoices(models.TextChoices):
    """Lifecycle of documents (invoices, bills, credit notes, purchase orders, journals, payments)."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Awaiting approval"
    AUTHORISED = "authorised", "Authorised / open"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid / closed"
    BILLED = "billed", "Billed"
    POSTED = "posted", "Posted"
    VOIDED = "voided", "Voided"
    DELETED = "deleted", "Deleted"


class DocumentKindChoices(models.TextChoices):
    """Which side of the books a document sits on."""

    SALES = "sales", "Sales"
    PURCHASE = "purchase", "Purchase"


class PaymentKindChoices(models.TextChoices):
    RECEIVED = "received", "Received (from a customer)"
    MADE = "made", "Made (to a supplier)"


class ItemTypeChoices(models.TextChoices):
    INVENTORY = "inventory", "Inventory"
    NON_INVENTORY = "non_inventory", "Non-inventory"
    SERVICE = "service", "Service"
    OTHER = "other", "Other"


class TrackingKindChoices(models.TextChoices):
    CATEGORY = "category", "Tracking category"
    CLASS = "class", "Class"
    DEPARTMENT = "department", "Department / location"


class AllocationTargetChoices(models.TextChoices):
    INVOICE = "invoice", "Invoice or bill"
    CREDIT_NOTE = "credit_note", "Credit note"
    PAYMENT = "payment", "Payment"
    OTHER = "other", "Other"


class ExportFormatChoices(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ExportJobStatusChoices(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
