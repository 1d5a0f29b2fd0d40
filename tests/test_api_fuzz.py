"""Schema-driven fuzzing of the whole API: schemathesis generates requests from /api/schema/ (valid and
invalid parameters and bodies) for every operation, and every answer must be something other than a
500. One test walks all operations (each its own hypothesis run), so the database is set up once."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from tests.conftest import api_token_for

# The test suite's own widget app has an endpoint that fails on purpose (to test the 500 handler); logout
# would revoke the token every later case sends (it has its own tests, tests/core/test_api_tokens.py).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(
    path_regex="/testapp/|/auth/logout/"
)
# Examples per operation: a few in every run; raise it (FUZZ_EXAMPLES=100) for a deep search.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_no_operation_answers_500(staff_user, xero_app, qbo_app):
    """With both ledgers' apps registered at the sandbox, so calls that reach a ledger reach one."""
    headers = {"Authorization": f"Token {api_token_for(staff_user)}"}
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 100
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_no_500(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            answers_no_500()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
