"""Fixtures for driving the sandbox over real HTTP with the unmodified SDKs.

The sandbox runs in pytest-django's live server thread; tests reach it only through HTTP."""

from __future__ import annotations

import pytest
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.identity import IdentityApi

from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant
from sandbox.xero import tokens

XERO_SCOPES = (
    "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings "
    "accounting.journals.read"
)


@pytest.fixture(autouse=True)
def _oauthlib_allows_loopback_http(monkeypatch):
    # The sandbox is served over plain http on loopback; oauthlib refuses that unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def sandbox_url(live_server) -> str:
    return f"{live_server.url}/sandbox/xero"


@pytest.fixture
def xero_app(transactional_db) -> SandboxApp:
    return SandboxApp.objects.create(
        provider=SandboxProviderChoices.XERO,
        name="Ledgerlink tests",
        redirect_uris=["http://127.0.0.1:9/callback"],
    )


@pytest.fixture
def xero_org(transactional_db) -> Tenant:
    return Tenant.objects.create(
        provider=SandboxProviderChoices.XERO,
        name="Demo Company (UK)",
        base_currency="GBP",
        country="GB",
        short_code="!aB1c",
    )


@pytest.fixture
def xero_token(xero_app, xero_org) -> dict:
    """A token response for a consent to `xero_org` with the broad scopes, as the token endpoint gives."""
    grant = tokens.grant_create(app=xero_app, scopes=XERO_SCOPES, tenants=[xero_org])
    return tokens.tokens_issue(grant=grant)


def make_api_client(app: SandboxApp, token: dict, sandbox_url: str) -> ApiClient:
    """An SDK client as Ledgerlink builds one: fresh token object, urllib3's hidden retries off, sandbox URLs."""
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=app.client_id, client_secret=app.client_secret)
    client = ApiClient(configuration, pool_threads=1)
    state = {"token": {**token, "scope": token["scope"].split()}}
    client.oauth2_token_getter(lambda: state["token"])
    client.oauth2_token_saver(lambda new: state.update(token=new))
    client.set_oauth2_token(state["token"])
    client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
        total=0, respect_retry_after_header=False
    )
    return client


@pytest.fixture
def xero_client(xero_app, xero_token, sandbox_url) -> ApiClient:
    return make_api_client(xero_app, xero_token, sandbox_url)


@pytest.fixture
def accounting_api(xero_client, sandbox_url) -> AccountingApi:
    return AccountingApi(xero_client, base_url=f"{sandbox_url}/api/api.xro/2.0")


@pytest.fixture
def identity_api(xero_client, sandbox_url) -> IdentityApi:
    return IdentityApi(xero_client, base_url=f"{sandbox_url}/api")


# --- QuickBooks Online --------------------------------------------------------------------------------

QBO_SCOPES = "com.intuit.quickbooks.accounting openid profile email"


@pytest.fixture
def qbo_url(live_server) -> str:
    return f"{live_server.url}/sandbox/qbo"


@pytest.fixture
def qbo_app(transactional_db) -> SandboxApp:
    return SandboxApp.objects.create(
        provider=SandboxProviderChoices.QBO,
        name="Ledgerlink tests",
        redirect_uris=["http://127.0.0.1:9/qbo/callback"],
    )


@pytest.fixture
def qbo_company(transactional_db) -> Tenant:
    return Tenant.objects.create(
        provider=SandboxProviderChoices.QBO,
        name="Sandbox Company_US_1",
        base_currency="USD",
        country="US",
        limit_concurrent=10,
        limit_minute=500,
        limit_day=1_000_000,
    )


@pytest.fixture
def qbo_token(qbo_app, qbo_company) -> dict:
    from sandbox.qbo import tokens as qbo_tokens

    grant = qbo_tokens.grant_create(
        app=qbo_app, scopes=QBO_SCOPES, tenant=qbo_company, user_email="sandbox.user@example.com"
    )
    return qbo_tokens.tokens_issue(grant=grant)


def make_qbo_client(app: SandboxApp, company: Tenant, token: dict, qbo_url: str):
    """A python-quickbooks client as Ledgerlink builds one: AuthClient from the sandbox's discovery
    document, the v3 base URL overridden on the instance."""
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks

    auth_client = AuthClient(
        app.client_id,
        app.client_secret,
        app.redirect_uris[0],
        f"{qbo_url}/.well-known/openid_configuration",
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        realm_id=company.tenant_id,
    )
    client = QuickBooks(
        auth_client=auth_client,
        refresh_token=token["refresh_token"],
        company_id=company.tenant_id,
        minorversion=75,
    )
    client.api_url_v3 = f"{qbo_url}/v3"
    return client


@pytest.fixture
def qbo_client(qbo_app, qbo_company, qbo_token, qbo_url):
    return make_qbo_client(qbo_app, qbo_company, qbo_token, qbo_url)
