"""The shared background-job runner (`core.jobs`) on real job records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.jobs import job_finish, job_heartbeat, job_stale_q, job_start
from integrations.choices import ConnectionDeletionStatusChoices as Deletion
from integrations.choices import SyncModeChoices, SyncRunStatusChoices, SyncTriggerChoices
from integrations.models import Connection, ConnectionDeletion, SyncRun

pytestmark = pytest.mark.django_db


def _deletion() -> ConnectionDeletion:
    return ConnectionDeletion.objects.create(
        connection_id=1, connection_name="Demo", provider="xero", tenant_id="t-1"
    )


def _run() -> SyncRun:
    connection = Connection.objects.create(provider="xero", display_name="Demo", tenant_id="t-1")
    return SyncRun.objects.create(
        connection=connection,
        entity="contacts",
        mode=SyncModeChoices.FULL,
        trigger=SyncTriggerChoices.MANUAL,
    )


def test_start_and_finish_write_status_and_times():
    deletion = _deletion()
    deletion.error = "from a failed attempt"
    deletion.save()
    now = timezone.now()
    assert job_start(deletion, status=Deletion.RUNNING, now=now, values={"error": ""})
    deletion.refresh_from_db()
    assert (deletion.status, deletion.started_at, deletion.error) == (Deletion.RUNNING, now, "")
    later = now + timedelta(seconds=3)
    assert job_finish(deletion, status=Deletion.SUCCEEDED, now=later)
    deletion.refresh_from_db()
    assert (deletion.status, deletion.finished_at, deletion.error) == (Deletion.SUCCEEDED, later, "")


def test_finish_with_error_replaces_it_and_none_keeps_it():
    deletion = _deletion()
    job_finish(deletion, status=Deletion.FAILED, error="boom")
    deletion.refresh_from_db()
    assert deletion.error == "boom"
    job_finish(deletion, status=Deletion.SUCCEEDED)
    deletion.refresh_from_db()
    assert (deletion.status, deletion.error) == (Deletion.SUCCEEDED, "boom")


def test_start_beats_the_heartbeat_and_can_keep_the_first_start():
    run = _run()
    first = timezone.now() - timedelta(minutes=10)
    job_start(run, status=SyncRunStatusChoices.RUNNING, now=first)
    now = timezone.now()
    job_start(run, status=SyncRunStatusChoices.RUNNING, now=now, keep_started=True)
    run.refresh_from_db()
    assert (run.started_at, run.heartbeat_at) == (first, now)
    job_start(run, status=SyncRunStatusChoices.RUNNING, now=now)
    run.refresh_from_db()
    assert run.started_at == now


def test_guarded_writes_happen_only_in_the_given_statuses():
    run = _run()
    assert not job_start(run, status=SyncRunStatusChoices.RUNNING, only_while=[SyncRunStatusChoices.WAITING])
    run.refresh_from_db()
    assert (run.status, run.started_at) == (SyncRunStatusChoices.QUEUED, None)
    assert job_start(run, status=SyncRunStatusChoices.RUNNING, only_while=[SyncRunStatusChoices.QUEUED])
    beat = timezone.now() + timedelta(seconds=1)
    assert job_heartbeat(run, now=beat, only_while=[SyncRunStatusChoices.RUNNING], values={"fetched": 7})
    run.refresh_from_db()
    assert (run.heartbeat_at, run.fetched) == (beat, 7)
    job_finish(run, status=SyncRunStatusChoices.CANCELLED)
    assert not job_heartbeat(run, only_while=[SyncRunStatusChoices.RUNNING], values={"fetched": 9})
    run.refresh_from_db()
    assert (run.heartbeat_at, run.fetched) == (beat, 7)


def test_stale_jobs_are_those_without_a_recent_sign_of_life():
    now = timezone.now()
    quiet, fresh, never_beat = _run(), None, None
    SyncRun.objects.filter(pk=quiet.pk).update(heartbeat_at=now - timedelta(minutes=10))
    fresh = SyncRun.objects.create(
        connection=quiet.connection, entity="accounts", mode="full", trigger="manual", heartbeat_at=now
    )
    never_beat = SyncRun.objects.create(
        connection=quiet.connection,
        entity="items",
        mode="full",
        trigger="manual",
        started_at=now - timedelta(minutes=10),
    )
    stale = set(
        SyncRun.objects.filter(job_stale_q(before=now - timedelta(minutes=5))).values_list("pk", flat=True)
    )
    assert stale == {quiet.pk, never_beat.pk}
    assert fresh.pk not in stale
