"""Shared fixtures: users, API clients and an isolated django-q broker state."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from core.roles import INTEGRATION_ADMIN
from core.services import api_token_create

# Ledgers in the live server, apps, organisations and the OAuth flow, for every test package.
pytest_plugins = ["tests.ledger_fixtures"]


@pytest.fixture
def staff_user(db):
    """A staff user in the Integration admin role: may do everything the API offers (the roles and what
    each may do have their own tests, tests/core/test_permissions.py)."""
    user = get_user_model().objects.create_user(
        username="bookkeeper", email="bk@example.com", password="correct horse battery", is_staff=True
    )
    user.groups.add(Group.objects.get(name=INTEGRATION_ADMIN.name))
    # The suite's stand-in app is no app of the roles'.
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="testapp"))
    return user


@pytest.fixture
def bare_staff_user(db):
    """Staff (may log in to the admin and reach the API) but holding no permission at all."""
    return get_user_model().objects.create_user(
        username="newstarter", password="correct horse battery", is_staff=True
    )


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user(username="customer", password="correct horse battery")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def api_token_for(user, **options) -> str:
    """A new API token's key for any user (staff or not), made as the service makes them."""
    return api_token_create(user=user, **options)[1]


@pytest.fixture
def api_client(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(staff_user)}")
    return client


def _postgres_flush_by_delete() -> None:
    """Between transactional tests Django empties every table with one TRUNCATE of all of them, which on
    PostgreSQL costs about a second (a new file per table); the tests' tables hold a few rows, which DELETE
    removes in milliseconds. Foreign keys are deferred on PostgreSQL, so the order does not matter."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences:
            return truncate(self, style, tables, reset_sequences=True, allow_cascade=allow_cascade)
        return [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_postgres_flush_by_delete()
