"""The minute dispatcher: first syncs, schedules per family, disabled families, paused ones resuming
after re-authorisation. Tasks run synchronously on commit in tests, so a queued run has run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun, SyncState
from integrations.services import connection_update
from integrations.sync import sync_dispatch

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_schedules_follow_each_familys_frequency(xero_connection):
    first = sync_dispatch()
    families = len(xero_connection.settings["entities"])
    assert first.scheduled == families
    assert SyncRun.objects.filter(status="succeeded", trigger="schedule").count() == families
    assert sync_dispatch().scheduled == 0  # nothing due yet

    connection_update(
        connection=xero_connection,
        settings_patch={"entities": {"invoices": {"frequency_minutes": 5}, "items": {"enabled": False}}},
    )
    later = timezone.now() + timedelta(minutes=6)
    SyncState.objects.filter(connection=xero_connection, entity="invoices").update(
        next_run_at=later - timedelta(minutes=1)
    )
    result = sync_dispatch(now=later)
    assert result.scheduled == 1
    newest = SyncRun.objects.order_by("-pk").first()
    assert newest is not None
    assert (newest.entity, newest.mode, newest.status) == ("invoices", "incremental", "succeeded")
    assert SyncState.objects.get(connection=xero_connection, entity="items").state == "disabled"
    state = SyncState.objects.get(connection=xero_connection, entity="invoices")
    assert state.next_run_at is not None
    assert state.next_run_at > timezone.now()


def test_paused_family_waits_for_reauthorisation(xero_connection):
    sync_dispatch()
    state = SyncState.objects.get(connection=xero_connection, entity="contacts")
    failed_at = timezone.now()
    SyncState.objects.filter(pk=state.pk).update(state="paused", last_failure_at=failed_at, next_run_at=None)
    assert sync_dispatch(now=failed_at + timedelta(minutes=1)).scheduled == 0
    xero_connection.status_changed_at = failed_at + timedelta(seconds=1)
    xero_connection.save(update_fields=["status_changed_at"])
    assert sync_dispatch(now=failed_at + timedelta(minutes=1)).scheduled == 1
    assert SyncState.objects.get(pk=state.pk).state == "synced"
