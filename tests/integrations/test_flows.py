"""Connections end to end over real HTTP against the sandbox: reconnect, custom connections, refused and
forged callbacks, test, disconnect and delete. Every failure is checked for what it did not create."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone

from integrations.models import Connection, ConnectionDeletion, Credential, OAuthState
from integrations.providers import get_provider
from sandbox.choices import SandboxProviderChoices
from sandbox.consent import consent_give
from sandbox.models import (
    QboGrant,
    SandboxApp,
    Tenant,
    XeroAuthCode,
    XeroConnection,
    XeroGrant,
)
from sandbox.xero import tokens as xero_tokens
from tests.integrations.conftest import BOTH_DATABASES, callback_get
from tests.ledger_fixtures import browser_cookies

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)


# --- helpers -------------------------------------------------------------------------------------------


def _error(response: Any) -> dict[str, Any]:
    """The error of a JSON error answer, without its (random) request id."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = dict(body["error"])
    assert error.pop("request_id")
    return error


def _consented(api_client, provider: str, tenant_ids: list[str], *, allow: bool = True) -> str:
    """Start an authorisation and answer the consent screen; the callback location, not yet followed."""
    response = api_client.post("/api/v1/connections/authorize/", {"provider": provider}, format="json")
    assert response.status_code == 200, response.content
    return consent_give(response.json()["authorize_url"], tenant_ids=tenant_ids, allow=allow)


def _query(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def _with_query(location: str, **params: str) -> str:
    parts = urlsplit(location)
    return urlunsplit(parts._replace(query=urlencode({**_query(location), **params})))


def _ledgerlink_rows() -> tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any], int]]]:
    """Everything a callback may create or change, to compare before and after."""
    return (
        [dict(row) for row in Connection.objects.order_by("pk").values()],
        [(c.pk, c.tokens, c.version) for c in Credential.objects.order_by("pk")],
    )


def _test(api_client, connection: Connection) -> dict[str, Any]:
    response = api_client.post(f"/api/v1/connections/{connection.pk}/test/")
    assert response.status_code == 200, response.content
    return response.json()


def _fault(tenant: Tenant, **fields: Any) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(**fields)


@pytest.fixture
def uk(xero_orgs) -> Tenant:
    return xero_orgs[0]


@pytest.fixture
def nz(xero_orgs) -> Tenant:
    return xero_orgs[1]


@pytest.fixture
def xero_pair(connect, xero_app, uk, nz) -> tuple[Connection, Connection]:
    """Both organisations connected with one consent."""
    response = connect("xero", [uk.tenant_id, nz.tenant_id])
    assert response.status_code == 200, response.text
    return Connection.objects.get(tenant_id=uk.tenant_id), Connection.objects.get(tenant_id=nz.tenant_id)


@pytest.fixture
def xero_uk(connect, xero_app, uk, nz) -> Connection:
    """Only the UK organisation connected (the NZ one exists at the ledger)."""
    response = connect("xero", [uk.tenant_id])
    assert response.status_code == 200, response.text
    return Connection.objects.get()


@pytest.fixture(params=["xero", "quickbooks"])
def connected(request) -> tuple[Connection, Tenant]:
    """One connection of each provider in turn, with the sandbox tenant behind it."""
    if request.param == "xero":
        return request.getfixturevalue("xero_uk"), request.getfixturevalue("uk")
    return request.getfixturevalue("qbo_connection"), request.getfixturevalue("qbo_company")


# --- reconnect -----------------------------------------------------------------------------------------


def test_xero_reconnect_keeps_the_connection_and_its_settings_with_a_new_credential(
    connect, api_client, staff_user, xero_pair, uk, nz
):
    uk_connection, nz_connection = xero_pair
    shared = Credential.objects.get()
    old_tokens = dict(shared.tokens)
    patched = api_client.patch(
        f"/api/v1/connections/{uk_connection.pk}/",
        {"display_name": "UK books", "settings": {"entities": {"invoices": {"frequency_minutes": 15}}}},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    # Access was lost meanwhile (as the token service records it).
    Connection.objects.filter(pk=uk_connection.pk).update(status="needs_reauth", status_reason="Revoked.")

    response = connect("xero", [uk.tenant_id], reconnect=uk_connection.pk)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "connections": [{"id": uk_connection.pk, "display_name": "UK books", "status": "active"}]
    }
    assert Connection.objects.count() == 2
    reconnected = Connection.objects.get(pk=uk_connection.pk)
    expected_settings = get_provider("xero").settings_defaults()
    expected_settings["entities"]["invoices"]["frequency_minutes"] = 15
    assert (
        reconnected.display_name,
        reconnected.settings,
        reconnected.status,
        reconnected.status_reason,
        reconnected.created_by,
        reconnected.remote_connection_id,
    ) == ("UK books", expected_settings, "active", "", staff_user, uk_connection.remote_connection_id)
    # A new credential for the reconnected organisation; the other keeps the consent it had.
    new = reconnected.credential
    assert new is not None
    assert new.pk != shared.pk
    assert new.tokens["access_token"] != old_tokens["access_token"]
    assert new.tokens["refresh_token"] != old_tokens["refresh_token"]
    assert Connection.objects.get(pk=nz_connection.pk).credential_id == shared.pk
    assert Credential.objects.get(pk=shared.pk).tokens == old_tokens
    # At the ledger the organisation's connection (same id) moved to the new consent.
    new_grant = XeroGrant.objects.latest("created_at")
    assert XeroGrant.objects.count() == 2
    assert XeroConnection.objects.get(tenant=uk).grant == new_grant
    assert str(XeroConnection.objects.get(tenant=uk).id) == uk_connection.remote_connection_id
    state = OAuthState.objects.get(reconnect=uk_connection)
    assert (state.used_at is not None, state.outcome) == (True, f"connected {uk_connection.pk}")
    # Both work, each with its own tokens.
    assert _test(api_client, reconnected)["ok"] is True
    assert _test(api_client, nz_connection)["ok"] is True


def test_qbo_reconnect_restores_access_revoked_at_the_ledger_and_forgets_the_old_credential(
    connect, api_client, qbo_connection, qbo_company
):
    old = Credential.objects.get()
    settings_before = qbo_connection.settings
    # The company's admin disconnects the app in QuickBooks.
    QboGrant.objects.update(revoked_at=timezone.now())

    failed = _test(api_client, qbo_connection)

    assert failed["ok"] is False
    stored = Connection.objects.get(pk=qbo_connection.pk)
    assert (stored.status, stored.health) == ("needs_reauth", "failing")
    assert stored.status_reason == (
        "Intuit refused the stored authorisation while refreshing the access token "
        "(invalid_grant: Incorrect or invalid refresh token)."
    )
    assert failed["error"] == f"{stored.status_reason} Connect the organisation again to restore access."

    response = connect("quickbooks", [qbo_company.tenant_id], reconnect=qbo_connection.pk)

    assert response.status_code == 200, response.text
    reconnected = Connection.objects.get()
    assert reconnected.pk == qbo_connection.pk
    assert (reconnected.status, reconnected.status_reason, reconnected.settings) == (
        "active",
        "",
        settings_before,
    )
    new = Credential.objects.get()
    assert new.pk != old.pk
    assert reconnected.credential_id == new.pk
    assert new.tokens["refresh_token"] != old.tokens["refresh_token"]
    assert new.tokens["access_token"] != old.tokens["access_token"]
    assert QboGrant.objects.filter(revoked_at__isnull=True).count() == 1
    passed = _test(api_client, reconnected)
    assert (passed["ok"], passed["error"]) == (True, "")
    assert Connection.objects.get().health == "ok"


def test_qbo_reconnect_of_a_working_connection_revokes_the_consent_it_replaces(
    connect, api_client, qbo_connection, qbo_company
):
    old_grant = QboGrant.objects.get()

    response = connect("quickbooks", [qbo_company.tenant_id], reconnect=qbo_connection.pk)

    assert response.status_code == 200, response.text
    # A QBO consent is per company: the replaced one is revoked at Intuit, not left live and forgotten.
    old_grant.refresh_from_db()
    assert old_grant.revoked_at is not None
    assert QboGrant.objects.filter(revoked_at__isnull=True).count() == 1
    assert Credential.objects.count() == 1
    assert _test(api_client, Connection.objects.get())["ok"] is True


def test_custom_connection_disconnect_says_where_it_is_ended(api_client, ledgers, uk):
    app = SandboxApp.objects.create(
        provider=SandboxProviderChoices.XERO, name="Custom", custom_connection_tenant=uk
    )
    created = api_client.post(
        "/api/v1/connections/custom/",
        {"provider": "xero", "client_id": app.client_id, "client_secret": app.client_secret},
    )
    assert created.status_code == 201, created.content

    response = api_client.post(f"/api/v1/connections/{created.json()['id']}/disconnect/")

    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    assert response.json()["status_reason"] == (
        "Disconnected by staff; Ledgerlink forgot the custom connection's credentials. The custom "
        "connection itself is ended in the ledger's developer portal."
    )
    assert Credential.objects.count() == 0


def test_reconnect_choosing_another_organisation_fails_and_changes_nothing(api_client, xero_uk, uk, nz):
    before = _ledgerlink_rows()
    start = api_client.post(f"/api/v1/connections/{xero_uk.pk}/reconnect/", {}, format="json")
    assert start.status_code == 200, start.content
    location = consent_give(start.json()["authorize_url"], tenant_ids=[nz.tenant_id])

    response = callback_get(location, browser_cookies(api_client))

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "wrong_tenant",
        "message": (
            "To reconnect Demo Company (UK), choose that organisation at Xero; the one chosen was a "
            "different one. Nothing was changed."
        ),
    }
    assert _ledgerlink_rows() == before
    state = OAuthState.objects.get(reconnect=xero_uk)
    assert state.used_at is not None
    assert state.outcome == _error(response)["message"]
    assert _test(api_client, xero_uk)["ok"] is True


# --- custom connections --------------------------------------------------------------------------------


def test_custom_connection_connects_the_apps_one_organisation(api_client, ledgers, uk, staff_user):
    app = SandboxApp.objects.create(
        provider=SandboxProviderChoices.XERO, name="UK custom connection", custom_connection_tenant=uk
    )

    response = api_client.post(
        "/api/v1/connections/custom/",
        {"provider": "xero", "client_id": app.client_id, "client_secret": app.client_secret},
        format="json",
    )

    assert response.status_code == 201, response.content
    connection = Connection.objects.get()
    body = response.json()
    assert app.client_secret not in response.content.decode()
    assert {
        key: body[key]
        for key in (
            "id",
            "provider",
            "display_name",
            "tenant_id",
            "tenant_name",
            "short_code",
            "base_currency",
            "country",
            "status",
            "app_client_id",
            "app_client_secret_set",
            "created_by",
        )
    } == {
        "id": connection.pk,
        "provider": "xero",
        "display_name": "Demo Company (UK)",
        "tenant_id": uk.tenant_id,
        "tenant_name": "Demo Company (UK)",
        "short_code": "!uK1a",
        "base_currency": "GBP",
        "country": "GB",
        "status": "active",
        "app_client_id": app.client_id,
        "app_client_secret_set": True,
        "created_by": "bookkeeper",
    }
    assert body["credential"]["kind"] == "client_credentials"
    assert body["credential"]["refresh_token_set"] is False
    credential = Credential.objects.get()
    assert (credential.kind, credential.client_id, credential.client_secret) == (
        "client_credentials",
        app.client_id,
        app.client_secret,
    )
    grant = XeroGrant.objects.get()
    assert (grant.app, grant.client_credentials) == (app, True)
    assert _test(api_client, connection)["ok"] is True

    # No refresh token: an expired access token is replaced from the app's id and secret.
    Credential.objects.filter(pk=credential.pk).update(tokens={**credential.tokens, "access_expires_at": 0})
    assert _test(api_client, connection)["ok"] is True
    renewed = Credential.objects.get()
    assert (renewed.pk, renewed.version, renewed.tokens["refresh_token"]) == (credential.pk, 1, "")
    assert renewed.tokens["access_token"] != credential.tokens["access_token"]
    assert XeroGrant.objects.filter(app=app, client_credentials=True).count() == 2


@pytest.mark.parametrize(
    ("custom", "wrong_secret", "oauth_error"),
    [(True, True, "invalid_client"), (False, False, "unauthorized_client")],
    ids=["wrong-secret", "not-a-custom-connection"],
)
def test_custom_connection_refused_by_the_ledger_creates_nothing(
    api_client, ledgers, uk, custom, wrong_secret, oauth_error
):
    app = SandboxApp.objects.create(
        provider=SandboxProviderChoices.XERO, name="Custom", custom_connection_tenant=uk if custom else None
    )

    response = api_client.post(
        "/api/v1/connections/custom/",
        {
            "provider": "xero",
            "client_id": app.client_id,
            "client_secret": "not-the-secret" if wrong_secret else app.client_secret,
        },
        format="json",
    )

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "custom_connection_failed",
        "message": (
            f"Xero refused the client id and secret for a custom connection ({oauth_error}). Check them, "
            "and that the app is a custom connection authorised for one organisation. Nothing was connected."
        ),
    }
    assert (Connection.objects.count(), Credential.objects.count(), XeroGrant.objects.count()) == (0, 0, 0)


# --- refused, forged, replayed and stale callbacks ------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "label"), [("xero", "Xero"), ("quickbooks", "QuickBooks Online")], ids=["xero", "qbo"]
)
def test_denied_consent_creates_nothing_and_uses_up_the_state(
    request, connect, xero_app, qbo_app, provider, label
):
    tenant = request.getfixturevalue("uk" if provider == "xero" else "qbo_company")

    response = connect(provider, [tenant.tenant_id], allow=False)

    assert response.status_code == 400
    message = (
        f"{label} did not authorise Ledgerlink (consent was denied): access_denied. Nothing was connected."
    )
    assert _error(response) == {"status": 400, "code": "consent_denied", "message": message}
    assert (Connection.objects.count(), Credential.objects.count()) == (0, 0)
    state = OAuthState.objects.get()
    assert (state.used_at is not None, state.outcome) == (True, message)


def test_tampered_state_is_unknown_and_creates_nothing(api_client, xero_app, uk):
    location = _consented(api_client, "xero", [uk.tenant_id])

    response = callback_get(
        _with_query(location, state=secrets.token_urlsafe(32)), browser_cookies(api_client)
    )

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "state_invalid",
        "message": "This authorisation was not started by Ledgerlink (unknown state). Start it again.",
    }
    assert (Connection.objects.count(), Credential.objects.count()) == (0, 0)
    # The code was never exchanged, and the real state is untouched.
    assert XeroAuthCode.objects.get().used_at is None
    assert XeroGrant.objects.count() == 0
    assert OAuthState.objects.get().used_at is None


def test_callback_without_a_state_is_refused(api_client, xero_app, uk):
    location = _consented(api_client, "xero", [uk.tenant_id])
    query = _query(location)
    del query["state"]

    response = callback_get(
        urlunsplit(urlsplit(location)._replace(query=urlencode(query))), browser_cookies(api_client)
    )

    assert response.status_code == 400
    assert _error(response)["code"] == "state_missing"
    assert (Connection.objects.count(), XeroGrant.objects.count()) == (0, 0)


def test_replayed_callback_is_refused_and_duplicates_nothing(api_client, xero_app, uk):
    location = _consented(api_client, "xero", [uk.tenant_id])

    first = callback_get(location, browser_cookies(api_client))
    rows = _ledgerlink_rows()
    second = callback_get(location, browser_cookies(api_client))

    assert first.status_code == 200, first.text
    assert second.status_code == 400
    assert _error(second) == {
        "status": 400,
        "code": "state_used",
        "message": "This authorisation response was already used (a replayed link). Start it again.",
    }
    assert _ledgerlink_rows() == rows
    assert (Connection.objects.count(), Credential.objects.count()) == (1, 1)
    # The code was exchanged once: the replay never reached the ledger (which would revoke the grant).
    assert XeroGrant.objects.get().revoked_at is None
    assert OAuthState.objects.get().outcome == f"connected {Connection.objects.get().pk}"


def test_expired_state_is_refused(api_client, xero_app, uk):
    location = _consented(api_client, "xero", [uk.tenant_id])
    past = timezone.now() - timedelta(hours=1)
    OAuthState.objects.update(created_at=past, expires_at=past + timedelta(minutes=15))

    response = callback_get(location, browser_cookies(api_client))

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "state_expired",
        "message": "This authorisation took too long and expired. Start it again.",
    }
    assert (Connection.objects.count(), Credential.objects.count(), XeroGrant.objects.count()) == (0, 0, 0)
    assert OAuthState.objects.get().used_at is None


def test_callback_for_another_signed_in_user_is_refused(api_client, xero_app, uk):
    location = _consented(api_client, "xero", [uk.tenant_id])
    someone_else = get_user_model().objects.create_user(username="someone", password="x", is_staff=True)
    browser = Client()
    browser.force_login(someone_else)
    session = browser.cookies[django_settings.SESSION_COOKIE_NAME].value

    response = requests.get(
        location,
        headers={"Accept": "application/json"},
        cookies={**browser_cookies(api_client), django_settings.SESSION_COOKIE_NAME: session},
        timeout=30,
        allow_redirects=False,
    )

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "state_user",
        "message": "This authorisation was started by another user.",
    }
    assert (Connection.objects.count(), Credential.objects.count(), XeroGrant.objects.count()) == (0, 0, 0)
    assert XeroAuthCode.objects.get().used_at is None
    # A refused attempt does not use the state up: the user who started it can still finish.
    assert OAuthState.objects.get().used_at is None
    assert callback_get(location, browser_cookies(api_client)).status_code == 200
    assert Connection.objects.count() == 1


def test_a_callback_without_the_authorising_browsers_cookie_is_refused_and_the_state_kept(
    api_client, xero_app, uk
):
    location = _consented(api_client, "xero", [uk.tenant_id])
    cookies = browser_cookies(api_client)
    (name,) = [name for name in cookies if name.startswith("ledgerlink_oauth_")]

    for forged in ({}, {name: "not-the-nonce"}):
        response = callback_get(location, forged)
        assert response.status_code == 400
        assert _error(response)["code"] == "state_browser"
    assert (Connection.objects.count(), XeroGrant.objects.count()) == (0, 0)
    assert XeroAuthCode.objects.get().used_at is None
    assert OAuthState.objects.get().used_at is None

    finished = callback_get(location, cookies)
    assert finished.status_code == 200, finished.text
    assert Connection.objects.count() == 1
    # The nonce is single-use like its state: the callback clears it, and a replay is refused.
    assert finished.cookies.get(name, "") == ""
    assert _error(callback_get(location, cookies))["code"] == "state_used"


def test_the_nonce_cookie_is_http_only_scoped_to_the_callback_and_lax(api_client, xero_app):
    response = api_client.post("/api/v1/connections/authorize/", {"provider": "xero"}, format="json")
    (morsel,) = [m for name, m in response.cookies.items() if name.startswith("ledgerlink_oauth_")]
    assert morsel["httponly"] is True
    assert morsel["path"] == "/api/v1/connections/callback/"
    assert morsel["samesite"] == "Lax"
    assert int(morsel["max-age"]) == 15 * 60


def test_callback_sends_the_browser_to_the_return_url(api_client, xero_app, uk, nz):
    start = api_client.post(
        "/api/v1/connections/authorize/",
        {"provider": "xero", "return_url": "/done/?tab=ledgers"},
        format="json",
    )
    location = consent_give(start.json()["authorize_url"], tenant_ids=[uk.tenant_id, nz.tenant_id])

    response = requests.get(location, cookies=browser_cookies(api_client), timeout=30, allow_redirects=False)

    assert response.status_code == 302
    ids = ",".join(str(pk) for pk in Connection.objects.order_by("pk").values_list("pk", flat=True))
    assert response.headers["Location"] == f"/done/?tab=ledgers&connections={ids.replace(',', '%2C')}"


def test_failed_callback_in_a_browser_shows_the_reason(api_client, xero_app, uk):
    location = _consented(api_client, "xero", [uk.tenant_id], allow=False)

    response = requests.get(location, cookies=browser_cookies(api_client), timeout=30, allow_redirects=False)

    assert response.status_code == 400
    assert "The connection was not completed" in response.text
    assert "Xero did not authorise Ledgerlink (consent was denied): access_denied." in response.text


# --- test connection -----------------------------------------------------------------------------------


def test_connection_test_reports_ok_and_saves_the_health(api_client, connected):
    connection, _tenant = connected

    result = _test(api_client, connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert set(result) == {"ok", "latency_ms", "checked_at", "error"}
    assert (result["ok"], result["error"]) == (True, "")
    assert result["latency_ms"] >= 0
    assert (stored.health, stored.health_latency_ms, stored.health_error, stored.status) == (
        "ok",
        result["latency_ms"],
        "",
        "active",
    )
    assert stored.health_checked_at is not None
    assert result["checked_at"] == stored.health_checked_at.isoformat().replace("+00:00", "Z")
    detail = api_client.get(f"/api/v1/connections/{connection.pk}/").json()
    assert detail["health"] == {
        "status": "ok",
        "checked_at": result["checked_at"],
        "latency_ms": result["latency_ms"],
        "error": "",
    }


@pytest.mark.parametrize(
    "fault",
    [
        {"fault_error_rate": 1.0, "fault_error_status": 503},
        {"fault_next_count": 1, "fault_next_kind": "error", "fault_error_status": 500},
    ],
    ids=["every-call-503", "next-call-500"],
)
def test_connection_test_reports_a_failing_ledger_and_keeps_the_status(api_client, connected, fault):
    connection, tenant = connected
    _fault(tenant, **fault)
    status = fault["fault_error_status"]
    action = "reading the organisation" if connection.provider == "xero" else "reading the company"
    label = "Xero" if connection.provider == "xero" else "QuickBooks"
    credential_before = _ledgerlink_rows()[1]

    result = _test(api_client, connection)

    message = f"{label} failed while {action} (HTTP {status})."
    assert (result["ok"], result["error"]) == (False, message)
    assert result["latency_ms"] >= 0
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.health, stored.health_error, stored.status, stored.status_reason) == (
        "failing",
        message,
        "active",
        "",
    )
    # A failing ledger is not a refused authorisation: the tokens were neither refreshed nor dropped.
    assert _ledgerlink_rows()[1] == credential_before

    _fault(tenant, fault_error_rate=0.0)
    recovered = _test(api_client, connection)

    assert (recovered["ok"], recovered["error"]) == (True, "")
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.health, stored.health_error, stored.status) == ("ok", "", "active")


# --- disconnect ----------------------------------------------------------------------------------------


def test_disconnecting_one_xero_org_keeps_the_other_and_the_last_revokes_the_consent(
    api_client, xero_pair, uk, nz
):
    uk_connection, nz_connection = xero_pair
    credential = Credential.objects.get()
    grant = XeroGrant.objects.get()

    response = api_client.post(f"/api/v1/connections/{uk_connection.pk}/disconnect/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["status_reason"], body["credential"]) == (
        uk_connection.pk,
        "disconnected",
        "Disconnected by staff; access was revoked at the ledger.",
        None,
    )
    assert Connection.objects.get(pk=uk_connection.pk).credential_id is None
    # The consent stays for the other organisation, which keeps working; the ledger dropped only the UK.
    assert Connection.objects.get(pk=nz_connection.pk).credential_id == credential.pk
    assert list(XeroConnection.objects.values_list("tenant", flat=True)) == [nz.pk]
    assert XeroGrant.objects.get().revoked_at is None
    assert _test(api_client, nz_connection)["ok"] is True
    # The disconnected one cannot be used, and says why.
    failed = _test(api_client, uk_connection)
    assert (failed["ok"], failed["error"]) == (
        False,
        "Disconnected by staff; access was revoked at the ledger.",
    )
    # Disconnecting again changes nothing.
    rows = _ledgerlink_rows()
    again = api_client.post(f"/api/v1/connections/{uk_connection.pk}/disconnect/")
    assert (again.status_code, again.json()["status"]) == (200, "disconnected")
    assert _ledgerlink_rows()[1] == rows[1]

    response = api_client.post(f"/api/v1/connections/{nz_connection.pk}/disconnect/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disconnected"
    assert Credential.objects.count() == 0
    assert XeroGrant.objects.get(pk=grant.pk).revoked_at is not None
    assert XeroConnection.objects.count() == 0
    # The mirrored data and the connections themselves stay.
    assert list(Connection.objects.order_by("pk").values_list("status", flat=True)) == [
        "disconnected",
        "disconnected",
    ]


def test_qbo_disconnect_revokes_the_grant_and_connecting_again_revives_the_connection(
    api_client, connect, qbo_connection, qbo_company
):
    response = api_client.post(f"/api/v1/connections/{qbo_connection.pk}/disconnect/")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["credential"]) == ("disconnected", None)
    assert Credential.objects.count() == 0
    grant = QboGrant.objects.get()
    assert grant.revoked_at is not None
    assert grant.tokens.filter(revoked_at__isnull=True).count() == 0

    response = connect("quickbooks", [qbo_company.tenant_id])

    assert response.status_code == 200, response.text
    revived = Connection.objects.get()
    assert (revived.pk, revived.status, revived.status_reason) == (qbo_connection.pk, "active", "")
    assert revived.credential_id == Credential.objects.get().pk
    assert _test(api_client, revived)["ok"] is True


def test_disconnect_when_the_ledger_already_withdrew_access(api_client, xero_uk):
    # The user disconnected Ledgerlink in Xero: every token of the consent is dead.
    xero_tokens.grant_revoke(grant=XeroGrant.objects.get())

    response = api_client.post(f"/api/v1/connections/{xero_uk.pk}/disconnect/")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == (
        "disconnected",
        "Disconnected by staff; the ledger had already withdrawn access.",
    )
    assert Credential.objects.count() == 0


# --- delete --------------------------------------------------------------------------------------------


def test_delete_revokes_at_the_ledger_deletes_and_records_the_run(api_client, staff_user, xero_pair, nz):
    uk_connection, nz_connection = xero_pair
    credential = Credential.objects.get()

    response = api_client.delete(f"/api/v1/connections/{uk_connection.pk}/")

    assert response.status_code == 202, response.content
    body = response.json()
    deletion = ConnectionDeletion.objects.get()
    # The answer describes the request as queued; the (synchronous, in tests) task ran once it committed.
    assert (body["id"], body["status"], body["connection_id"], body["requested_by"]) == (
        deletion.pk,
        "queued",
        uk_connection.pk,
        "bookkeeper",
    )
    record = api_client.get(f"/api/v1/connections/deletions/{deletion.pk}/").json()
    assert {
        key: record[key]
        for key in (
            "connection_id",
            "connection_name",
            "provider",
            "tenant_id",
            "status",
            "rows_total",
            "rows_deleted",
            "percent",
            "progress",
            "revoked",
            "error",
            "requested_by",
        )
    } == {
        "connection_id": uk_connection.pk,
        "connection_name": "Demo Company (UK)",
        "provider": "xero",
        "tenant_id": uk_connection.tenant_id,
        "status": "succeeded",
        "rows_total": 0,
        "rows_deleted": 0,
        "percent": 100,
        "progress": {},
        "revoked": True,
        "error": "",
        "requested_by": "bookkeeper",
    }
    assert record["started_at"] is not None
    assert record["finished_at"] is not None
    assert list(Connection.objects.values_list("pk", flat=True)) == [nz_connection.pk]
    assert api_client.get(f"/api/v1/connections/{uk_connection.pk}/").status_code == 404
    # The shared consent stays for the other organisation; the ledger forgot only the deleted one.
    assert list(Credential.objects.values_list("pk", flat=True)) == [credential.pk]
    assert list(XeroConnection.objects.values_list("tenant", flat=True)) == [nz.pk]
    assert _test(api_client, nz_connection)["ok"] is True

    response = api_client.delete(f"/api/v1/connections/{nz_connection.pk}/")

    assert response.status_code == 202, response.content
    last = ConnectionDeletion.objects.get(pk=response.json()["id"])
    assert (last.status, last.revoked, last.error) == ("succeeded", True, "")
    assert (Connection.objects.count(), Credential.objects.count(), XeroConnection.objects.count()) == (
        0,
        0,
        0,
    )
    assert XeroGrant.objects.get().revoked_at is not None


def test_qbo_delete_revokes_the_grant(api_client, qbo_connection):
    response = api_client.delete(f"/api/v1/connections/{qbo_connection.pk}/")

    assert response.status_code == 202, response.content
    deletion = ConnectionDeletion.objects.get()
    assert (deletion.status, deletion.revoked, deletion.error, deletion.percent) == (
        "succeeded",
        True,
        "",
        100,
    )
    assert (Connection.objects.count(), Credential.objects.count()) == (0, 0)
    assert QboGrant.objects.get().revoked_at is not None


# --- secrets -------------------------------------------------------------------------------------------


def test_the_api_never_returns_secrets(api_client, connect, xero_pair, qbo_app, qbo_company):
    response = connect("quickbooks", [qbo_company.tenant_id])
    assert response.status_code == 200, response.text
    secrets_held = [
        value
        for credential in Credential.objects.all()
        for key, value in credential.tokens.items()
        if key in ("access_token", "refresh_token", "id_token") and value
    ]
    assert len(secrets_held) == 5  # Xero: access, refresh, id; QuickBooks: access, refresh
    secrets_held += [qbo_app.client_secret, django_settings.XERO_CLIENT_SECRET]

    listed = api_client.get("/api/v1/connections/")
    details = [
        api_client.get(f"/api/v1/connections/{pk}/") for pk in Connection.objects.values_list("pk", flat=True)
    ]
    texts = [response.text, listed.content.decode()] + [detail.content.decode() for detail in details]

    assert listed.json()["count"] == 3
    for text in texts:
        for secret in secrets_held:
            assert secret not in text
    # Nor are they readable in the database.
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT tokens FROM integrations_credential")
        stored = " ".join(row[0] for row in cursor.fetchall())
    for secret in secrets_held[:5]:
        assert secret not in stored


# --- connecting while the ledger fails ------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["xero", "quickbooks"])
def test_connect_while_the_ledger_fails_leaves_a_pending_connection_that_a_test_completes(
    request, connect, api_client, xero_app, qbo_app, provider
):
    tenant = request.getfixturevalue("uk" if provider == "xero" else "qbo_company")
    # The organisation's details cannot be read during the callback; the consent itself works.
    _fault(tenant, fault_next_count=1, fault_next_kind="error", fault_error_status=503)

    response = connect(provider, [tenant.tenant_id])

    assert response.status_code == 200, response.text
    pending = Connection.objects.get()
    assert (pending.status, pending.status_reason, pending.base_currency, pending.country) == (
        "pending",
        "Authorised; the organisation's details could not be read yet.",
        "",
        "",
    )

    result = _test(api_client, pending)

    assert (result["ok"], result["error"]) == (True, "")
    completed = Connection.objects.get()
    assert (
        completed.status,
        completed.status_reason,
        completed.display_name,
        completed.tenant_name,
        completed.base_currency,
        completed.country,
    ) == ("active", "", tenant.name, tenant.name, tenant.base_currency, tenant.country)
