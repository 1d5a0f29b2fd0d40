"""Single-flight refresh under real concurrency: many workers find the access token expired at the same
moment, exactly one refresh reaches the ledger, and every worker's call succeeds.

PostgreSQL only: the workers are threads with their own database connections, contending for the
credential row's `SELECT ... FOR UPDATE` lock, which is what production's processes do. SQLite's test
database cannot be shared by concurrent connections that way."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection

from integrations import services
from integrations.models import Connection
from tests.integrations.conftest import BOTH_DATABASES
from tests.integrations.test_tokens import (
    access_expire,
    connection_made,
    credential_of,
    refresh_count,
    sandbox_app_of,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES),
    pytest.mark.skipif(
        db_connection.vendor != "postgresql",
        reason="needs PostgreSQL: concurrent connections contending for SELECT ... FOR UPDATE "
        "(run with DATABASE_URL=postgres://...)",
    ),
]

WORKERS = 20
XERO_ROUNDS = 50
# The acceptance asks for 50 rounds on each ledger (QBO rounds cost about twice Xero's: ~1.2 s each).
QBO_ROUNDS = 50


class Workers:
    """WORKERS threads that, round after round, each test the connection at the same moment.

    The threads live for all rounds (a new database connection per thread and round would cost more
    than the round itself); each closes its database connection when it ends."""

    def __init__(self, connection_id: int, rounds: int) -> None:
        self.connection_id, self.rounds = connection_id, rounds
        self.ready = threading.Barrier(WORKERS + 1)  # the main thread expired the token: go
        self.go = threading.Barrier(WORKERS)  # every worker has loaded its connection: test it
        self.done = threading.Barrier(WORKERS + 1)  # every worker has its result
        self.results: list[object] = [None] * WORKERS
        self.threads = [threading.Thread(target=self._work, args=(i,)) for i in range(WORKERS)]

    def __enter__(self) -> Workers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for barrier in (self.ready, self.go, self.done):
            barrier.abort()  # releases the workers when the test failed half-way
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self.threads), "a worker hung"

    def _work(self, index: int) -> None:
        try:
            for _round in range(self.rounds):
                self.ready.wait(timeout=60)
                try:
                    connection = Connection.objects.get(pk=self.connection_id)
                    self.go.wait(timeout=30)
                    self.results[index] = services.connection_test(connection=connection)
                except threading.BrokenBarrierError:
                    raise
                except Exception as exc:  # reported by the test, not lost in the thread
                    self.results[index] = exc
                self.done.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        finally:
            db_connection.close()

    def round(self) -> list[object]:
        """Start one round and wait for every worker's HealthResult or exception."""
        self.results = [None] * WORKERS
        self.ready.wait(timeout=60)
        self.done.wait(timeout=120)
        return list(self.results)


@pytest.fixture(autouse=True)
def _budget_windows_short(settings):
    # A thousand connection tests in a minute would spend the rate budget's minute many times over (they
    # go through it like every ledger call); the budget has its own tests, so its windows are shortened
    # here. Its concurrency limit still holds: the workers take turns for the connection's slots.
    settings.RATE_LIMIT_TIME_SCALE = 1000


def _race(connection: Connection, rounds: int) -> None:
    """`rounds` times: expire the access token, let WORKERS workers test the connection at once."""
    credential = credential_of(connection)
    app = sandbox_app_of(credential)
    with Workers(connection.pk, rounds) as workers:
        for number in range(rounds):
            before, before_count = credential_of(connection), refresh_count(app)
            access_expire(credential.pk)

            results = workers.round()

            failures = [r for r in results if not (isinstance(r, services.HealthResult) and r.ok)]
            assert failures == [], f"round {number}: {failures[:3]}"
            assert refresh_count(app) - before_count == 1, f"round {number}: refreshes at the ledger"
            after = credential_of(connection)
            assert after.version == before.version + 1, f"round {number}"
            assert after.tokens["refresh_token"] != before.tokens["refresh_token"], f"round {number}"
            assert after.last_error == "", f"round {number}"
            current = Connection.objects.get(pk=connection.pk)
            assert (current.status, current.status_reason) == ("active", ""), f"round {number}"
    assert credential_of(connection).version == credential.version + rounds


def test_xero_refresh_is_single_flight_under_concurrency(connect, xero_app, xero_orgs):
    _race(connection_made(connect, "xero", xero_orgs[0].tenant_id), XERO_ROUNDS)


def test_quickbooks_refresh_is_single_flight_under_concurrency(connect, qbo_app, qbo_company, settings):
    # Every refresh rotates the refresh token and retires the old one: a second refresh with the old
    # token would be refused (invalid_grant), so any double refresh shows.
    settings.SANDBOX_QBO_REFRESH_ROTATE_SECONDS = 0
    _race(connection_made(connect, "quickbooks", qbo_company.tenant_id), QBO_ROUNDS)
