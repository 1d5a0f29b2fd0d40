"""Background work of the mirror. Thin: ids in, one service call."""

from __future__ import annotations

from accounting.pull import entity_pull


def pull_entity(run_id: int) -> str | None:
    run = entity_pull(run_id=run_id)
    return None if run is None else run.status
