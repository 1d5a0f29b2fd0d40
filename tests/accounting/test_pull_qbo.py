"""The QuickBooks Online pull adapter against the sandbox company: a full pass mirrors exactly what the
sandbox holds, and an incremental pass (one change-feed call per family) reflects exactly what changed."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounting.families import FAMILIES
from accounting.models import Contact, Invoice, Journal, Payment, PurchaseOrder, TrackingCategory
from core.jsontext import decode
from integrations.models import SyncState
from integrations.providers.quickbooks.maps import SOURCES
from sandbox.models.qbo_records import QboRecord
from sandbox.qbo.api import services

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def sandbox_bodies(company: Any, *entities: str, deleted: bool = False) -> dict[tuple[str, str], dict]:
    """The sandbox company's own records of these entity types, decoded with exact decimals."""
    return {
        (entity, record_id): decode(body)
        for entity, record_id, body in QboRecord.objects.filter(
            tenant=company, entity__in=entities, deleted=deleted
        ).values_list("entity", "record_id", "body")
    }


def remote_types(family: str) -> list[str]:
    return [entity.remote_type for entity in SOURCES[family].entities]


def mirror(connection: Any, family: str) -> dict[tuple[str, str], Any]:
    model = FAMILIES[family].model
    return {(r.remote_type, r.remote_id): r for r in model._default_manager.filter(connection=connection)}


def save(company: Any, entity: str, payload: dict) -> dict:
    return services.record_save(tenant=company, entity=entity, payload=payload)


def sparse(company: Any, entity: str, body: dict, **changes: Any) -> dict:
    return save(
        company, entity, {"Id": body["Id"], "SyncToken": body["SyncToken"], "sparse": True, **changes}
    )


def unpaid(bodies: dict[tuple[str, str], dict], entity: str) -> list[dict]:
    return sorted(
        (b for (e, _), b in bodies.items() if e == entity and b.get("Balance") == b["TotalAmt"] > 0),
        key=lambda b: int(b["Id"]),
    )


def touch_every_family(company: Any) -> None:
    """A change in each family, as a live company has: the seeded history is months old, and the engine
    would otherwise find nothing to pull incrementally in most families."""
    every = sandbox_bodies(company, "Class", "Customer", "Invoice", "CreditMemo", "Payment")
    every |= sandbox_bodies(company, "PurchaseOrder", "JournalEntry")
    for entity, field in (
        ("Class", "Name"),
        ("Customer", "CompanyName"),
        ("Invoice", "PrivateNote"),
        ("CreditMemo", "PrivateNote"),
        ("Payment", "PrivateNote"),
        ("PurchaseOrder", "PrivateNote"),
        ("JournalEntry", "PrivateNote"),
    ):
        body = min((b for (e, _), b in every.items() if e == entity), key=lambda b: int(b["Id"]))
        sparse(company, entity, body, **{field: f"{body.get(field) or ''} (touched)".strip()})


def assert_mirror_equals_sandbox(connection: Any, company: Any) -> None:
    for family in SOURCES:
        bodies = sandbox_bodies(company, *remote_types(family))
        records = mirror(connection, family)
        live = {key: record for key, record in records.items() if not record.remote_deleted}
        assert set(live) == set(bodies), family
        for key, record in live.items():
            assert record.raw == bodies[key], (family, key)
            assert record.remote_updated_at == datetime.fromisoformat(
                bodies[key]["MetaData"]["LastUpdatedTime"]
            )
        gone = sandbox_bodies(company, *remote_types(family), deleted=True)
        flagged = {key for key, record in records.items() if record.remote_deleted}
        assert flagged == set(gone) & set(records), family


def test_full_pull_mirrors_the_sandbox(qbo_connection, qbo_company, pull):
    runs = pull(qbo_connection, full=True)
    assert set(runs) == set(SOURCES)
    for family, run in runs.items():
        assert run.status == "succeeded", (family, run.error, run.log)
        assert run.mode == "full"
        assert run.deleted == 0
    assert_mirror_equals_sandbox(qbo_connection, qbo_company)
    for family, run in runs.items():
        assert run.created == len(sandbox_bodies(qbo_company, *remote_types(family))), family

    # Invoices and bills: totals exact, kind, status, contact linked, lines without the subtotal line.
    bodies = sandbox_bodies(qbo_company, "Invoice", "Bill")
    statuses = set()
    for (entity, record_id), body in bodies.items():
        invoice = Invoice.objects.get(connection=qbo_connection, remote_type=entity, remote_id=record_id)
        assert isinstance(invoice.total, Decimal)
        assert invoice.total == body["TotalAmt"]
        assert invoice.amount_due == body["Balance"]
        assert invoice.kind == {"Invoice": "sales", "Bill": "purchase"}[entity]
        assert invoice.issue_date == date.fromisoformat(body["TxnDate"])
        assert invoice.number == body.get("DocNumber", "")
        party = "CustomerRef" if entity == "Invoice" else "VendorRef"
        contact = Contact.objects.get(
            connection=qbo_connection, remote_type=party.removesuffix("Ref"), remote_id=body[party]["value"]
        )
        assert invoice.contact_id == contact.pk
        assert invoice.contact_remote_type == contact.remote_type
        # A bill made from a purchase order names it in its LinkedTxn (payments are listed there too).
        orders = [link["TxnId"] for link in body["LinkedTxn"] if link["TxnType"] == "PurchaseOrder"]
        assert invoice.purchase_order_remote_id == (orders[0] if orders else "")
        lines = [line for line in body["Line"] if line["DetailType"] != "SubTotalLineDetail"]
        assert [line.amount for line in invoice.lines.all()] == [line["Amount"] for line in lines]
        detail = lines[0][lines[0]["DetailType"]]
        stored = invoice.lines.all()[0]
        assert stored.item_remote_id == detail.get("ItemRef", {}).get("value", "")
        assert stored.account_remote_id == detail.get("AccountRef", {}).get("value", "")
        assert stored.tax_code == detail.get("TaxCodeRef", {}).get("value", "")
        assert stored.quantity == detail.get("Qty")
        expected = (
            "paid"
            if body["Balance"] == 0 and body["TotalAmt"] > 0
            else "partially_paid"
            if 0 < body["Balance"] < body["TotalAmt"]
            else "authorised"
        )
        assert invoice.status == expected
        statuses.add(expected)
    assert {"paid", "authorised"} <= statuses

    # Contacts: customers and vendors with their own id spaces; inactive ones archived.
    for (entity, record_id), body in sandbox_bodies(qbo_company, "Customer", "Vendor").items():
        contact = Contact.objects.get(connection=qbo_connection, remote_type=entity, remote_id=record_id)
        assert (contact.is_customer, contact.is_supplier) == (entity == "Customer", entity == "Vendor")
        assert contact.name == body["DisplayName"]
        assert contact.balance == body.get("Balance")
        assert contact.status == ("archived" if body["Active"] is False else "active")
        assert contact.email == body.get("PrimaryEmailAddr", {}).get("Address", "")
    assert Contact.objects.filter(connection=qbo_connection, status="archived").count() == 2

    # Classes and departments.
    for (entity, record_id), body in sandbox_bodies(qbo_company, "Class", "Department").items():
        category = TrackingCategory.objects.get(
            connection=qbo_connection, remote_type=entity, remote_id=record_id
        )
        assert category.kind == entity.lower()
        assert category.full_name == body["FullyQualifiedName"]
        assert category.parent_remote_id == body.get("ParentRef", {}).get("value", "")

    # Payments: allocations from the linked transactions, kinds by entity.
    for (entity, record_id), body in sandbox_bodies(qbo_company, "Payment", "BillPayment").items():
        payment = Payment.objects.get(connection=qbo_connection, remote_type=entity, remote_id=record_id)
        assert payment.kind == {"Payment": "received", "BillPayment": "made"}[entity]
        assert payment.amount == body["TotalAmt"]
        assert payment.contact_id is not None
        assert [(a.target_remote_type, a.target_remote_id, a.amount) for a in payment.allocations.all()] == [
            (link["TxnType"], link["TxnId"], line["Amount"])
            for line in body["Line"]
            for link in line["LinkedTxn"]
        ]
        assert {a.target_type for a in payment.allocations.all()} <= {"invoice", "credit_note"}

    # Journals: signed lines summing to zero, total = the debits.
    for (_, record_id), body in sandbox_bodies(qbo_company, "JournalEntry").items():
        journal = Journal.objects.get(connection=qbo_connection, remote_id=record_id)
        amounts = [line.amount for line in journal.lines.all()]
        assert sum(amounts) == 0
        assert journal.total == body["TotalAmt"] == sum(a for a in amounts if a > 0)
        assert amounts == [
            line["Amount"] * (1 if line["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1)
            for line in body["Line"]
        ]

    # Purchase orders.
    for (_, record_id), body in sandbox_bodies(qbo_company, "PurchaseOrder").items():
        order = PurchaseOrder.objects.get(connection=qbo_connection, remote_id=record_id)
        assert order.status == {"Open": "authorised", "Closed": "billed"}[body["POStatus"]]
        assert order.total == body["TotalAmt"]
        assert order.contact_remote_type == "Vendor"


def test_incremental_pull_reflects_exactly_the_changes(qbo_connection, qbo_company, pull):
    touch_every_family(qbo_company)
    first = pull(qbo_connection, full=True)
    assert all(run.status == "succeeded" for run in first.values())
    time.sleep(1)  # the sandbox stores whole seconds: start the changes in a second of their own
    before = timezone.now().replace(microsecond=0)
    documents = sandbox_bodies(qbo_company, "Invoice", "Bill", "Vendor")

    created = save(qbo_company, "Customer", {"DisplayName": "Brand New Customer Ltd"})
    updated, voided = unpaid(documents, "Invoice")[:2]
    updated = sparse(qbo_company, "Invoice", updated, DueDate="2030-01-31")
    voided = services.record_void(
        tenant=qbo_company, entity="Invoice", payload={"Id": voided["Id"], "SyncToken": voided["SyncToken"]}
    )
    vendor = min(
        (b for (e, _), b in documents.items() if e == "Vendor" and b["Active"]), key=lambda b: int(b["Id"])
    )
    sparse(qbo_company, "Vendor", vendor, Active=False)
    bill = unpaid(documents, "Bill")[0]
    services.record_delete(
        tenant=qbo_company, entity="Bill", payload={"Id": bill["Id"], "SyncToken": bill["SyncToken"]}
    )

    # What the sandbox itself says changed since (the deleted bill and the void move the balances of
    # their vendor and customer: those contacts change too).
    changed = {
        (entity, record_id): (created_at, deleted)
        for entity, record_id, created_at, deleted in QboRecord.objects.filter(
            tenant=qbo_company, updated_at__gte=before
        ).values_list("entity", "record_id", "created_at", "deleted")
    }
    assert ("Customer", created["Id"]) in changed
    assert ("Bill", bill["Id"]) in changed
    assert ("Invoice", updated["Id"]) in changed
    assert ("Invoice", voided["Id"]) in changed

    runs = pull(qbo_connection)
    for family, run in runs.items():
        assert run.status == "succeeded", (family, run.error, run.log)
        types = set(remote_types(family))
        mine = {key: value for key, value in changed.items() if key[0] in types}
        assert run.created == sum(1 for c, d in mine.values() if c >= before and not d), family
        assert run.deleted == sum(1 for _, d in mine.values() if d), family
        assert run.updated == sum(1 for c, d in mine.values() if c < before and not d), family
        # One call: one change-feed answer for all the family's types (tax lists: one full page).
        assert run.api_calls == 1, (family, run.api_calls)
        assert run.mode == ("full" if family in ("tax_rates", "tax_codes") else "incremental"), family
    assert runs["contacts"].created == 1
    assert runs["invoices"].deleted == 1
    assert runs["invoices"].updated == 2
    assert_mirror_equals_sandbox(qbo_connection, qbo_company)

    gone = Invoice.objects.get(connection=qbo_connection, remote_type="Bill", remote_id=bill["Id"])
    assert gone.remote_deleted
    assert gone.status == "deleted"
    void = Invoice.objects.get(connection=qbo_connection, remote_type="Invoice", remote_id=voided["Id"])
    assert void.status == "voided"
    assert void.total == 0
    assert void.remote_status == "Voided"
    assert Invoice.objects.get(remote_type="Invoice", remote_id=updated["Id"]).due_date == date(2030, 1, 31)
    archived = Contact.objects.get(connection=qbo_connection, remote_type="Vendor", remote_id=vendor["Id"])
    assert archived.status == "archived"
    assert archived.remote_status == "Inactive"
    new = Contact.objects.get(connection=qbo_connection, remote_type="Customer", remote_id=created["Id"])
    assert new.is_customer
    assert new.name == "Brand New Customer Ltd"

    # Nothing changed since: nothing written.
    again = pull(qbo_connection)
    for family, run in again.items():
        assert (run.created, run.updated, run.deleted) == (0, 0, 0), family


def test_full_pull_flags_a_transaction_deleted_since(qbo_connection, qbo_company, pull):
    """A full pass does not list deleted transactions: the engine asks for the missing ones by id
    (`pull_by_ids`) and flags those QBO no longer returns."""
    pull(qbo_connection, "contacts", "invoices", full=True)
    bill = unpaid(sandbox_bodies(qbo_company, "Bill"), "Bill")[0]
    services.record_delete(
        tenant=qbo_company, entity="Bill", payload={"Id": bill["Id"], "SyncToken": bill["SyncToken"]}
    )
    run = pull(qbo_connection, "invoices", full=True)["invoices"]
    assert run.status == "succeeded", run.error
    assert (run.created, run.updated, run.deleted) == (0, 0, 1)
    assert run.api_calls == 3  # Invoice page, Bill page, one lookup by id
    gone = Invoice.objects.get(connection=qbo_connection, remote_type="Bill", remote_id=bill["Id"])
    assert gone.remote_deleted
    assert gone.status == "deleted"


def test_quiet_family_stays_incremental(qbo_connection, qbo_company, pull):
    pull(qbo_connection, "journals", full=True)
    state = SyncState.objects.get(connection=qbo_connection, entity="journals")
    assert state.cursor is not None
    assert state.cursor > timezone.now() - timedelta(days=1)
