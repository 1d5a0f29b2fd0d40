"""Background work of the mirror. Thin: ids in, one service call."""

from __future__ import annotations

from accounting import exports
from accounting.pull import entity_pull


def pull_entity(run_id: int) -> str | None:
    run = entity_pull(run_id=run_id)
    return None if run is None else run.status


def export_run(export_id: int) -> str | None:
    job = exports.export_job_run(export_id=export_id)
    return None if job is None else job.status


def exports_purge() -> int:
    return exports.exports_purge()
