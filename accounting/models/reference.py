"""Mirrored list records: the chart of accounts, tax, tracking, items and contact groups."""

from __future__ import annotations

from django.db import models

from accounting.choices import (
    AccountClassificationChoices,
    ItemTypeChoices,
    RecordStatusChoices,
    TrackingKindChoices,
)
from accounting.models.base import (
    MirrorRecord,
    exact_json,
    mirror_constraints,
    mirror_indexes,
    optional_money,
    rate,
)


class Account(MirrorRecord):
    """A nominal (general-ledger) account: Xero Account, QBO Account."""

    code = models.CharField(max_length=50, blank=True)
    name = models.CharField(max_length=255, blank=True)
    account_type = models.CharField(max_length=60, blank=True, help_text="The ledger's account type.")
    classification = models.CharField(
        max_length=10, choices=AccountClassificationChoices.choices, blank=True, default=""
    )
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )
    currency = models.CharField(max_length=3, blank=True)
    tax_code = models.CharField(max_length=60, blank=True)
    description = models.TextField(blank=True)
    bank_account_number = models.CharField(max_length=60, blank=True)
    current_balance = optional_money()

    class Meta:
        constraints = mirror_constraints("account")
        indexes = mirror_indexes(
            "account", "code", "name", "status", "account_type", "classification", "currency"
        )
        ordering = ("code", "name", "pk")

    @property
    def display_label(self) -> str:
        return " ".join(part for part in (self.code, self.name) if part)


class TaxRate(MirrorRecord):
    """A tax rate: Xero TaxRate (identified by its TaxType code), QBO TaxRate."""

    code = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=255, blank=True)
    rate = rate()
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )
    report_tax_type = models.CharField(max_length=60, blank=True)
    agency = models.CharField(max_length=255, blank=True)
    components = exact_json()

    class Meta:
        constraints = mirror_constraints("taxrate")
        indexes = mirror_indexes("taxrate", "code", "name", "status")
        ordering = ("name", "pk")

    @property
    def display_label(self) -> str:
        return self.name


class TaxCode(MirrorRecord):
    """A tax code grouping sales and purchase rates: QBO TaxCode (Xero has tax rates only)."""

    code = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )
    taxable = models.BooleanField(null=True, blank=True)
    is_group = models.BooleanField(null=True, blank=True)
    sales_rate_ids = exact_json()
    purchase_rate_ids = exact_json()

    class Meta:
        constraints = mirror_constraints("taxcode")
        indexes = mirror_indexes("taxcode", "code", "name", "status")
        ordering = ("name", "pk")

    @property
    def display_label(self) -> str:
        return self.name


class TrackingCategory(MirrorRecord):
    """A dimension to analyse the books by: Xero tracking category (with options), QBO class or department."""

    kind = models.CharField(max_length=12, choices=TrackingKindChoices.choices)
    name = models.CharField(max_length=255, blank=True)
    full_name = models.CharField(max_length=500, blank=True)
    parent_remote_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )

    class Meta:
        constraints = mirror_constraints("tracking")
        indexes = mirror_indexes("tracking", "kind", "name", "status")
        ordering = ("kind", "name", "pk")
        verbose_name_plural = "tracking categories"

    @property
    def display_label(self) -> str:
        return self.full_name or self.name


class TrackingOption(models.Model):
    """One option of a Xero tracking category (e.g. region "North")."""

    category = models.ForeignKey(TrackingCategory, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveIntegerField(default=0)
    remote_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )

    class Meta:
        ordering = ("category", "position")

    def __str__(self) -> str:
        return self.name


class ContactGroup(MirrorRecord):
    """A named group of contacts (Xero)."""

    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )
    contact_remote_ids = exact_json()

    class Meta:
        constraints = mirror_constraints("contactgroup")
        indexes = mirror_indexes("contactgroup", "name", "status")
        ordering = ("name", "pk")

    @property
    def display_label(self) -> str:
        return self.name


class Item(MirrorRecord):
    """A product or service sold or bought: Xero Item, QBO Item."""

    code = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    purchase_description = models.TextField(blank=True)
    item_type = models.CharField(max_length=16, choices=ItemTypeChoices.choices, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=RecordStatusChoices.choices, default=RecordStatusChoices.ACTIVE
    )
    is_sold = models.BooleanField(default=False)
    is_purchased = models.BooleanField(default=False)
    is_tracked = models.BooleanField(default=False)
    sales_unit_price = optional_money()
    purchase_unit_price = optional_money()
    sales_account = models.CharField(max_length=60, blank=True)
    purchase_account = models.CharField(max_length=60, blank=True)
    sales_tax_code = models.CharField(max_length=60, blank=True)
    purchase_tax_code = models.CharField(max_length=60, blank=True)
    quantity_on_hand = models.DecimalField(max_digits=19, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = mirror_constraints("item")
        indexes = mirror_indexes("item", "code", "name", "status", "item_type")
        ordering = ("code", "name", "pk")

    @property
    def display_label(self) -> str:
        return self.code or self.name
