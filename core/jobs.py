"""The small runner every background-job record shares: start, heartbeat, finish, and stale detection.

A job record is any model with `status`, `started_at`, `finished_at` and `error` (sync runs, export jobs,
connection deletions); `heartbeat_at` and `updated_at` are written when the model has them. The runner
owns only the bookkeeping every job does the same way, so statuses and timestamps mean one thing across
apps; what a job does between start and finish, and which statuses it uses, stay with the job.

Writes are either a plain save of the fields the step changed, or, with `only_while`, one conditional
UPDATE that writes only while the row's status is still one of those: the way a worker that may have been
declared dead (or whose job was cancelled) finds out, without a lock, that the job is no longer its own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _has_field(job: models.Model, name: str) -> bool:
    try:
        job._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _job_write(
    job: models.Model,
    values: dict[str, Any],
    *,
    now: datetime,
    only_while: Iterable[str] | None,
    save_all: bool,
) -> bool:
    if _has_field(job, "updated_at"):
        # A queryset update skips auto_now; a save with update_fields needs the field named to refresh it.
        values.setdefault("updated_at", now)
    if only_while is not None:
        manager = type(job)._default_manager
        written = manager.filter(pk=job.pk, status__in=list(only_while)).update(**values)
        if not written:
            return False
        for name, value in values.items():
            setattr(job, name, value)
        return True
    for name, value in values.items():
        setattr(job, name, value)
    if save_all:
        job.save()
    else:
        job.save(update_fields=list(values))
    return True


def job_start(
    job: models.Model,
    *,
    status: str,
    now: datetime | None = None,
    keep_started: bool = False,
    only_while: Iterable[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> bool:
    """A worker takes the job up: `status` (the job's "running"), `started_at` (kept from the first start
    with `keep_started`, for jobs whose duration spans resumes) and the first heartbeat, with `values`
    written alongside. False when `only_while` was given and the job's status was none of them."""
    now = now or timezone.now()
    started_at = getattr(job, "started_at", None) if keep_started else None
    written: dict[str, Any] = {"status": status, "started_at": started_at or now}
    if _has_field(job, "heartbeat_at"):
        written["heartbeat_at"] = now
    written.update(values or {})
    return _job_write(job, written, now=now, only_while=only_while, save_all=False)


def job_heartbeat(
    job: models.Model,
    *,
    now: datetime | None = None,
    only_while: Iterable[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> bool:
    """The worker is alive (and, with `values`, how far it got). False when `only_while` was given and the
    job stopped being in one of those statuses: the worker should stop."""
    now = now or timezone.now()
    written: dict[str, Any] = {"heartbeat_at": now, **(values or {})}
    return _job_write(job, written, now=now, only_while=only_while, save_all=False)


def job_finish(
    job: models.Model,
    *,
    status: str,
    error: str | None = None,
    now: datetime | None = None,
    only_while: Iterable[str] | None = None,
    values: Mapping[str, Any] | None = None,
    save_all: bool = False,
) -> bool:
    """The job ended in `status` at `now`. `error` replaces the job's error when given (None keeps it);
    `save_all` saves the whole row, for runners that carry unsaved counters on the instance."""
    now = now or timezone.now()
    written: dict[str, Any] = {"status": status, "finished_at": now}
    if error is not None:
        written["error"] = error
    written.update(values or {})
    return _job_write(job, written, now=now, only_while=only_while, save_all=save_all)


def job_stale_q(*, before: datetime, fallback: str = "started_at") -> Q:
    """Jobs whose last sign of life is older than `before`: the heartbeat, or `fallback` for a job that
    has not beaten yet (or was started before it had heartbeats). Combine with the job's running status."""
    return Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True, **{f"{fallback}__lt": before})
