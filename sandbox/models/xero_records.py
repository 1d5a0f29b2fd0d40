"""The emulated Xero organisations' documents, and the Idempotency-Key replay store.

Every accounting document, of every collection, is one `XeroRecord` row: the Xero-shaped body as JSON text
(exact decimals, MS-JSON dates, exactly what the API returns) plus the few columns the API filters,
orders and looks up by. A 1,000-record page is then one indexed range scan whose bodies are spliced into
the response without being decoded."""

from __future__ import annotations

from django.db import models


class XeroRecord(models.Model):
    """One document of an emulated Xero organisation (an invoice, a contact, a tax rate...).

    The body is the source of truth; the columns are copies of body fields, kept for indexes."""

    tenant = models.ForeignKey(
        "sandbox.Tenant", on_delete=models.CASCADE, related_name="xero_records", db_index=False
    )
    # The collection as Xero names it in its URLs: "Invoices", "Contacts", "TaxRates"...
    collection = models.CharField(max_length=32)
    # The document's id field (InvoiceID...; TaxType for tax rates), exactly as Xero gave or we made it.
    record_id = models.CharField(max_length=64)
    # Business keys: InvoiceNumber / ContactNumber / account and item Code; and Name. These copies are
    # NULL (not "") when the body lacks the field, so that SQL comparisons pushed down from a `where`
    # behave exactly like the same comparison against the missing JSON field (DJ001 is wrong here).
    number = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    # The document's Type (ACCREC, ACCPAY, ACCRECCREDIT, BANK, ...).
    kind = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    contact_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    date = models.DateField(null=True, blank=True)
    # UpdatedDateUTC at millisecond precision; NULL for collections without one (TaxRates...).
    updated_at = models.DateTimeField(null=True, blank=True)
    # True when some unit price in the body has more than 2 decimals: only those rows need rewriting
    # for the default `unitdp=2` view, every other row is served as stored.
    fine_units = models.BooleanField(default=False)
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "collection", "record_id"], name="sandbox_xrec_unique_id"
            ),
        ]
        indexes = [
            # Default (creation) order and paging.
            models.Index(fields=["tenant", "collection", "id"], name="sandbox_xrec_order"),
            models.Index(fields=["tenant", "collection", "updated_at"], name="sandbox_xrec_updated"),
            models.Index(fields=["tenant", "collection", "number"], name="sandbox_xrec_number"),
            models.Index(fields=["tenant", "collection", "name"], name="sandbox_xrec_name"),
            models.Index(fields=["tenant", "collection", "status"], name="sandbox_xrec_status"),
            models.Index(fields=["tenant", "collection", "contact_id"], name="sandbox_xrec_contact"),
            models.Index(fields=["tenant", "collection", "date"], name="sandbox_xrec_date"),
        ]

    def __str__(self) -> str:
        return f"{self.collection} {self.record_id}"


class XeroIdempotencyKey(models.Model):
    """A successful write's response, kept for its Idempotency-Key's lifetime so a retry replays it.

    Written in the same transaction as the documents it created: a key exists exactly when its work
    was committed."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey("sandbox.Tenant", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    # sha256 of method, path, query and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "tenant", "key"], name="sandbox_xidem_unique_key"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="sandbox_xidem_expires")]

    def __str__(self) -> str:
        return f"idempotency key {self.key}"
