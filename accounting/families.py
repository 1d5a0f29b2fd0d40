"""The entity families of the mirror, declared once. The engine, and later the API, admin and exports,
are driven from this table; each provider says how its ledger serves a family
(`integrations.providers.<ledger>.pull`), under the same keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from accounting import models as mirror


@dataclass(frozen=True)
class Child:
    """Rows that belong to a record and are replaced with it (lines, allocations, options)."""

    key: str
    model: type[models.Model]
    parent_field: str


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    model: type[mirror.MirrorRecord]
    children: tuple[Child, ...] = ()
    # Documents point at a contact; the engine links them as contacts arrive.
    has_contact: bool = False

    @property
    def has_status(self) -> bool:
        return any(f.name == "status" for f in self.model._meta.get_fields())


def _lines(model: type[models.Model], parent: str) -> Child:
    return Child("lines", model, parent)


FAMILIES: dict[str, Family] = {
    family.key: family
    for family in (
        Family("accounts", "Accounts", mirror.Account),
        Family("tax_rates", "Tax rates", mirror.TaxRate),
        Family("tax_codes", "Tax codes", mirror.TaxCode),
        Family(
            "tracking_categories",
            "Tracking categories",
            mirror.TrackingCategory,
            (Child("options", mirror.TrackingOption, "category"),),
        ),
        Family("contact_groups", "Contact groups", mirror.ContactGroup),
        Family("contacts", "Contacts", mirror.Contact),
        Family("items", "Items", mirror.Item),
        Family(
            "invoices",
            "Invoices and bills",
            mirror.Invoice,
            (_lines(mirror.InvoiceLine, "invoice"),),
            has_contact=True,
        ),
        Family(
            "credit_notes",
            "Credit notes",
            mirror.CreditNote,
            (
                _lines(mirror.CreditNoteLine, "credit_note"),
                Child("allocations", mirror.CreditNoteAllocation, "credit_note"),
            ),
            has_contact=True,
        ),
        Family(
            "payments",
            "Payments",
            mirror.Payment,
            (Child("allocations", mirror.PaymentAllocation, "payment"),),
            has_contact=True,
        ),
        Family(
            "purchase_orders",
            "Purchase orders",
            mirror.PurchaseOrder,
            (_lines(mirror.PurchaseOrderLine, "purchase_order"),),
            has_contact=True,
        ),
        Family("journals", "Journals", mirror.Journal, (_lines(mirror.JournalLine, "journal"),)),
    )
}


def family_get(key: str) -> Family:
    return FAMILIES[key]
