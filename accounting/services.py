"""Use cases of the mirror that callers outside the background tasks need."""

from __future__ import annotations

from accounting.pull import entity_pull
from integrations.choices import SyncTriggerChoices
from integrations.models import Connection, SyncRun
from integrations.sync import sync_request


def connection_pull_now(
    *, connection: Connection, entities: list[str] | None = None, full: bool = False
) -> list[SyncRun]:
    """Pull the families in this process, one after the other (the `sync_pull` command, benches).
    A family with a run already queued or running elsewhere is left to that run."""
    runs = sync_request(
        connection=connection, entities=entities, full=full, trigger=SyncTriggerChoices.MANUAL, enqueue=False
    )
    done = []
    for run in runs:
        finished = entity_pull(run_id=run.pk)
        done.append(finished or SyncRun.objects.get(pk=run.pk))
    return done
