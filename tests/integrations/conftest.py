"""The connection tests use the shared ledger fixtures (`tests/ledger_fixtures.py`)."""

from tests.ledger_fixtures import BOTH_DATABASES, callback_get

__all__ = ["BOTH_DATABASES", "callback_get"]
