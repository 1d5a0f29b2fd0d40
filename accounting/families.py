"""The entity families of the mirror, declared once. The engine, and later the API, admin and exports,
are driven from this table; each provider says how its ledger serves a family
(`integrations.providers.<ledger>.pull`), under the same keys."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

from accounting import models as mirror
from accounting.references import Reference, referrers_link
from core.entities import Child, EntityType, entity_type_register

__all__ = ["ENDPOINTS", "FAMILIES", "Child", "DocumentLink", "Endpoint", "Family", "family_get", "links_to"]


@dataclass(frozen=True)
class DocumentLink:
    """A document made from a document of another family: a bill from a purchase order.

    The ledger's own link wins where it gives one: the source's `remote_id_field` holds the target's remote
    id. Else the target is the document of the same connection and contact whose number the source quotes
    as its reference (a ledger that keeps no other link copies the order's number into the bill's
    reference). Both families are documents (number, reference, contact). Only sources within `scope` (bills,
    not sales invoices) can have the link. The source's detail shows the target under `key`; the target's
    detail lists its sources under `reverse_key`."""

    key: str
    target: str
    remote_id_field: str
    reverse_key: str
    scope: tuple[tuple[str, object], ...] = ()

    def covers(self, values: Mapping[str, Any]) -> bool:
        """Whether a source with these values (a record's, or an endpoint's scope) can have the link."""
        return all(values.get(name, wanted) == wanted for name, wanted in self.scope)


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    model: type[mirror.MirrorRecord]
    children: tuple[Child, ...] = ()
    # Documents point at a contact; the engine links them as contacts arrive.
    has_contact: bool = False
    # What a book-keeper scans a list by, in order (API list and export columns, admin list columns).
    columns: tuple[str, ...] = ()
    # Free-text search (`?q=`) looks in these.
    search_fields: tuple[str, ...] = ()
    # The document date (date ranges, by-month statistics, the admin's date hierarchy).
    date_field: str = ""
    # The money column totals and statistics add up, the amount still owed, and when it falls due.
    amount_field: str = ""
    due_amount_field: str = ""
    due_date_field: str = ""
    # Documents of other families this one's documents may have been made from.
    links: tuple[DocumentLink, ...] = ()
    # What its records (or their child rows) name in other families, resolved both ways by
    # `accounting.references`; record-level ones with a foreign key are filled as records are applied.
    references: tuple[Reference, ...] = ()
    # Run after every pass over the family, with `connection=` and `family=` (records of other families
    # that named one of its records before it was mirrored are linked here).
    after_pass: tuple[Callable[..., None], ...] = ()

    @property
    def has_status(self) -> bool:
        return any(f.name == "status" for f in self.model._meta.get_fields())

    @functools.cached_property
    def entity_type(self) -> EntityType:
        """The whole family as one entity type: its admin's, and the one its FilterSet and serializers are
        made from (every entity type of a family shares them: invoices and bills are one shape)."""
        return EntityType(
            self.key,
            self.label,
            self.model,
            children=self.children,
            columns=self.columns,
            search_fields=self.search_fields,
            date_field=self.date_field,
        )


def _lines(model: type[models.Model], parent: str) -> Child:
    return Child("lines", model, parent)


CONTACT = Reference(
    "contact", "contacts", "contact_remote_id", remote_type_field="contact_remote_type", fk_field="contact"
)
LINE_ACCOUNT = Reference("line_account", "accounts", "account_remote_id", child="lines")
LINE_ITEM = Reference("line_item", "items", "item_remote_id", child="lines")
DOCUMENT_REFERENCES = (CONTACT, LINE_ACCOUNT, LINE_ITEM)


FAMILIES: dict[str, Family] = {
    family.key: family
    for family in (
        Family(
            "accounts",
            "Accounts",
            mirror.Account,
            columns=("code", "name", "account_type", "classification", "status", "currency", "tax_code"),
            search_fields=("code", "name", "description"),
        ),
        Family(
            "tax_rates",
            "Tax rates",
            mirror.TaxRate,
            columns=("code", "name", "rate", "status", "report_tax_type"),
            search_fields=("code", "name"),
        ),
        Family(
            "tax_codes",
            "Tax codes",
            mirror.TaxCode,
            columns=("code", "name", "description", "status", "taxable"),
            search_fields=("code", "name", "description"),
        ),
        Family(
            "tracking_categories",
            "Tracking categories",
            mirror.TrackingCategory,
            (Child("options", mirror.TrackingOption, "category"),),
            columns=("kind", "name", "full_name", "status"),
            search_fields=("name", "full_name"),
        ),
        Family(
            "contact_groups",
            "Contact groups",
            mirror.ContactGroup,
            columns=("name", "status"),
            search_fields=("name",),
        ),
        Family(
            "contacts",
            "Contacts",
            mirror.Contact,
            columns=("name", "email", "phone", "is_customer", "is_supplier", "status", "currency", "balance"),
            search_fields=("name", "company_name", "email", "account_number", "tax_number"),
            after_pass=(referrers_link,),
        ),
        Family(
            "items",
            "Items",
            mirror.Item,
            columns=("code", "name", "item_type", "status", "sales_unit_price", "purchase_unit_price"),
            search_fields=("code", "name", "description"),
        ),
        Family(
            "invoices",
            "Invoices and bills",
            mirror.Invoice,
            (_lines(mirror.InvoiceLine, "invoice"),),
            has_contact=True,
            references=DOCUMENT_REFERENCES,
            columns=(
                "number",
                "kind",
                "contact_name",
                "issue_date",
                "due_date",
                "status",
                "currency",
                "total",
                "amount_due",
            ),
            search_fields=("number", "reference", "contact_name"),
            date_field="issue_date",
            amount_field="total",
            due_amount_field="amount_due",
            due_date_field="due_date",
            links=(
                DocumentLink(
                    "purchase_order",
                    "purchase_orders",
                    remote_id_field="purchase_order_remote_id",
                    reverse_key="bills",
                    scope=(("kind", "purchase"),),
                ),
            ),
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
            references=(
                *DOCUMENT_REFERENCES,
                Reference("allocation_invoice", "invoices", "invoice_remote_id", child="allocations"),
            ),
            columns=(
                "number",
                "kind",
                "contact_name",
                "issue_date",
                "status",
                "currency",
                "total",
                "remaining_credit",
            ),
            search_fields=("number", "reference", "contact_name"),
            date_field="issue_date",
            amount_field="total",
            due_amount_field="remaining_credit",
        ),
        Family(
            "payments",
            "Payments",
            mirror.Payment,
            (Child("allocations", mirror.PaymentAllocation, "payment"),),
            has_contact=True,
            references=(CONTACT, Reference("account", "accounts", "account_remote_id")),
            columns=("issue_date", "kind", "contact_name", "reference", "status", "currency", "amount"),
            search_fields=("reference", "contact_name"),
            date_field="issue_date",
            amount_field="amount",
        ),
        Family(
            "purchase_orders",
            "Purchase orders",
            mirror.PurchaseOrder,
            (_lines(mirror.PurchaseOrderLine, "purchase_order"),),
            has_contact=True,
            references=DOCUMENT_REFERENCES,
            columns=("number", "contact_name", "issue_date", "delivery_date", "status", "currency", "total"),
            search_fields=("number", "reference", "contact_name"),
            date_field="issue_date",
            amount_field="total",
        ),
        Family(
            "journals",
            "Journals",
            mirror.Journal,
            (_lines(mirror.JournalLine, "journal"),),
            references=(LINE_ACCOUNT,),
            columns=("number", "issue_date", "narration", "status", "total"),
            search_fields=("number", "narration"),
            date_field="issue_date",
            amount_field="total",
        ),
    )
}


def family_get(key: str) -> Family:
    return FAMILIES[key]


def links_to(family: Family) -> list[tuple[Family, DocumentLink]]:
    """The links of other families whose targets are this family's documents, with their source family."""
    return [
        (source, link) for source in FAMILIES.values() for link in source.links if link.target == family.key
    ]


@dataclass(frozen=True)
class Endpoint:
    """One entity type as API clients and staff see it: a family, or the part of one a scope selects
    (customers and suppliers are contacts; invoices and bills are invoices of either kind)."""

    key: str
    family: Family
    label: str
    scope: tuple[tuple[str, object], ...] = ()

    @property
    def path(self) -> str:
        return self.entity_type.path

    @functools.cached_property
    def entity_type(self) -> EntityType:
        """This entity type in the terms of the core spec, which the API and exports are built from."""
        return dataclasses.replace(self.family.entity_type, key=self.key, label=self.label, scope=self.scope)

    @property
    def detail_links(self) -> list[str]:
        """The links a record of this entity type can show on its detail (one query each): those of its
        family its scope allows (a bill's purchase order, not a sales invoice's), and the reverse of
        those whose targets its records are."""
        scope = dict(self.scope)
        own = [link.key for link in self.family.links if link.covers(scope)]
        return own + [link.reverse_key for _, link in links_to(self.family)]


def _endpoint(key: str, family: str, label: str, **scope: object) -> Endpoint:
    return Endpoint(key, FAMILIES[family], label, tuple(scope.items()))


ENDPOINTS: dict[str, Endpoint] = {
    endpoint.key: endpoint
    for endpoint in (
        _endpoint("accounts", "accounts", "Accounts"),
        _endpoint("customers", "contacts", "Customers", is_customer=True),
        _endpoint("suppliers", "contacts", "Suppliers", is_supplier=True),
        _endpoint("contact_groups", "contact_groups", "Contact groups"),
        _endpoint("invoices", "invoices", "Sales invoices", kind="sales"),
        _endpoint("bills", "invoices", "Bills", kind="purchase"),
        _endpoint("credit_notes", "credit_notes", "Credit notes"),
        _endpoint("items", "items", "Items"),
        _endpoint("journals", "journals", "Journals"),
        _endpoint("payments", "payments", "Payments"),
        _endpoint("purchase_orders", "purchase_orders", "Purchase orders"),
        _endpoint("tax_rates", "tax_rates", "Tax rates"),
        _endpoint("tax_codes", "tax_codes", "Tax codes"),
        _endpoint("tracking_categories", "tracking_categories", "Tracking categories"),
    )
}
# Entity-type keys are one namespace across apps (a books type may not take "invoices"): the registry refuses
# a second, different type under a key already declared.
for _endpoint_declared in ENDPOINTS.values():
    entity_type_register(_endpoint_declared.entity_type)
