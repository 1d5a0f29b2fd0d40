"""Pulling a seeded Xero organisation: after a full sync the mirror equals what the sandbox serves,
family by family, and an incremental sync reflects exactly the changes made since."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounting.families import FAMILIES
from accounting.models import Contact, Invoice, Item, TrackingCategory
from core.jsontext import decode
from integrations.providers import get_provider
from sandbox.models import Tenant
from sandbox.xero.api import services as xero
from sandbox.xero.api.entities import ENTITIES

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def served(tenant: Tenant, collection: str) -> dict[str, dict]:
    """What the sandbox lists for a collection, every page, archived included, as Ledgerlink asks."""
    entity = ENTITIES[collection]
    bodies: dict[str, dict] = {}
    page = 1
    while True:
        query = xero.ListQuery(include_archived=True, unitdp=4, page=page, page_size=1000)
        listing = xero.records_list(tenant=tenant, collection=collection, query=query)
        for text in listing.items:
            body = decode(text)
            bodies[str(body[entity.id_field])] = body
        if not entity.paged or len(listing.items) < 1000:
            return bodies
        page += 1


def mirrored(connection, family_key: str) -> dict[str, Any]:
    model = FAMILIES[family_key].model
    return {row.remote_id: row for row in model._default_manager.filter(connection=connection)}


def test_full_sync_mirrors_every_family_exactly(xero_connection, xero_orgs, pull):
    runs = pull(xero_connection, full=True)
    sources = get_provider("xero").pull_sources()
    assert set(runs) == set(sources)
    for key, source in sources.items():
        run = runs[key]
        assert run.status == "succeeded", (key, run.error)
        (entity,) = source.entities
        expected = served(xero_orgs[0], entity.collection)
        rows = mirrored(xero_connection, key)
        assert set(rows) == set(expected), key
        assert run.created == len(expected), key
        for remote_id, row in rows.items():
            body = expected[remote_id]
            assert row.raw == body, (key, remote_id)
            normalised = entity.normalise(body)
            for column, value in normalised.fields.items():
                assert getattr(row, column) == value, (key, column)
            assert row.remote_deleted is normalised.remote_deleted, (key, remote_id)
            for child in FAMILIES[key].children:
                got = list(
                    getattr(row, child.key).values(*normalised.children[child.key][0])
                    if normalised.children[child.key]
                    else []
                )
                assert got == normalised.children[child.key], (key, child.key)


def test_invoices_in_the_ledgers_words(xero_connection, xero_orgs, pull):
    pull(xero_connection, "contacts", "invoices", full=True)
    expected = served(xero_orgs[0], "Invoices")
    assert Invoice.objects.filter(connection=xero_connection).count() == len(expected)
    statuses = {"ACCREC": "sales", "ACCPAY": "purchase"}
    for invoice in Invoice.objects.filter(connection=xero_connection).prefetch_related("lines"):
        body = expected[invoice.remote_id]
        assert invoice.kind == statuses[body["Type"]]
        assert invoice.total == body["Total"]
        assert isinstance(invoice.total, Decimal)
        assert invoice.amount_due == body["AmountDue"]
        assert invoice.number == body.get("InvoiceNumber", "")
        assert invoice.currency == body["CurrencyCode"]
        assert invoice.issue_date is not None
        assert invoice.issue_date.isoformat() == body["DateString"][:10]
        assert invoice.remote_deleted is (body["Status"] == "DELETED")
        assert invoice.contact is not None
        assert invoice.contact.remote_id == body["Contact"]["ContactID"]
        lines = list(invoice.lines.all())
        assert [line.amount for line in lines] == [item["LineAmount"] for item in body["LineItems"]]
        assert [line.remote_id for line in lines] == [item["LineItemID"] for item in body["LineItems"]]


def test_incremental_reflects_exactly_the_changes(xero_connection, xero_orgs, pull):
    tenant = xero_orgs[0]
    pull(xero_connection, full=True)
    invoices = served(tenant, "Invoices")
    draft = next(i for i, b in invoices.items() if b["Status"] == "DRAFT")
    authorised = next(
        i for i, b in invoices.items() if b["Status"] == "AUTHORISED" and not b.get("Payments") and i != draft
    )
    edited = next(i for i, b in invoices.items() if b["Status"] == "AUTHORISED" and i != authorised)
    contacts = served(tenant, "Contacts")
    archived = next(i for i, b in contacts.items() if b["ContactStatus"] == "ACTIVE")
    item = next(iter(served(tenant, "Items")))
    category = next(i for i, b in served(tenant, "TrackingCategories").items() if b["Status"] == "ACTIVE")

    created = xero.records_create(tenant=tenant, collection="Contacts", payloads=[{"Name": "Brand New Ltd"}])[
        0
    ]
    xero.record_update(
        tenant=tenant, collection="Contacts", ref=archived, payload={"ContactStatus": "ARCHIVED"}
    )
    xero.record_update(tenant=tenant, collection="Invoices", ref=edited, payload={"Reference": "Changed ref"})
    xero.record_update(tenant=tenant, collection="Invoices", ref=authorised, payload={"Status": "VOIDED"})
    xero.record_update(tenant=tenant, collection="Invoices", ref=draft, payload={"Status": "DELETED"})
    xero.record_delete(tenant=tenant, collection="Items", ref=item)
    xero.record_update(
        tenant=tenant, collection="TrackingCategories", ref=category, payload={"Status": "ARCHIVED"}
    )

    runs = pull(xero_connection)
    counts = {key: (run.created, run.updated, run.deleted) for key, run in runs.items()}
    assert counts == {
        "accounts": (0, 0, 0),
        "tax_rates": (0, 0, 0),
        "tracking_categories": (0, 1, 0),
        "contact_groups": (0, 0, 0),
        "contacts": (1, 1, 0),
        "items": (0, 0, 1),
        "invoices": (0, 2, 1),
        "credit_notes": (0, 0, 0),
        "payments": (0, 0, 0),
        "purchase_orders": (0, 0, 0),
        "journals": (0, 0, 0),
    }
    for key, run in runs.items():
        assert run.mode == ("incremental" if get_provider("xero").pull_sources()[key].incremental else "full")
        assert run.api_calls == 1, key
    assert (
        Contact.objects.get(connection=xero_connection, remote_id=created["ContactID"]).name
        == "Brand New Ltd"
    )
    assert Contact.objects.get(connection=xero_connection, remote_id=archived).status == "archived"
    assert Invoice.objects.get(connection=xero_connection, remote_id=edited).reference == "Changed ref"
    voided = Invoice.objects.get(connection=xero_connection, remote_id=authorised)
    assert (voided.status, voided.remote_deleted) == ("voided", False)
    deleted = Invoice.objects.get(connection=xero_connection, remote_id=draft)
    assert (deleted.status, deleted.remote_deleted) == ("deleted", True)
    gone = Item.objects.get(connection=xero_connection, remote_id=item)
    assert gone.remote_deleted is True
    assert TrackingCategory.objects.get(connection=xero_connection, remote_id=category).status == "archived"
    # Nothing else moved: a second incremental changes nothing.
    again = pull(xero_connection)
    assert all((run.created, run.updated, run.deleted) == (0, 0, 0) for run in again.values())
