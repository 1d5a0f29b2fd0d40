"""Fixtures for pulling from the sandbox: a seeded Xero organisation and QBO company, each connected
through the real OAuth flow, and helpers to pull and to read the sandbox's own records."""

from __future__ import annotations

import pytest

from accounting.services import connection_pull_now
from integrations.models import Connection
from sandbox.qbo.seed import company_seed
from sandbox.xero.seed import organisation_seed
from tests.ledger_fixtures import connection_made


@pytest.fixture
def xero_connection(xero_app, xero_orgs, connect) -> Connection:
    """The shared connection fixture's organisation, seeded before it connects."""
    organisation_seed(tenant=xero_orgs[0], contacts=12, invoices=40, seed=3)
    return connection_made(connect, "xero", str(xero_orgs[0].tenant_id))


@pytest.fixture
def qbo_connection(qbo_app, qbo_company, connect) -> Connection:
    company_seed(tenant=qbo_company, customers=12, invoices=40, seed=3)
    return connection_made(connect, "quickbooks", str(qbo_company.tenant_id))


@pytest.fixture
def pull():
    def run(connection: Connection, *entities: str, full: bool = False):
        runs = connection_pull_now(connection=connection, entities=list(entities) or None, full=full)
        return {run.entity: run for run in runs}

    return run
