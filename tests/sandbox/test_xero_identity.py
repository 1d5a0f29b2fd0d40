"""The emulated Xero identity server, driven by a standard OAuth client and the unmodified SDK."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.utils import timezone
from requests_oauthlib import OAuth2Session
from xero_python.api_client.oauth2 import TokenApi
from xero_python.exceptions import HTTPStatusException
from xero_python.identity import IdentityApi

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant, XeroAuthCode, XeroConnection, XeroToken
from tests.sandbox.conftest import XERO_SCOPES, make_api_client

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

REDIRECT_URI = "http://127.0.0.1:9/callback"
INVALID_GRANT = b'{"error":"invalid_grant"}'


@pytest.fixture
def second_org(transactional_db) -> Tenant:
    return Tenant.objects.create(
        provider=SandboxProviderChoices.XERO, name="Second Org Ltd", base_currency="EUR", country="IE"
    )


@pytest.fixture
def token_urls(sandbox_url, monkeypatch):
    """Point the SDK's class-level token endpoints at the sandbox, as Ledgerlink does at start-up."""
    for attribute in ("refresh_token_url", "client_credentials_token_url"):
        monkeypatch.setattr(TokenApi, attribute, f"{sandbox_url}/identity/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{sandbox_url}/identity/connect/revocation")


def consent(
    session: requests.Session, authorize_url: str, decision: str = "allow", tenants=()
) -> dict[str, list[str]]:
    """Act as the user on the consent page; return the query the browser is redirected back with."""
    page = session.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form.update(decision=decision, user_email="owner@example.com")
    response = session.post(
        authorize_url.split("?")[0],
        data={**form, "tenant": list(tenants)},
        headers={"Referer": authorize_url},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return parse_qs(urlparse(location).query)


def authorize_with_pkce(xero_app, sandbox_url, tenants, scope=XERO_SCOPES):
    oauth = OAuth2Session(xero_app.client_id, redirect_uri=REDIRECT_URI, scope=scope.split(), pkce="S256")
    url, state = oauth.authorization_url(f"{sandbox_url}/login/identity/connect/authorize")
    query = consent(requests.Session(), url, tenants=[t.tenant_id for t in tenants])
    assert query["state"] == [state]
    return oauth, query["code"][0]


def test_full_pkce_flow_connects_chosen_organisations(xero_app, xero_org, second_org, sandbox_url):
    oauth, code = authorize_with_pkce(xero_app, sandbox_url, [second_org])
    token = oauth.fetch_token(
        f"{sandbox_url}/identity/connect/token",
        code=code,
        client_secret=xero_app.client_secret,
        include_client_id=True,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 1800
    assert token["scope"] == XERO_SCOPES.split()
    assert token["refresh_token"]
    assert token["id_token"].count(".") == 2
    client = make_api_client(xero_app, {**token, "scope": " ".join(token["scope"])}, sandbox_url)
    connections = IdentityApi(client, base_url=f"{sandbox_url}/api").get_connections()
    assert [(c.tenant_id, c.tenant_name, c.tenant_type) for c in connections] == [
        (second_org.tenant_id, "Second Org Ltd", "ORGANISATION")
    ]


def test_pkce_public_client_needs_no_secret_but_a_right_verifier(xero_app, xero_org, sandbox_url):
    oauth, code = authorize_with_pkce(xero_app, sandbox_url, [xero_org])
    token_url = f"{sandbox_url}/identity/connect/token"
    wrong = requests.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": xero_app.client_id,
            "code_verifier": "x" * 43,
        },
        timeout=10,
    )
    assert (wrong.status_code, wrong.content) == (400, INVALID_GRANT)
    right = requests.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": xero_app.client_id,
            "code_verifier": oauth._code_verifier,
        },
        timeout=10,
    )
    # The failed attempt did not burn the code: only a redemption does.
    assert right.status_code == 200, right.content


def basic(app) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    }


def exchange(app, sandbox_url, code, redirect_uri=REDIRECT_URI) -> requests.Response:
    return requests.post(
        f"{sandbox_url}/identity/connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        headers=basic(app),
        timeout=10,
    )


def plain_code(xero_app, sandbox_url, tenants) -> str:
    url = (
        f"{sandbox_url}/login/identity/connect/authorize?response_type=code&client_id={xero_app.client_id}"
        f"&redirect_uri={REDIRECT_URI}&scope=offline_access+accounting.transactions&state=s1"
    )
    return consent(requests.Session(), url, tenants=[t.tenant_id for t in tenants])["code"][0]


def test_code_is_single_use_and_a_replay_revokes_what_it_issued(xero_app, xero_org, sandbox_url):
    code = plain_code(xero_app, sandbox_url, [xero_org])
    first = exchange(xero_app, sandbox_url, code)
    assert first.status_code == 200
    assert "id_token" not in first.json()  # no openid scope requested
    replay = exchange(xero_app, sandbox_url, code)
    assert (replay.status_code, replay.content) == (400, INVALID_GRANT)
    access = first.json()["access_token"]
    response = requests.get(
        f"{sandbox_url}/api/connections", headers={"Authorization": f"Bearer {access}"}, timeout=10
    )
    assert response.status_code == 401


def test_expired_code_and_wrong_redirect_uri_are_invalid_grant(xero_app, xero_org, sandbox_url):
    code = plain_code(xero_app, sandbox_url, [xero_org])
    mismatch = exchange(xero_app, sandbox_url, code, redirect_uri="http://127.0.0.1:9/other")
    assert (mismatch.status_code, mismatch.content) == (400, INVALID_GRANT)
    XeroAuthCode.objects.filter(code=code).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = exchange(xero_app, sandbox_url, code)
    assert (expired.status_code, expired.content) == (400, INVALID_GRANT)


def test_client_secret_post_and_basic_both_work_and_a_bad_secret_is_invalid_client(
    xero_app, xero_org, sandbox_url
):
    code = plain_code(xero_app, sandbox_url, [xero_org])
    bad = requests.post(
        f"{sandbox_url}/identity/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": xero_app.client_id,
            "client_secret": "wrong",
        },
        timeout=10,
    )
    assert (bad.status_code, bad.content) == (400, b'{"error":"invalid_client"}')
    posted = requests.post(
        f"{sandbox_url}/identity/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": xero_app.client_id,
            "client_secret": xero_app.client_secret,
        },
        timeout=10,
    )
    assert posted.status_code == 200


def test_consent_denied_redirects_with_access_denied(xero_app, xero_org, sandbox_url):
    url = (
        f"{sandbox_url}/login/identity/connect/authorize?response_type=code&client_id={xero_app.client_id}"
        f"&redirect_uri={REDIRECT_URI}&scope=accounting.transactions&state=xyz"
    )
    assert consent(requests.Session(), url, decision="deny") == {"error": ["access_denied"], "state": ["xyz"]}
    assert not XeroAuthCode.objects.exists()


def test_authorize_rejects_unknown_client_and_unregistered_redirect_without_redirecting(
    xero_app, sandbox_url
):
    base = f"{sandbox_url}/login/identity/connect/authorize?response_type=code&scope=openid"
    unknown = requests.get(
        f"{base}&client_id=nope&redirect_uri={REDIRECT_URI}", allow_redirects=False, timeout=10
    )
    assert unknown.status_code == 400
    assert "Invalid client_id" in unknown.text
    evil = requests.get(
        f"{base}&client_id={xero_app.client_id}&redirect_uri=http://evil.example/cb",
        allow_redirects=False,
        timeout=10,
    )
    assert evil.status_code == 400
    assert "Invalid redirect_uri" in evil.text


def test_unknown_scope_is_redirected_as_invalid_scope_and_granular_scopes_are_accepted(
    xero_app, xero_org, sandbox_url
):
    base = (
        f"{sandbox_url}/login/identity/connect/authorize?response_type=code&client_id={xero_app.client_id}"
        f"&redirect_uri={REDIRECT_URI}&state=q"
    )
    bad = requests.get(f"{base}&scope=accounting.everything", allow_redirects=False, timeout=10)
    assert bad.status_code == 302
    assert parse_qs(urlparse(bad.headers["Location"]).query) == {"error": ["invalid_scope"], "state": ["q"]}
    granular = "offline_access accounting.invoices accounting.payments.read accounting.manualjournals"
    page = requests.get(f"{base}&scope={granular}", timeout=10)
    assert page.status_code == 200
    assert "View and manage invoices" in page.text


def test_sdk_refresh_rotates_with_a_grace_period_for_a_lost_response(
    xero_app, xero_client, xero_token, token_urls, sandbox_url
):
    old_refresh = xero_token["refresh_token"]
    new = xero_client.refresh_oauth2_token()
    assert new["refresh_token"] != old_refresh
    assert new["access_token"] != xero_token["access_token"]
    assert new["scope"] == XERO_SCOPES.split()

    def refresh_with(refresh_token: str) -> requests.Response:
        return requests.post(
            f"{sandbox_url}/identity/connect/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": xero_app.client_id,
                "client_secret": xero_app.client_secret,
            },
            timeout=10,
        )

    # The response was "lost": the old token answers again, with the very same successor pair.
    again = refresh_with(old_refresh)
    assert again.status_code == 200
    assert (again.json()["refresh_token"], again.json()["access_token"]) == (
        new["refresh_token"],
        new["access_token"],
    )
    XeroToken.objects.filter(token=old_refresh).update(rotated_at=timezone.now() - timedelta(minutes=31))
    late = refresh_with(old_refresh)
    assert (late.status_code, late.content) == (400, INVALID_GRANT)
    assert refresh_with(new["refresh_token"]).status_code == 200


def test_sdk_refreshes_an_expired_access_token_by_itself(xero_client, identity_api, xero_token, token_urls):
    XeroToken.objects.filter(token=xero_token["access_token"]).update(
        expires_at=timezone.now() - timedelta(seconds=5)
    )
    state = xero_client.get_oauth2_token()
    xero_client.set_oauth2_token({**state, "expires_at": timezone.now().timestamp() - 5})
    assert len(identity_api.get_connections()) == 1
    assert xero_client.get_oauth2_token()["access_token"] != xero_token["access_token"]


def test_expired_access_token_is_401_token_expired_problem(xero_token, xero_org, sandbox_url):
    XeroToken.objects.filter(token=xero_token["access_token"]).update(
        expires_at=timezone.now() - timedelta(seconds=5)
    )
    response = requests.get(
        f"{sandbox_url}/api/connections",
        headers={"Authorization": f"Bearer {xero_token['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 401
    body = response.json()
    assert (body["Title"], body["Status"]) == ("Unauthorized", 401)
    assert body["Detail"].startswith("TokenExpired: token expired at ")


def test_revocation_ends_the_grant(xero_client, identity_api, xero_token, token_urls, sandbox_url):
    xero_client.revoke_oauth2_token()
    assert not XeroConnection.objects.exists()
    with pytest.raises(HTTPStatusException) as raised:
        identity_api.get_connections()
    assert raised.value.status == 401
    response = requests.post(
        f"{sandbox_url}/identity/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": xero_token["refresh_token"],
            "client_id": xero_client.configuration.oauth2_token.client_id,
            "client_secret": xero_client.configuration.oauth2_token.client_secret,
        },
        timeout=10,
    )
    assert response.content == INVALID_GRANT


def test_delete_connection(identity_api, xero_org, sandbox_url, xero_token):
    [connection] = identity_api.get_connections()
    identity_api.delete_connection(connection.id)
    assert identity_api.get_connections() == []
    again = requests.delete(
        f"{sandbox_url}/api/connections/{connection.id}",
        headers={"Authorization": f"Bearer {xero_token['access_token']}"},
        timeout=10,
    )
    assert again.status_code == 404
    assert again.text == "The resource you're looking for cannot be found"


def test_connections_filtered_by_auth_event(identity_api, xero_org, sandbox_url, xero_token):
    [connection] = identity_api.get_connections()
    assert [c.id for c in identity_api.get_connections(auth_event_id=connection.auth_event_id)] == [
        connection.id
    ]


def test_custom_connection_client_credentials(xero_app, xero_org, token_urls, sandbox_url):
    xero_app.custom_connection_tenant = xero_org
    xero_app.save()
    client = make_api_client(xero_app, {"access_token": "", "scope": "", "token_type": "Bearer"}, sandbox_url)
    token = client.get_client_credentials_token()
    assert token["access_token"]
    assert "refresh_token" not in token or token["refresh_token"] is None
    [connection] = IdentityApi(client, base_url=f"{sandbox_url}/api").get_connections()
    assert connection.tenant_id == xero_org.tenant_id


def test_client_credentials_refused_for_an_app_without_custom_connection(xero_app, sandbox_url):
    response = requests.post(
        f"{sandbox_url}/identity/connect/token",
        data={"grant_type": "client_credentials"},
        headers=basic(xero_app),
        timeout=10,
    )
    assert (response.status_code, response.content) == (400, b'{"error":"unauthorized_client"}')


def test_wrong_tenant_header_is_403(xero_token, sandbox_url, second_org):
    response = requests.get(
        f"{sandbox_url}/api/api.xro/2.0/Organisation",
        headers={
            "Authorization": f"Bearer {xero_token['access_token']}",
            "xero-tenant-id": second_org.tenant_id,
            "Accept": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_discovery_document(sandbox_url):
    body = requests.get(f"{sandbox_url}/identity/.well-known/openid-configuration", timeout=10).json()
    assert body["token_endpoint"] == f"{sandbox_url}/identity/connect/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
