"""A listing ordered by update time shifts when a record already read changes mid-pass: it moves to the
end, and the record after the read position slides back behind it, unread. The engine notices the record
listed twice and makes the next pass start from before it, so nothing stays missed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounting import mirror
from accounting.models import Contact
from core.jsontext import decode
from integrations.models import SyncState
from integrations.providers.xero import fields as xero_fields
from integrations.providers.xero import pull as xero_pull
from sandbox.xero.api import services as xero

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_a_record_pushed_out_of_the_listing_is_read_by_the_next_pass(
    xero_connection, xero_orgs, pull, monkeypatch
):
    tenant = xero_orgs[0]
    monkeypatch.setattr(xero_pull, "PAGE_SIZE", 5)
    pull(xero_connection, "contacts", full=True)
    before = SyncState.objects.get(connection=xero_connection, entity="contacts").cursor
    assert before is not None

    active = [
        decode(text)["ContactID"]
        for text in xero.records_list(
            tenant=tenant, collection="Contacts", query=xero.ListQuery(page_size=1000)
        ).items
    ][:6]
    for number, contact_id in enumerate(active):
        xero.record_update(
            tenant=tenant, collection="Contacts", ref=contact_id, payload={"FirstName": f"Changed {number}"}
        )
    # The order the incremental pass will list them in (oldest change first).
    listed = [
        decode(text)["ContactID"]
        for text in xero.records_list(
            tenant=tenant,
            collection="Contacts",
            query=xero.ListQuery(
                order="UpdatedDateUTC ASC", page_size=1000, modified_since=before - timedelta(seconds=300)
            ),
        ).items
    ]
    assert sorted(listed) == sorted(active)
    first, pushed_out = listed[0], listed[-1]

    original = mirror.mirror_records_apply
    pages: list[int] = []

    def apply_then_change_the_first(**kwargs):
        changes = original(**kwargs)
        pages.append(len(kwargs["records"]))
        if len(pages) == 1:
            xero.record_update(
                tenant=tenant, collection="Contacts", ref=first, payload={"FirstName": "Changed again"}
            )
        return changes

    monkeypatch.setattr(mirror, "mirror_records_apply", apply_then_change_the_first)
    run = pull(xero_connection, "contacts")["contacts"]
    assert run.status == "succeeded"
    assert pages == [5, 1]  # the sixth change was pushed behind the read position, the first came twice
    assert Contact.objects.get(connection=xero_connection, remote_id=pushed_out).first_name != "Changed 5"
    state = SyncState.objects.get(connection=xero_connection, entity="contacts")
    # The cursor stays before the record listed twice, so the next pass reads the missed one.
    first_text = xero.record_get(tenant=tenant, collection="Contacts", ref=listed[1])
    assert first_text is not None
    first_changed_at = xero_fields.ms_datetime(decode(first_text)["UpdatedDateUTC"])
    assert state.cursor is not None
    assert first_changed_at is not None
    assert state.cursor < first_changed_at

    monkeypatch.setattr(mirror, "mirror_records_apply", original)
    again = pull(xero_connection, "contacts")["contacts"]
    assert again.status == "succeeded"
    assert (
        Contact.objects.get(connection=xero_connection, remote_id=pushed_out).first_name
        == f"Changed {active.index(pushed_out)}"
    )
    assert Contact.objects.get(connection=xero_connection, remote_id=first).first_name == "Changed again"
