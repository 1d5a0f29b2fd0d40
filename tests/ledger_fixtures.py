"""Shared fixtures for Ledgerlink against the sandbox over real HTTP (loaded for every test package).

The sandbox runs in pytest-django's live server; Ledgerlink's settings point both ledgers at it, exactly
as a deployment points them at the real services. Consent is given by `sandbox.consent.consent_give`,
which answers the sandbox's consent form over HTTP as a person would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from integrations.models import Connection
from sandbox.choices import SandboxProviderChoices
from sandbox.consent import consent_give
from sandbox.models import SandboxApp, Tenant

BOTH_DATABASES = ["default", "sandbox"]


@pytest.fixture
def ledgers(live_server, settings) -> str:
    """Point Ledgerlink at the sandbox in the live server; returns the live server's URL."""
    base = f"{live_server.url}/sandbox"
    settings.XERO_LOGIN_URL = f"{base}/xero/login"
    settings.XERO_IDENTITY_URL = f"{base}/xero/identity"
    settings.XERO_API_URL = f"{base}/xero/api"
    settings.QBO_DISCOVERY_URL = f"{base}/qbo/.well-known/openid_configuration"
    settings.QBO_API_URL = f"{base}/qbo"
    settings.LEDGERLINK_PUBLIC_URL = live_server.url
    return live_server.url


@pytest.fixture
def callback_url(ledgers) -> str:
    return f"{ledgers}/api/v1/connections/callback/"


@pytest.fixture
def xero_app(callback_url, settings) -> SandboxApp:
    app = SandboxApp.objects.create(
        provider=SandboxProviderChoices.XERO, name="Ledgerlink", redirect_uris=[callback_url]
    )
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = app.client_id, app.client_secret
    return app


@pytest.fixture
def qbo_app(callback_url, settings) -> SandboxApp:
    app = SandboxApp.objects.create(
        provider=SandboxProviderChoices.QBO, name="Ledgerlink", redirect_uris=[callback_url]
    )
    settings.QBO_CLIENT_ID, settings.QBO_CLIENT_SECRET = app.client_id, app.client_secret
    return app


def _no_limits(tenant: Tenant) -> Tenant:
    # Connection tests make bursts of calls; the limits have their own tests.
    tenant.limit_concurrent, tenant.limit_minute, tenant.limit_day = 100, 100_000, 1_000_000
    tenant.save()
    return tenant


@pytest.fixture
def xero_orgs(transactional_db) -> list[Tenant]:
    return [
        _no_limits(
            Tenant.objects.create(
                provider=SandboxProviderChoices.XERO,
                name="Demo Company (UK)",
                base_currency="GBP",
                country="GB",
                short_code="!uK1a",
            )
        ),
        _no_limits(
            Tenant.objects.create(
                provider=SandboxProviderChoices.XERO,
                name="Demo Company (NZ)",
                base_currency="NZD",
                country="NZ",
                short_code="!nZ2b",
            )
        ),
    ]


@pytest.fixture
def qbo_company(transactional_db) -> Tenant:
    return _no_limits(
        Tenant.objects.create(
            provider=SandboxProviderChoices.QBO,
            name="Sandbox Company_US_1",
            base_currency="USD",
            country="US",
        )
    )


def browser_cookies(client: Any) -> dict[str, str]:
    """The cookies a test client holds (the authorising browser's, such as its OAuth nonce)."""
    return {name: morsel.value for name, morsel in client.cookies.items()}


def callback_get(location: str, cookies: dict[str, str] | None = None) -> requests.Response:
    """Follow the ledger's redirect to Ledgerlink's callback as an API client would (asking for JSON),
    with the authorising browser's `cookies`."""
    return requests.get(
        location, headers={"Accept": "application/json"}, cookies=cookies, timeout=30, allow_redirects=False
    )


@pytest.fixture
def connect(api_client) -> Callable[..., requests.Response]:
    """Run the whole flow: authorize through the API, consent at the sandbox, land on the callback."""

    def run(
        provider: str, tenant_ids: list[str], *, allow: bool = True, reconnect: int | None = None, **body: Any
    ) -> requests.Response:
        if reconnect is None:
            response = api_client.post("/api/v1/connections/authorize/", {"provider": provider, **body})
        else:
            response = api_client.post(f"/api/v1/connections/{reconnect}/reconnect/", body)
        assert response.status_code == 200, response.content
        location = consent_give(response.json()["authorize_url"], tenant_ids=tenant_ids, allow=allow)
        return callback_get(location, browser_cookies(api_client))

    return run


def connection_made(
    connect: Callable[..., requests.Response], provider: str, tenant_id: str, **body: Any
) -> Connection:
    """Connect one tenant through the whole flow; returns its connection."""
    response = connect(provider, [tenant_id], **body)
    assert response.status_code == 200, response.text
    return Connection.objects.get(provider=provider, tenant_id=tenant_id)


@pytest.fixture
def xero_connection(connect, xero_app, xero_orgs):
    """The first Xero organisation, connected (unseeded: tests that pull seed it first)."""
    return connection_made(connect, "xero", xero_orgs[0].tenant_id)


@pytest.fixture
def qbo_connection(connect, qbo_app, qbo_company):
    """The QuickBooks company, connected (unseeded)."""
    return connection_made(connect, "quickbooks", qbo_company.tenant_id)


__all__ = ["BOTH_DATABASES", "browser_cookies", "callback_get", "connection_made"]
