"""Enqueueing background work: ids in, after the transaction commits (never a task for a rolled-back row)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_q.tasks import async_task


def task_enqueue_on_commit(func: str, *args: Any, task_name: str = "", **kwargs: Any) -> None:
    """Queue `func` (a dotted path) with scalar arguments once the current transaction commits."""
    options: dict[str, Any] = {"task_name": task_name} if task_name else {}

    def enqueue() -> None:
        async_task(func, *args, **kwargs, **options)

    transaction.on_commit(enqueue)
