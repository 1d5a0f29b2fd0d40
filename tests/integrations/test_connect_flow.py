"""Connect, reconnect, deny, tampered and replayed state: the OAuth flow end to end over real HTTP."""

from __future__ import annotations

import pytest

from integrations.models import Connection, Credential
from sandbox.models import XeroConnection
from tests.integrations.conftest import BOTH_DATABASES

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)


def test_xero_connect_creates_one_connection_per_organisation(connect, xero_app, xero_orgs, staff_user):
    response = connect("xero", [org.tenant_id for org in xero_orgs])

    assert response.status_code == 200, response.text
    connections = {c.tenant_id: c for c in Connection.objects.all()}
    assert set(connections) == {org.tenant_id for org in xero_orgs}
    uk = connections[xero_orgs[0].tenant_id]
    assert (uk.display_name, uk.short_code, uk.base_currency, uk.country, uk.status) == (
        "Demo Company (UK)",
        "!uK1a",
        "GBP",
        "GB",
        "active",
    )
    assert uk.created_by == staff_user
    # One consent, one credential shared by both organisations (its refresh token rotates for both).
    assert Credential.objects.count() == 1
    assert uk.credential_id == connections[xero_orgs[1].tenant_id].credential_id
    assert uk.remote_connection_id == str(XeroConnection.objects.get(tenant=xero_orgs[0]).id)


def test_qbo_connect_uses_the_realm(connect, qbo_app, qbo_company):
    response = connect("quickbooks", [qbo_company.tenant_id])

    assert response.status_code == 200, response.text
    connection = Connection.objects.get()
    assert (connection.provider, connection.tenant_id, connection.display_name, connection.base_currency) == (
        "quickbooks",
        qbo_company.tenant_id,
        "Sandbox Company_US_1",
        "USD",
    )
    assert connection.status == "active"
