"""The sandbox's sense of time, and its turn-taking on the sandbox database.

Time: a tenant (or app) with `time_scale` s lives s sandbox seconds per real second, so a rate-limit
"minute" lasts 60/s real seconds and a webhook retry delay of d seconds is waited for d/s real seconds.
Everything stored is real Unix time; scaling happens only when a length of time is turned into a wait.

Turn-taking: the test suite's sandbox database is an in-memory SQLite database in shared-cache mode,
reached by every thread (live-server request threads, the webhook sender, the test itself) through its
own connection. Shared-cache locking does not wait: a statement that meets another connection's open
write transaction fails at once with "database table is locked", whatever the busy timeout. `db_turn()`
serialises the sandbox's own database work in that case only; on a file database or PostgreSQL
(runserver, gunicorn, `sandbox_serve`) it costs a settings lookup and nothing else."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction

from sandbox.routers import SANDBOX_ALIAS

MINUTE = 60.0
DAY = 86_400.0

_in_memory_lock = threading.RLock()


def now() -> float:
    """Real Unix time in seconds, the one clock every sandbox process agrees on."""
    return time.time()


def real_seconds(sandbox_seconds: float, time_scale: float) -> float:
    """How long `sandbox_seconds` of a clock running `time_scale` times faster lasts in real seconds."""
    return sandbox_seconds / max(time_scale, 0.001)


def whole_seconds_until(moment: float, *, current: float) -> int:
    """A Retry-After value: whole seconds until `moment`, rounded up, never less than 1."""
    return max(1, math.ceil(moment - current))


def _needs_turns() -> bool:
    connection = connections[SANDBOX_ALIAS]
    name = connection.settings_dict["NAME"]
    # The same test as django.db.backends.sqlite3's is_in_memory_db().
    return (
        connection.vendor == "sqlite"
        and isinstance(name, str)
        and (name == ":memory:" or "mode=memory" in name)
    )


@contextmanager
def db_turn() -> Iterator[None]:
    if _needs_turns():
        with _in_memory_lock:
            yield
    else:
        yield


@contextmanager
def sandbox_atomic() -> Iterator[None]:
    """A transaction on the sandbox database, taken in turn when threads share its connection."""
    with db_turn(), transaction.atomic(using=SANDBOX_ALIAS):
        yield
