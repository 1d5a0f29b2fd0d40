"""django-q2's broker choice: the database by default, Redis when REDIS_URL is set."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "from django_q.brokers import get_broker; b = get_broker(); print(type(b).__name__, b.ping())"


def broker_in_subprocess(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_orm_broker_by_default():
    assert broker_in_subprocess() == "ORM True"


def _redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_available(), reason="no Redis server on 127.0.0.1:6379 on this machine")
def test_redis_broker_when_redis_url_is_set():
    assert broker_in_subprocess(REDIS_URL="redis://127.0.0.1:6379/15") == "Redis True"
