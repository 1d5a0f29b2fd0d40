"""The emulated QuickBooks companies' data: every entity of every type, the id and document-number
counters, and the `requestid` replay store.

Every entity (a customer, an invoice, the company's preferences...) is one `QboRecord` row: its body as
Intuit returns it, as JSON text with exact decimals, plus the few columns queries filter, order and look
up by. A 1,000-row query page is then one indexed range scan whose bodies are spliced into the response
without being decoded."""

from __future__ import annotations

from django.db import models


class QboRecord(models.Model):
    """One entity of an emulated QBO company. The body is the source of truth; the columns are copies of
    body fields kept for indexes. A deleted transaction stays as a tombstone row (`deleted`), so that CDC
    can report it and a second delete answers 610."""

    tenant = models.ForeignKey(
        "sandbox.Tenant", on_delete=models.CASCADE, related_name="qbo_records", db_index=False
    )
    # The entity type as Intuit names it: "Invoice", "Customer", "Preferences"...
    entity = models.CharField(max_length=32)
    record_id = models.CharField(max_length=32)
    # The Id as a number, for numeric order and ranges ("Id > '100'"); NULL for non-numeric ids.
    id_number = models.BigIntegerField(null=True, blank=True)
    # Copies are NULL (not "") when the body lacks the field, so that comparisons pushed down to SQL
    # behave like the same comparison against the missing JSON field (DJ001 is wrong here).
    name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # The casefolded FullyQualifiedName (or name): uniqueness of names and the default order of lists.
    name_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    doc_number = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # The transaction's customer or vendor (CustomerRef / VendorRef value).
    party_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    txn_date = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    active = models.BooleanField(default=True)
    deleted = models.BooleanField(default=False)
    # MetaData.CreateTime / LastUpdatedTime, at full precision (the body shows whole seconds).
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "entity", "record_id"], name="sandbox_qrec_unique_id"),
        ]
        indexes = [
            # Default order of name lists (active rows by name) and of transactions (by id).
            models.Index(
                fields=["tenant", "entity", "deleted", "active", "name_key", "id_number"],
                name="sandbox_qrec_list_order",
            ),
            models.Index(fields=["tenant", "entity", "deleted", "id_number"], name="sandbox_qrec_id_order"),
            # The others end in id_number, the tie-break of every order, so a page needs no sort.
            models.Index(fields=["tenant", "entity", "name_key"], name="sandbox_qrec_name_key"),
            models.Index(fields=["tenant", "entity", "name"], name="sandbox_qrec_name"),
            models.Index(fields=["tenant", "entity", "updated_at", "id_number"], name="sandbox_qrec_updated"),
            models.Index(fields=["tenant", "entity", "created_at", "id_number"], name="sandbox_qrec_created"),
            models.Index(
                fields=["tenant", "entity", "doc_number", "id_number"], name="sandbox_qrec_doc_number"
            ),
            models.Index(fields=["tenant", "entity", "party_id", "id_number"], name="sandbox_qrec_party"),
            models.Index(fields=["tenant", "entity", "txn_date", "id_number"], name="sandbox_qrec_txn_date"),
            models.Index(fields=["tenant", "entity", "total", "id_number"], name="sandbox_qrec_total"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id}"


class QboCounter(models.Model):
    """The last number handed out by one of a company's sequences: entity ids (transactions share one
    sequence, customers, vendors and employees another, as in QBO) and automatic DocNumbers."""

    tenant = models.ForeignKey("sandbox.Tenant", on_delete=models.CASCADE, related_name="+")
    sequence = models.CharField(max_length=48)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sequence"], name="sandbox_qcounter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} = {self.value}"


class QboRequestReplay(models.Model):
    """The response to a request that carried `requestid`: a retry with the same id gets it back without
    the request being executed again (Intuit keys these per company).

    Written in the same transaction as the work it reports, so a replay exists exactly when the work was
    committed."""

    tenant = models.ForeignKey("sandbox.Tenant", on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=100)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=64)
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "request_id"], name="sandbox_qreplay_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="sandbox_qreplay_created")]

    def __str__(self) -> str:
        return f"requestid {self.request_id}"
