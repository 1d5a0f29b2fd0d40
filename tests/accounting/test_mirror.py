"""The open mirror engine and the declared references, used the way a push write-back or a webhook read
will: records from any call, not a pull's page."""

from __future__ import annotations

import pytest

from accounting.families import CONTACT, FAMILIES, LINE_ACCOUNT
from accounting.mirror import mirror_pass_finish, mirror_records_apply, mirror_records_flag_deleted
from accounting.models import Account, Contact, Invoice
from accounting.references import reference_remote_ids, reference_resolve

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def mirrored(xero_connection, pull):
    runs = pull(xero_connection, "accounts", "contacts", "invoices", full=True)
    assert {run.status for run in runs.values()} == {"succeeded"}
    return xero_connection


def test_references_resolve_both_ways(mirrored):
    invoice = Invoice.objects.filter(connection=mirrored, contact__isnull=False).first()
    assert invoice is not None
    key = (invoice.contact_remote_type, invoice.contact_remote_id)
    contact_id = invoice.contact_id
    assert contact_id is not None
    assert reference_resolve(connection=mirrored, reference=CONTACT, keys=[key, ("Contact", "")]) == {
        key: invoice.contact_id
    }
    assert reference_remote_ids(connection=mirrored, reference=CONTACT, ids=[contact_id]) == {contact_id: key}
    # A reference that keeps no remote type matches the target by its id alone.
    account = Account.objects.filter(connection=mirrored).first()
    assert account is not None
    assert reference_resolve(connection=mirrored, reference=LINE_ACCOUNT, keys=[("", account.remote_id)]) == {
        ("", account.remote_id): account.pk
    }
    assert reference_remote_ids(connection=mirrored, reference=LINE_ACCOUNT, ids=[account.pk]) == {
        account.pk: (account.remote_type, account.remote_id)
    }
    # A reference to a record not mirrored resolves to nothing.
    assert reference_resolve(connection=mirrored, reference=CONTACT, keys=[("Contact", "no-such-id")]) == {}


def test_records_from_any_call_are_applied_and_the_changes_reported(mirrored):
    family = FAMILIES["invoices"]
    invoice = Invoice.objects.filter(connection=mirrored, contact__isnull=False).order_by("pk").first()
    assert invoice is not None
    Invoice.objects.filter(pk=invoice.pk).update(link_object_id="42")
    payload = dict(invoice.raw)
    # PostgreSQL's jsonb hands the stored copy back with its keys reordered, so its text (and content hash)
    # may differ from the ledger's: applying it once stores this very text.
    mirror_records_apply(connection=mirrored, family=family, records=[(invoice.remote_type, payload)])

    same = mirror_records_apply(connection=mirrored, family=family, records=[(invoice.remote_type, payload)])
    assert (same.fetched, same.unchanged, same.created, same.changed, same.deleted) == (1, 1, [], [], [])

    payload["Reference"] = "changed by the ledger"
    changed = mirror_records_apply(
        connection=mirrored, family=family, records=[(invoice.remote_type, payload)]
    )
    assert (changed.updated, changed.changed, changed.linked, changed.linked_changed) == (
        1,
        [invoice.pk],
        {invoice.pk},
        [invoice.pk],
    )
    invoice.refresh_from_db()
    assert invoice.reference == "changed by the ledger"
    assert invoice.contact_id is not None  # the declared reference was resolved again

    payload = {**payload, "InvoiceID": "00000000-0000-0000-0000-00000000abcd", "InvoiceNumber": "NEW-1"}
    created = mirror_records_apply(
        connection=mirrored, family=family, records=[(invoice.remote_type, payload)]
    )
    assert len(created.created) == 1
    assert created.linked == set()
    new = Invoice.objects.get(pk=created.created[0])
    assert (new.number, new.contact_id) == ("NEW-1", invoice.contact_id)

    flagged = mirror_records_flag_deleted(
        connection=mirrored, family=family, keys=[(invoice.remote_type, invoice.remote_id)]
    )
    assert (flagged.deleted, flagged.linked) == ([invoice.pk], {invoice.pk})
    again = mirror_records_flag_deleted(
        connection=mirrored, family=family, keys=[(invoice.remote_type, invoice.remote_id)]
    )
    assert again.deleted == []
    assert Invoice.objects.get(pk=invoice.pk).remote_deleted is True


def test_a_pass_over_contacts_links_documents_that_arrived_before_their_contact(mirrored):
    linked = dict(
        Invoice.objects.filter(connection=mirrored, contact__isnull=False).values_list("pk", "contact_id")
    )
    assert linked
    Invoice.objects.filter(pk__in=linked).update(contact=None)
    mirror_pass_finish(connection=mirrored, family=FAMILIES["accounts"])  # declares no hook
    assert not Invoice.objects.filter(pk__in=linked, contact__isnull=False).exists()
    mirror_pass_finish(connection=mirrored, family=FAMILIES["contacts"])
    assert dict(Invoice.objects.filter(pk__in=linked).values_list("pk", "contact_id")) == linked
    assert Contact.objects.filter(pk__in=linked.values(), connection=mirrored).count() == len(
        set(linked.values())
    )
