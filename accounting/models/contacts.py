"""Mirrored contacts: the business's customers and suppliers."""

from __future__ import annotations

from django.db import models

from accounting.choices import RecordStatusChoices
from accounting.models.base import MirrorRecord, mirror_constraints, mirror_indexes, optional_money


class Contact(MirrorRecord):
    """A customer and/or supplier: Xero Contact (one record may be both), QBO Customer or Vendor."""

    name = models.CharField(max_length=500, blank=True)
    company_name = models.CharField(max_length=500, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=500, blank=True)
    phone = models.CharField(max_length=100, blank=True)
    account_number = models.CharField(max_length=100, blank=True)
    tax_number = models.CharField(max_length=100, blank=True)
    is_customer = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )
    currency = models.CharField(max_length=3, blank=True)
    balance = optional_money()
    address_line1 = models.CharField(max_length=500, blank=True)
    city = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=100, blank=True)
    merged_to_remote_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = mirror_constraints("contact")
        indexes = [
            *mirror_indexes("contact", "name", "email", "status", "currency", listed=("name", "id")),
            models.Index(fields=["connection", "is_customer"], name="contact_conn_customer"),
            models.Index(fields=["connection", "is_supplier"], name="contact_conn_supplier"),
        ]
        ordering = ("name", "pk")

    @property
    def display_label(self) -> str:
        return self.name
