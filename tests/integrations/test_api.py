"""The connections API without a ledger: input validation, settings merging, permissions, deletion
bookkeeping and the schema. Everything here runs in-process; nothing is sent to a ledger."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db_connection
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.choices import CredentialKindChoices
from integrations.models import Connection, ConnectionDeletion, Credential, OAuthState
from integrations.providers import get_provider
from integrations.services import connection_data_register
from integrations.services import deletion as deletion_services
from tests.conftest import api_token_for

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/api/v1/connections/callback/"


@pytest.fixture
def env_app(settings) -> tuple[str, str]:
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "ENVAPPID", "env-app-secret"
    settings.XERO_LOGIN_URL = "https://login.xero.test"
    settings.LEDGERLINK_PUBLIC_URL = ""
    return settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET


@pytest.fixture
def xero_connection(staff_user) -> Connection:
    """A connection as a consent leaves it, without tokens (nothing here talks to the ledger)."""
    return Connection.objects.create(
        provider="xero",
        display_name="Demo Company (UK)",
        tenant_id="4f1c0b7e-0000-4000-8000-000000000001",
        tenant_name="Demo Company (UK)",
        status="active",
        settings=get_provider("xero").settings_defaults(),
        created_by=staff_user,
    )


def _row(connection: Connection) -> dict[str, Any]:
    return dict(Connection.objects.filter(pk=connection.pk).values().get())


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    error = dict(body["error"])
    assert error.pop("request_id")
    return error


# --- authorize -----------------------------------------------------------------------------------------


def test_authorize_returns_the_ledgers_url_with_a_pkce_challenge_and_stores_a_bound_state(
    api_client, staff_user, env_app
):
    response = api_client.post("/api/v1/connections/authorize/", {"provider": "xero"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"authorize_url", "expires_at", "provider"}
    assert body["provider"] == "xero"
    url = urlsplit(body["authorize_url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "login.xero.test", "/identity/connect/authorize")
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    state = query.pop("state")
    challenge = query.pop("code_challenge")
    assert query == {
        "response_type": "code",
        "client_id": "ENVAPPID",
        "redirect_uri": CALLBACK,
        "scope": (
            "openid profile email offline_access accounting.transactions accounting.contacts "
            "accounting.settings accounting.journals.read"
        ),
        "code_challenge_method": "S256",
    }
    stored = OAuthState.objects.get()
    # Only the state's hash is kept; the PKCE verifier is kept (encrypted) for the code exchange.
    assert stored.state_hash == hashlib.sha256(state.encode()).hexdigest()
    digest = hashlib.sha256(stored.code_verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
    assert (stored.provider, stored.user, stored.reconnect, stored.redirect_uri, stored.used_at) == (
        "xero",
        staff_user,
        None,
        CALLBACK,
        None,
    )
    assert (stored.app_client_id, stored.app_client_secret, stored.return_url) == ("", "", "")
    assert stored.expires_at - stored.created_at == timedelta(minutes=15)
    assert body["expires_at"] == stored.expires_at.isoformat().replace("+00:00", "Z")
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT code_verifier FROM integrations_oauthstate")
        (raw_verifier,) = cursor.fetchone()
    assert stored.code_verifier not in raw_verifier


def test_authorize_with_an_app_override_keeps_its_secret_for_the_callback(api_client, env_app):
    response = api_client.post(
        "/api/v1/connections/authorize/",
        {
            "provider": "xero",
            "client_id": "OTHERAPP",
            "client_secret": "other-secret",
            "return_url": "/done/",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert parse_qs(urlsplit(response.json()["authorize_url"]).query)["client_id"] == ["OTHERAPP"]
    assert "other-secret" not in response.content.decode()
    stored = OAuthState.objects.get()
    assert (stored.app_client_id, stored.app_client_secret, stored.return_url) == (
        "OTHERAPP",
        "other-secret",
        "/done/",
    )


def test_authorize_rejects_an_unknown_provider(api_client, env_app):
    response = api_client.post("/api/v1/connections/authorize/", {"provider": "sage"}, format="json")

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"provider": ['"sage" is not a valid choice.']},
    }
    assert OAuthState.objects.count() == 0


def test_authorize_without_a_configured_app_says_which_settings_to_set(api_client, settings):
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "", ""

    response = api_client.post("/api/v1/connections/authorize/", {"provider": "xero"}, format="json")

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "invalid",
        "message": (
            "No Xero app is configured: set XERO_CLIENT_ID and XERO_CLIENT_SECRET, "
            "or pass client_id and client_secret."
        ),
        "fields": {"client_id": ["Required: no app is configured in the environment."]},
    }
    assert OAuthState.objects.count() == 0


def test_authorize_needs_the_secret_of_an_app_override(api_client, env_app):
    response = api_client.post(
        "/api/v1/connections/authorize/", {"provider": "xero", "client_id": "OTHERAPP"}, format="json"
    )

    assert response.status_code == 400
    assert _error(response)["fields"] == {"client_secret": ["Required when client_id is given."]}
    assert OAuthState.objects.count() == 0


@pytest.mark.parametrize(
    "return_url",
    ["https://evil.example/steal", "//evil.example/steal", "javascript:alert(1)", "http://evil.example"],
)
def test_authorize_rejects_a_return_url_off_this_site(api_client, env_app, return_url):
    response = api_client.post(
        "/api/v1/connections/authorize/", {"provider": "xero", "return_url": return_url}, format="json"
    )

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"return_url": ["Must be a path on this site or a URL on an allowed host."]},
    }
    assert OAuthState.objects.count() == 0


@pytest.mark.parametrize("return_url", ["/connections/done/?tab=xero", "http://testserver/done/"])
def test_authorize_accepts_a_return_url_on_this_site(api_client, env_app, return_url):
    response = api_client.post(
        "/api/v1/connections/authorize/", {"provider": "xero", "return_url": return_url}, format="json"
    )

    assert response.status_code == 200, response.content
    assert OAuthState.objects.get().return_url == return_url


def test_reconnect_of_a_connection_being_deleted_is_a_conflict(api_client, env_app, xero_connection):
    Connection.objects.filter(pk=xero_connection.pk).update(status="deleting")

    response = api_client.post(f"/api/v1/connections/{xero_connection.pk}/reconnect/", {}, format="json")

    assert response.status_code == 409
    assert _error(response) == {
        "status": 409,
        "code": "conflict",
        "message": "This connection is being deleted.",
    }
    assert OAuthState.objects.count() == 0


def test_reconnect_binds_the_state_to_the_connection(api_client, env_app, xero_connection):
    response = api_client.post(f"/api/v1/connections/{xero_connection.pk}/reconnect/", {}, format="json")

    assert response.status_code == 200, response.content
    assert OAuthState.objects.get().reconnect == xero_connection


def test_custom_connections_exist_only_where_the_ledger_has_them(api_client):
    response = api_client.post(
        "/api/v1/connections/custom/",
        {"provider": "quickbooks", "client_id": "ABC", "client_secret": "secret"},
        format="json",
    )

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "QuickBooks Online has no custom connections.",
        "fields": {"provider": ["No custom connections."]},
    }
    assert (Connection.objects.count(), Credential.objects.count()) == (0, 0)


def test_custom_connection_needs_id_and_secret(api_client):
    response = api_client.post("/api/v1/connections/custom/", {"provider": "xero"}, format="json")

    assert response.status_code == 400
    assert _error(response)["fields"] == {
        "client_id": ["This field is required."],
        "client_secret": ["This field is required."],
    }


# --- permissions ---------------------------------------------------------------------------------------


def test_the_connections_api_is_for_staff_only(anon_client, plain_user, xero_connection):
    plain = APIClient()
    plain.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(plain_user)}")

    assert anon_client.get("/api/v1/connections/").status_code == 401
    assert anon_client.post("/api/v1/connections/authorize/", {"provider": "xero"}).status_code == 401
    assert plain.get("/api/v1/connections/").status_code == 403
    assert plain.delete(f"/api/v1/connections/{xero_connection.pk}/").status_code == 403
    assert (
        plain.patch(
            f"/api/v1/connections/{xero_connection.pk}/", {"display_name": "Mine"}, format="json"
        ).status_code
        == 403
    )
    assert _row(xero_connection)["display_name"] == "Demo Company (UK)"
    assert ConnectionDeletion.objects.count() == 0


# --- settings ------------------------------------------------------------------------------------------


def test_settings_patch_merges_only_the_keys_sent(api_client, xero_connection):
    before = _row(xero_connection)

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/",
        {"settings": {"entities": {"invoices": {"frequency_minutes": 15}}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    expected = get_provider("xero").settings_defaults()
    expected["entities"]["invoices"] = {"enabled": True, "frequency_minutes": 15}
    assert response.json()["settings"] == expected
    after = _row(xero_connection)
    assert after["settings"] == expected
    assert {k: v for k, v in after.items() if k not in ("settings", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("settings", "updated_at")
    }

    # A second patch merges into the first.
    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/",
        {"settings": {"entities": {"payments": {"enabled": False}}, "rate_limits": {"per_day": 1000}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    expected["entities"]["payments"] = {"enabled": False, "frequency_minutes": 60}
    expected["rate_limits"] = {"per_day": 1000}
    assert _row(xero_connection)["settings"] == expected


def test_settings_missing_keys_are_filled_from_the_defaults(api_client, xero_connection):
    # A connection stored before a setting existed gains it, with its default, on the next patch.
    Connection.objects.filter(pk=xero_connection.pk).update(settings={"rate_limits": {"concurrent": 2}})

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/",
        {"settings": {"rate_limits": {"per_day": 1000}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    expected = get_provider("xero").settings_defaults() | {"rate_limits": {"concurrent": 2, "per_day": 1000}}
    assert _row(xero_connection)["settings"] == expected


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        ({"bogus": 1}, {"settings.bogus": ["Unknown setting."]}),
        (
            {"entities": {"invoices": {"frequency_minutes": 1}}},
            {
                "settings.entities.invoices.frequency_minutes": [
                    "Ensure this value is greater than or equal to 5."
                ]
            },
        ),
        (
            {"entities": {"invoices": {"frequency_minutes": 7 * 24 * 60 + 1}}},
            {
                "settings.entities.invoices.frequency_minutes": [
                    "Ensure this value is less than or equal to 10080."
                ]
            },
        ),
        (
            {"entities": {"invoices": {"frequency": 15}}},
            {"settings.entities.invoices.frequency": ["Unknown setting."]},
        ),
        (
            {"entities": {"invoices": 15}},
            {"settings.entities.invoices": ["Invalid data. Expected a dictionary, but got int."]},
        ),
        (
            {"entities": {"timesheets": {"enabled": True, "frequency_minutes": 60}}},
            {
                "settings.entities": [
                    "Unknown entity timesheets; this ledger has: accounts, tax_rates, tracking_categories, "
                    "contact_groups, contacts, items, invoices, credit_notes, payments, purchase_orders, "
                    "journals."
                ]
            },
        ),
        (
            {"entities": {"invoices": {"enabled": "sometimes"}}},
            {"settings.entities.invoices.enabled": ["Must be a valid boolean."]},
        ),
        (
            {"rate_limits": {"concurrent": None}},
            {"settings.rate_limits.concurrent": ["This field may not be null."]},
        ),
    ],
    ids=[
        "unknown",
        "too-often",
        "too-rare",
        "unknown-entity-key",
        "not-an-object",
        "unknown-entity",
        "type",
        "null",
    ],
)
def test_invalid_settings_name_the_field_and_save_nothing(api_client, xero_connection, patch, fields):
    before = _row(xero_connection)

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/",
        {"display_name": "Renamed", "settings": patch},
        format="json",
    )

    assert response.status_code == 400
    assert _error(response) == {
        "status": 400,
        "code": "invalid",
        "message": "Invalid settings.",
        "fields": fields,
    }
    assert _row(xero_connection) == before


def test_settings_must_be_an_object(api_client, xero_connection):
    before = _row(xero_connection)

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/", {"settings": ["entities"]}, format="json"
    )

    assert response.status_code == 400
    assert _error(response)["fields"] == {"settings": ['Expected a dictionary of items but got type "list".']}
    assert _row(xero_connection) == before


def test_rename_rejects_a_blank_name(api_client, xero_connection):
    before = _row(xero_connection)

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/", {"display_name": "   "}, format="json"
    )

    assert response.status_code == 400
    assert _error(response)["fields"] == {"display_name": ["This field may not be blank."]}
    assert _row(xero_connection) == before


def test_app_override_is_write_only(api_client, xero_connection):
    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/",
        {"app_client_id": "OVERRIDE", "app_client_secret": "override-secret"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["app_client_id"], body["app_client_secret_set"]) == ("OVERRIDE", True)
    assert "override-secret" not in response.content.decode()
    assert "override-secret" not in api_client.get("/api/v1/connections/").content.decode()
    row = Connection.objects.get(pk=xero_connection.pk)
    assert (row.app_client_id, row.app_client_secret) == ("OVERRIDE", "override-secret")

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/", {"app_client_id": "ALONE"}, format="json"
    )
    # A new id keeps the stored secret; clearing the id clears both.
    assert response.status_code == 200, response.content
    row = Connection.objects.get(pk=xero_connection.pk)
    assert (row.app_client_id, row.app_client_secret) == ("ALONE", "override-secret")
    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/", {"app_client_id": ""}, format="json"
    )
    assert response.status_code == 200, response.content
    row = Connection.objects.get(pk=xero_connection.pk)
    assert (row.app_client_id, row.app_client_secret) == ("", "")

    response = api_client.patch(
        f"/api/v1/connections/{xero_connection.pk}/", {"app_client_id": "NOSECRET"}, format="json"
    )
    assert response.status_code == 400
    assert _error(response)["fields"] == {"app_client_secret": ["Required with app_client_id."]}
    assert Connection.objects.get(pk=xero_connection.pk).app_client_id == ""


# --- deletion bookkeeping ------------------------------------------------------------------------------


def test_delete_answers_202_queues_once_and_refuses_a_second_request(
    api_client, staff_user, xero_connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client.delete(f"/api/v1/connections/{xero_connection.pk}/")

    assert response.status_code == 202, response.content
    deletion = ConnectionDeletion.objects.get()
    body = response.json()
    assert body == {
        "id": deletion.pk,
        "connection_id": xero_connection.pk,
        "connection_name": "Demo Company (UK)",
        "provider": "xero",
        "tenant_id": "4f1c0b7e-0000-4000-8000-000000000001",
        "status": "queued",
        "requested_by": "bookkeeper",
        "requested_at": body["requested_at"],
        "started_at": None,
        "finished_at": None,
        "rows_total": None,
        "rows_deleted": 0,
        "percent": None,
        "progress": {},
        "revoked": False,
        "error": "",
    }
    assert len(queued) == 1  # the task is enqueued once the request's transaction commits
    row = _row(xero_connection)
    assert (row["status"], row["status_reason"]) == ("deleting", "Deletion requested.")

    with django_capture_on_commit_callbacks(execute=False) as queued_again:
        again = api_client.delete(f"/api/v1/connections/{xero_connection.pk}/")

    assert again.status_code == 409
    assert _error(again) == {
        "status": 409,
        "code": "conflict",
        "message": "This connection is already being deleted.",
        "details": {"deletion_id": deletion.pk},
    }
    assert queued_again == []
    assert ConnectionDeletion.objects.count() == 1

    # Nor can it be disconnected or reconnected meanwhile.
    disconnect = api_client.post(f"/api/v1/connections/{xero_connection.pk}/disconnect/")
    assert disconnect.status_code == 409
    assert _error(disconnect)["message"] == "This connection is being deleted."


def test_deletion_deletes_related_rows_in_batches_and_records_progress(
    api_client, staff_user, xero_connection, monkeypatch, request, django_capture_on_commit_callbacks
):
    # No mirrored records here: stand in with OAuth states that point at the connection, declared as its data.
    request.addfinalizer(connection_data_register(model=OAuthState, field_name="reconnect"))
    monkeypatch.setattr(deletion_services, "DELETE_BATCH_SIZE", 2)
    now = timezone.now()
    for number in range(5):
        OAuthState.objects.create(
            state_hash=f"{number:064d}",
            provider="xero",
            user=staff_user,
            reconnect=xero_connection,
            redirect_uri=CALLBACK,
            created_at=now,
            expires_at=now + timedelta(minutes=15),
        )
    unrelated = OAuthState.objects.create(
        state_hash="f" * 64,
        provider="xero",
        user=staff_user,
        redirect_uri=CALLBACK,
        created_at=now,
        expires_at=now + timedelta(minutes=15),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(f"/api/v1/connections/{xero_connection.pk}/")

    assert response.status_code == 202, response.content
    deletion = api_client.get(f"/api/v1/connections/deletions/{response.json()['id']}/").json()
    assert deletion["started_at"] is not None
    assert deletion["finished_at"] is not None
    assert {
        key: deletion[key]
        for key in ("status", "rows_total", "rows_deleted", "percent", "progress", "revoked", "error")
    } == {
        "status": "succeeded",
        "rows_total": 5,
        "rows_deleted": 5,
        "percent": 100,
        "progress": {"integrations.OAuthState": {"total": 5, "deleted": 5}},
        # Without a credential there was nothing to revoke.
        "revoked": False,
        "error": "",
    }
    assert not Connection.objects.filter(pk=xero_connection.pk).exists()
    assert list(OAuthState.objects.values_list("pk", flat=True)) == [unrelated.pk]
    assert api_client.get(f"/api/v1/connections/{xero_connection.pk}/").status_code == 404


def test_deletion_goes_ahead_when_the_ledger_cannot_be_reached_and_says_so(
    api_client, xero_connection, settings, django_capture_on_commit_callbacks
):
    # A closed port: the ledger refuses the connection at once.
    settings.XERO_API_URL = "http://127.0.0.1:9"
    tokens: Any = {
        "access_token": "unreachable-access",
        "access_expires_at": timezone.now().timestamp() + 1800,
        "refresh_token": "unreachable-refresh",
    }
    credential = Credential.objects.create(
        provider="xero", kind=CredentialKindChoices.AUTHORIZATION_CODE, tokens=tokens
    )
    Connection.objects.filter(pk=xero_connection.pk).update(
        credential=credential, remote_connection_id="8b0e5c1a-0000-4000-8000-000000000009"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(f"/api/v1/connections/{xero_connection.pk}/")

    assert response.status_code == 202, response.content
    deletion = ConnectionDeletion.objects.get()
    assert (deletion.status, deletion.revoked, deletion.rows_total, deletion.error) == (
        "succeeded",
        False,
        0,
        "Access could not be revoked at the ledger: Xero could not be reached while removing the "
        "organisation's connection: MaxRetryError.",
    )
    assert (Connection.objects.count(), Credential.objects.count()) == (0, 0)


def test_deletions_list_and_filter(api_client, xero_connection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_client.delete(f"/api/v1/connections/{xero_connection.pk}/")

    listed = api_client.get("/api/v1/connections/deletions/", {"connection_id": xero_connection.pk}).json()
    assert [(row["connection_name"], row["status"]) for row in listed["results"]] == [
        ("Demo Company (UK)", "succeeded")
    ]
    assert api_client.get("/api/v1/connections/deletions/", {"status": "queued"}).json()["count"] == 0


# --- schema --------------------------------------------------------------------------------------------


def test_openapi_schema_builds_with_the_connections_endpoints(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/connections/",
        "/api/v1/connections/{id}/",
        "/api/v1/connections/authorize/",
        "/api/v1/connections/custom/",
        "/api/v1/connections/{id}/reconnect/",
        "/api/v1/connections/{id}/test/",
        "/api/v1/connections/{id}/disconnect/",
        "/api/v1/connections/deletions/",
        "/api/v1/connections/deletions/{id}/",
    } <= set(paths)
    operations = set(paths["/api/v1/connections/{id}/"]) - {"parameters"}
    assert operations == {"get", "patch", "delete"}
