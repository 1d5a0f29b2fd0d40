"""The emulated Intuit OAuth server, driven by the unmodified intuit-oauth client."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.utils import timezone
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from sandbox.models import QboAuthCode, QboToken
from tests.sandbox.conftest import QBO_SCOPES

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

REDIRECT_URI = "http://127.0.0.1:9/qbo/callback"


@pytest.fixture
def auth_client(qbo_app, qbo_url) -> AuthClient:
    return AuthClient(
        qbo_app.client_id, qbo_app.client_secret, REDIRECT_URI, f"{qbo_url}/.well-known/openid_configuration"
    )


def consent(url: str, *, decision: str = "allow", realm: str | None = None) -> dict[str, list[str]]:
    session = requests.Session()
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form["decision"] = decision
    if realm:
        form["realm"] = realm
    response = session.post(
        url.split("?")[0], data=form, headers={"Referer": url}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(REDIRECT_URI)
    return parse_qs(urlparse(response.headers["Location"]).query)


def test_discovery_names_all_six_endpoints(auth_client, qbo_url):
    assert auth_client.auth_endpoint == f"{qbo_url}/connect/oauth2"
    assert auth_client.token_endpoint == f"{qbo_url}/oauth2/v1/tokens/bearer"
    assert auth_client.revoke_endpoint == f"{qbo_url}/v2/oauth2/tokens/revoke"
    assert auth_client.user_info_url == f"{qbo_url}/v1/openid_connect/userinfo"
    assert auth_client.issuer_uri == "https://oauth.platform.intuit.com/op/v1"
    assert auth_client.jwks_uri == f"{qbo_url}/op/v1/jwks"


def test_full_flow_code_state_realm_then_tokens_and_userinfo(auth_client, qbo_company):
    url = auth_client.get_authorization_url(
        [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL], state_token="st-1"
    )
    query = consent(url, realm=qbo_company.tenant_id)
    assert query["state"] == ["st-1"]
    assert query["realmId"] == [qbo_company.tenant_id]
    auth_client.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    assert auth_client.access_token
    assert auth_client.refresh_token
    assert auth_client.expires_in == 3600
    assert 8_639_990 <= auth_client.x_refresh_token_expires_in <= 8_640_000
    assert auth_client.id_token is None  # no id_token without JWKS signing; intuit-oauth would validate it
    info = auth_client.get_user_info()
    assert info.json()["email"] == "sandbox.user@example.com"
    assert info.headers["intuit_tid"].startswith("1-")


def test_denied_consent_redirects_with_error(auth_client):
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING], state_token="st-2")
    assert consent(url, decision="deny") == {"error": ["access_denied"], "state": ["st-2"]}
    assert not QboAuthCode.objects.exists()


def test_code_is_single_use_and_expires(auth_client, qbo_company):
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING], state_token="st")
    code = consent(url, realm=qbo_company.tenant_id)["code"][0]
    auth_client.get_bearer_token(code, realm_id=qbo_company.tenant_id)
    with pytest.raises(AuthClientError) as raised:
        auth_client.get_bearer_token(code, realm_id=qbo_company.tenant_id)
    assert raised.value.status_code == 400
    assert raised.value.content == b'{"error": "invalid_grant"}'
    assert raised.value.intuit_tid
    fresh = consent(url, realm=qbo_company.tenant_id)["code"][0]
    QboAuthCode.objects.filter(code=fresh).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(AuthClientError):
        auth_client.get_bearer_token(fresh, realm_id=qbo_company.tenant_id)


def test_refresh_rolls_the_same_token_within_a_day_then_rotates(auth_client, qbo_token):
    auth_client.refresh(refresh_token=qbo_token["refresh_token"])
    assert auth_client.refresh_token == qbo_token["refresh_token"]
    assert auth_client.access_token != qbo_token["access_token"]
    QboToken.objects.filter(token=qbo_token["refresh_token"]).update(
        created_at=timezone.now() - timedelta(days=1, seconds=1)
    )
    auth_client.refresh(refresh_token=qbo_token["refresh_token"])
    rotated = auth_client.refresh_token
    assert rotated != qbo_token["refresh_token"]
    # Only the latest refresh token may be used.
    with pytest.raises(AuthClientError) as raised:
        auth_client.refresh(refresh_token=qbo_token["refresh_token"])
    assert (
        raised.value.content
        == b'{"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}'
    )
    auth_client.refresh(refresh_token=rotated)


def test_bad_client_secret_is_invalid_client(qbo_app, qbo_url, qbo_token):
    client = AuthClient(
        qbo_app.client_id, "wrong", REDIRECT_URI, f"{qbo_url}/.well-known/openid_configuration"
    )
    with pytest.raises(AuthClientError) as raised:
        client.refresh(refresh_token=qbo_token["refresh_token"])
    assert raised.value.status_code == 401


def test_revoke_ends_the_grant(auth_client, qbo_token, qbo_company, qbo_url):
    assert auth_client.revoke(token=qbo_token["refresh_token"])
    with pytest.raises(AuthClientError):
        auth_client.refresh(refresh_token=qbo_token["refresh_token"])
    response = requests.get(
        f"{qbo_url}/v3/company/{qbo_company.tenant_id}/companyinfo/{qbo_company.tenant_id}",
        headers={"Authorization": f"Bearer {qbo_token['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["fault"]["error"][0]["code"] == "3200"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'


def test_token_for_another_realm_is_refused(qbo_token, qbo_url):
    response = requests.get(
        f"{qbo_url}/v3/company/123456789/companyinfo/123456789",
        headers={"Authorization": f"Bearer {qbo_token['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["fault"]["error"][0]["code"] == "120"
    assert response.headers["intuit_tid"]


def test_unregistered_redirect_uri_is_not_followed(qbo_app, qbo_url):
    response = requests.get(
        f"{qbo_url}/connect/oauth2?client_id={qbo_app.client_id}&response_type=code&scope={QBO_SCOPES}"
        "&redirect_uri=http://evil.example/cb&state=x",
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400
    assert "not registered" in response.text
