"""Schema-driven fuzzing of the whole API: schemathesis generates requests from /api/schema/ (valid and
invalid parameters and bodies) for every operation, over data that came through a real sync, and
every answer must be something other than a 500."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from config.wsgi import application

# The test suite's own widget app has an endpoint that fails on purpose (to test the 500 handler).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(path_regex="/testapp/")
# Examples per operation: a few in every run; raise it (FUZZ_EXAMPLES=100) for a deep search.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def token(staff_user, xero_app, qbo_app) -> str:
    """A staff token, with both ledgers' apps registered at the sandbox (so calls that reach a ledger,
    such as starting an authorisation, reach one)."""
    return Token.objects.get_or_create(user=staff_user)[0].key


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)
def test_no_operation_answers_500(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error])
