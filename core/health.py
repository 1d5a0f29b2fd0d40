"""Health checks of what Ledgerlink cannot work without: its database and its task queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connections

CheckResult = dict[str, Any]


def _timed(check: Callable[[], dict[str, Any]]) -> CheckResult:
    started = time.perf_counter()
    try:
        details = check()
        result: CheckResult = {"status": "ok", **details}
    except Exception as exc:  # any failure is the answer, not a crash of the health endpoint
        result = {"status": "fail", "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def _database() -> dict[str, Any]:
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _task_queue() -> dict[str, Any]:
    from django_q.brokers import get_broker
    from django_q.status import Stat

    broker = get_broker()
    if not broker.ping():
        raise ConnectionError("the task broker did not answer")
    clusters = Stat.get_all(broker=broker) or []
    return {
        "broker": type(broker).__name__,
        "queued": broker.queue_size(),
        # Clusters report a heartbeat through the shared cache; zero means queued tasks will not run.
        "clusters": len(clusters),
        "workers": sum(len(cluster.workers) for cluster in clusters),
    }


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {"database": _database, "task_queue": _task_queue}


def health_check() -> tuple[bool, dict[str, CheckResult]]:
    """Run every check; healthy only if all pass."""
    results = {name: _timed(check) for name, check in CHECKS.items()}
    return all(result["status"] == "ok" for result in results.values()), results
