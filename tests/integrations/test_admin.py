"""The connections admin: what it shows (never a secret), what its buttons and actions call, and that a
service's error is shown to staff instead of failing the request.

Rows are made through the ORM; the buttons' services are patched where they would call a ledger (the flows
themselves are tested end to end against the sandbox elsewhere)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from integrations.errors import ProviderUnavailable
from integrations.models import Connection, ConnectionDeletion, Credential, OAuthState
from integrations.providers import get_provider
from integrations.services import HealthResult

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "AT-secret-123"
REFRESH_TOKEN = "RT-secret-456"
ID_TOKEN = "IDT-secret-321"
APP_SECRET = "CS-secret-789"
CREDENTIAL_SECRET = "CCS-secret-000"
SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN, APP_SECRET, CREDENTIAL_SECRET)

CHANGELIST = "admin:integrations_connection_changelist"


def _credential(**overrides: Any) -> Credential:
    now = time.time()
    fields: dict[str, Any] = {
        "provider": "xero",
        "client_id": "app-client-id",
        "client_secret": CREDENTIAL_SECRET,
        "tokens": {
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "access_expires_at": now + 1800,
            "refresh_expires_at": now + 60 * 86400,
            "scopes": ["accounting.transactions"],
            "id_token": ID_TOKEN,
        },
        "access_expires_at": timezone.now() + timedelta(minutes=30),
        "refresh_expires_at": timezone.now() + timedelta(days=60),
        **overrides,
    }
    return Credential.objects.create(**fields)


def _connection(n: int = 1, *, credential: Credential | None = None, **overrides) -> Connection:
    fields = {
        "provider": "xero",
        "display_name": f"Acme {n}",
        "tenant_id": f"tenant-{n:04d}",
        "tenant_name": f"Acme Ltd {n}",
        "short_code": f"!ac{n}",
        "base_currency": "GBP",
        "country": "GB",
        "status": "active",
        "settings": get_provider("xero").settings_defaults(),
        "credential": credential,
        "app_client_id": "override-client-id",
        "app_client_secret": APP_SECRET,
        **overrides,
    }
    return Connection.objects.create(**fields)


def _change_url(connection: Connection, page: str = "change") -> str:
    return reverse(f"admin:integrations_connection_{page}", args=[connection.pk])


def _change_form(connection: Connection, **changes) -> dict[str, str]:
    """The change form as the browser posts it, with `changes` applied."""
    data = {
        "display_name": connection.display_name,
        "settings": json.dumps(connection.settings),
        "app_client_id": connection.app_client_id,
        "new_app_client_secret": "",
        "_continue": "Save and continue editing",
    }
    data.update(changes)
    return data


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _assert_no_secrets(content: bytes) -> None:
    text = content.decode()
    for secret in SECRETS:
        assert secret not in text


# --- What the pages show -------------------------------------------------------------------------------


def test_changelist_shows_each_connection_and_no_secret(admin_client, admin_user):
    credential = _credential()
    _connection(1, credential=credential, created_by=admin_user)
    _connection(
        2,
        status="needs_reauth",
        status_reason="The refresh token was refused.",
        health="failing",
        health_error="Timed out reading the organisation.",
        health_latency_ms=10012,
        health_checked_at=timezone.now() - timedelta(minutes=5),
    )

    response = admin_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    content = response.content.decode()
    for expected in ("Acme 1", "Acme Ltd 2", "tenant-0002", "GBP", admin_user.username):
        assert expected in content
    assert '<span class="ll-badge ll-green" title="">Active</span>' in content
    assert (
        '<span class="ll-badge ll-orange" title="The refresh token was refused.">Needs re-authorisation</span>'
        in content
    )
    assert "10012 ms, checked 5\xa0minutes ago" in content
    assert "Timed out reading the organisation." in content
    assert "not set" in content  # the second connection has no credential
    _assert_no_secrets(response.content)


def test_change_page_shows_state_of_secrets_never_their_values(admin_client):
    connection = _connection(credential=_credential())

    response = admin_client.get(_change_url(connection))

    assert response.status_code == 200
    content = response.content.decode()
    _assert_no_secrets(response.content)
    assert "set (User consent)" in content
    assert '<input type="password" name="new_app_client_secret"' in content
    # The ledger's deep link and every button.
    assert 'href="https://go.xero.com/organisationlogin/default.aspx?shortcode=!ac1"' in content
    assert "Open in Xero" in content
    for page in ("test", "reconnect", "disconnect", "delete"):
        assert f'"{_change_url(connection, page)}"' in content
    # Identity, status and health are read-only; only name, settings and the app override are inputs.
    for name in ("tenant_id", "status", "health", "provider", "credential"):
        assert f'name="{name}"' not in content
    for name in ("display_name", "settings", "app_client_id"):
        assert f'name="{name}"' in content


def test_a_deleting_connection_offers_only_delete(admin_client):
    connection = _connection(status="deleting")

    content = admin_client.get(_change_url(connection)).content.decode()

    for page in ("test", "reconnect", "disconnect"):
        assert f'"{_change_url(connection, page)}"' not in content
    # A failed deletion leaves the connection "deleting"; deleting again retries it.
    assert f'"{_change_url(connection, "delete")}"' in content


def test_changelist_queries_do_not_grow_with_rows(admin_client, admin_user):
    def changelist_queries() -> int:
        with CaptureQueriesContext(db_connection) as captured:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(captured)

    _connection(0, credential=_credential(), created_by=admin_user)
    one_row = changelist_queries()
    for n in range(1, 20):
        _connection(n, credential=_credential(), created_by=admin_user)

    # Session, user, two counts, the page of rows (with credential and creator joined).
    assert one_row == 5
    assert changelist_queries() == one_row


def test_search_finds_by_name_and_exact_tenant_id(admin_client):
    _connection(1)
    _connection(2, tenant_name="Globex Trading")

    by_name = admin_client.get(reverse(CHANGELIST), {"q": "globex"})
    by_tenant = admin_client.get(reverse(CHANGELIST), {"q": "tenant-0001"})
    by_partial_tenant = admin_client.get(reverse(CHANGELIST), {"q": "tenant-000"})

    assert [c.display_name for c in by_name.context["cl"].result_list] == ["Acme 2"]
    assert [c.display_name for c in by_tenant.context["cl"].result_list] == ["Acme 1"]
    assert list(by_partial_tenant.context["cl"].result_list) == []


def test_filters_by_status_and_health(admin_client):
    _connection(1)
    _connection(2, status="disconnected", health="failing")

    response = admin_client.get(
        reverse(CHANGELIST), {"status__exact": "disconnected", "health__exact": "failing"}
    )

    assert [c.display_name for c in response.context["cl"].result_list] == ["Acme 2"]


def test_return_from_the_ledger_lists_the_new_connections(admin_client):
    first, _second = _connection(1), _connection(2)

    response = admin_client.get(reverse(CHANGELIST), {"connections": f"{first.pk},x"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse(CHANGELIST)}?id__in={first.pk}"
    listed = admin_client.get(response["Location"]).context["cl"].result_list
    assert [c.pk for c in listed] == [first.pk]


# --- Editing -------------------------------------------------------------------------------------------


def test_settings_patch_is_merged_into_the_current_settings(admin_client):
    connection = _connection()
    before = dict(connection.settings)

    response = admin_client.post(
        _change_url(connection),
        _change_form(
            connection, display_name="  Acme Renamed ", settings='{"rate_limits": {"per_day": 1000}}'
        ),
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.display_name == "Acme Renamed"
    assert connection.settings == {**before, "rate_limits": {"per_day": 1000}}


def test_invalid_settings_are_shown_and_nothing_is_saved(admin_client):
    connection = _connection()
    before = dict(connection.settings)

    response = admin_client.post(
        _change_url(connection),
        _change_form(
            connection,
            display_name="Renamed",
            settings='{"colour": "blue", "entities": {"invoices": {"enabled": "perhaps", "frequency_minutes": 1}}}',
        ),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["settings"] == ["colour: Unknown setting."]
    assert "colour: Unknown setting." in response.content.decode()
    connection.refresh_from_db()
    assert (connection.display_name, connection.settings) == ("Acme 1", before)


def test_settings_failing_the_schema_are_shown_field_by_field(admin_client):
    connection = _connection()
    before = dict(connection.settings)

    response = admin_client.post(
        _change_url(connection),
        _change_form(
            connection,
            settings='{"entities": {"invoices": {"enabled": "perhaps", "frequency_minutes": 1}}}',
        ),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["settings"]
    assert "entities.invoices.enabled: Must be a valid boolean." in errors
    assert "entities.invoices.frequency_minutes: Ensure this value is greater than or equal to 5." in errors
    connection.refresh_from_db()
    assert connection.settings == before


@pytest.mark.parametrize(
    ("value", "error"),
    [("{not json", "Enter a valid JSON."), ("[1, 2]", "Must be an object of settings to change.")],
)
def test_settings_that_are_not_an_object_are_refused(admin_client, value, error):
    connection = _connection()
    before = dict(connection.settings)

    response = admin_client.post(_change_url(connection), _change_form(connection, settings=value))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["settings"] == [error]
    connection.refresh_from_db()
    assert connection.settings == before


@pytest.mark.parametrize("value", ["", "{}"])
def test_an_empty_settings_box_changes_nothing(admin_client, value):
    connection = _connection()
    before = dict(connection.settings)

    response = admin_client.post(
        _change_url(connection), _change_form(connection, settings=value, display_name="New")
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.display_name, connection.settings) == ("New", before)


def test_a_connection_without_settings_can_be_renamed(admin_client):
    connection = _connection(settings={})

    response = admin_client.post(_change_url(connection), _change_form(connection, display_name="New"))

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.display_name, connection.settings) == ("New", {})


def test_app_client_secret_is_replaced_but_never_shown(admin_client):
    connection = _connection()

    response = admin_client.post(
        _change_url(connection),
        _change_form(connection, app_client_id="other-app", new_app_client_secret="NEW-secret-555"),
        follow=True,
    )

    assert response.status_code == 200
    assert "NEW-secret-555" not in response.content.decode()
    connection.refresh_from_db()
    assert (connection.app_client_id, connection.app_client_secret) == ("other-app", "NEW-secret-555")


def test_an_unchanged_save_keeps_the_secret(admin_client):
    connection = _connection()

    response = admin_client.post(_change_url(connection), _change_form(connection))

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.app_client_id, connection.app_client_secret) == ("override-client-id", APP_SECRET)


def test_clearing_the_app_override_forgets_the_secret(admin_client):
    connection = _connection()

    admin_client.post(_change_url(connection), _change_form(connection, app_client_id=""))

    connection.refresh_from_db()
    assert (connection.app_client_id, connection.app_client_secret) == ("", "")


def test_an_app_client_id_needs_a_secret(admin_client):
    connection = _connection(app_client_id="", app_client_secret="")

    response = admin_client.post(_change_url(connection), _change_form(connection, app_client_id="new-app"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_app_client_secret"] == [
        "Required with app_client_id."
    ]
    connection.refresh_from_db()
    assert connection.app_client_id == ""


def test_a_secret_needs_a_client_id(admin_client):
    connection = _connection(app_client_id="", app_client_secret="")

    response = admin_client.post(
        _change_url(connection), _change_form(connection, new_app_client_secret="lonely-secret")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_app_client_secret"] == [
        "A client secret needs the client id it belongs to."
    ]
    connection.refresh_from_db()
    assert connection.app_client_secret == ""


# --- Buttons -------------------------------------------------------------------------------------------


def test_test_button_shows_the_latency(admin_client):
    connection = _connection()
    result = HealthResult(ok=True, latency_ms=42, checked_at=timezone.now())

    with mock.patch("integrations.services.connection_test", return_value=result) as connection_test:
        response = admin_client.post(_change_url(connection, "test"), follow=True)

    assert connection_test.call_args.kwargs["connection"].pk == connection.pk
    assert response.redirect_chain == [(_change_url(connection), 302)]
    assert _messages(response) == ["Acme 1: the ledger answered in 42 ms."]


def test_test_button_shows_the_failure(admin_client):
    connection = _connection()
    result = HealthResult(ok=False, latency_ms=7, checked_at=timezone.now(), error="The ledger said 503.")

    with mock.patch("integrations.services.connection_test", return_value=result):
        response = admin_client.post(_change_url(connection, "test"), follow=True)

    assert _messages(response) == ["Acme 1: the test failed after 7 ms: The ledger said 503."]


def test_test_button_shows_a_service_error_instead_of_failing(admin_client):
    connection = _connection()

    with mock.patch("integrations.services.connection_test", side_effect=ProviderUnavailable("Down.")):
        response = admin_client.post(_change_url(connection, "test"), follow=True)

    assert response.status_code == 200
    assert _messages(response) == ["Acme 1: Down."]


def test_test_button_records_the_health_through_the_real_service(admin_client):
    # No credential: the service fails before any call to the ledger, and records why.
    connection = _connection(credential=None)

    response = admin_client.post(_change_url(connection, "test"), follow=True)

    (message,) = _messages(response)
    assert message.startswith("Acme 1: the test failed after ")
    assert message.endswith("has no authorisation. Connect it again.")
    connection.refresh_from_db()
    assert connection.health == "failing"
    assert connection.health_error.endswith("has no authorisation. Connect it again.")


def test_buttons_that_change_something_refuse_get(admin_client):
    connection = _connection()

    with mock.patch("integrations.services.connection_test") as connection_test:
        assert admin_client.get(_change_url(connection, "test")).status_code == 405
        assert admin_client.get(_change_url(connection, "reconnect")).status_code == 405

    connection_test.assert_not_called()
    assert not OAuthState.objects.exists()


def test_buttons_need_the_change_permission(db):
    connection = _connection()
    viewer = get_user_model().objects.create_user(username="viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_connection"))
    client = Client()
    client.force_login(viewer)

    with mock.patch("integrations.services.connection_test") as connection_test:
        assert client.get(_change_url(connection)).status_code == 200
        assert client.post(_change_url(connection, "test")).status_code == 403
        assert client.post(_change_url(connection, "disconnect")).status_code == 403
        assert client.post(_change_url(connection, "delete")).status_code == 403

    connection_test.assert_not_called()
    assert not ConnectionDeletion.objects.exists()


def _role_client(role: str) -> Client:
    user = get_user_model().objects.create_user(username=f"user-{role}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_asks_the_permissions_the_api_asks(db):
    """A book-keeper may test a connection (refresh permission) but neither disconnect nor reconnect it,
    nor connect a new ledger; a viewer may only look, in the admin as through the API."""
    connection = _connection()
    bookkeeper, viewer = _role_client("Book-keeper"), _role_client("Viewer")
    ok = HealthResult(ok=True, latency_ms=5, checked_at=timezone.now(), error="")

    with mock.patch("integrations.services.connection_test", return_value=ok) as connection_test:
        assert bookkeeper.post(_change_url(connection, "test")).status_code == 302
        assert viewer.post(_change_url(connection, "test")).status_code == 403
    assert connection_test.call_count == 1
    for client in (bookkeeper, viewer):
        assert client.post(_change_url(connection, "disconnect")).status_code == 403
        assert client.post(_change_url(connection, "reconnect")).status_code == 403
        assert client.get(reverse("admin:integrations_connection_connect")).status_code == 403
        assert client.post(_change_url(connection, "delete")).status_code == 403

    page = bookkeeper.get(_change_url(connection)).content.decode()
    assert "Test connection" in page
    assert "Reconnect" not in page
    assert "Disconnect" not in page
    assert "Test connection" not in viewer.get(_change_url(connection)).content.decode()
    assert not OAuthState.objects.exists()
    assert Connection.objects.get(pk=connection.pk).status == "active"


def test_exports_in_the_admin_need_the_export_permission(db):
    changelist = reverse("admin:accounting_invoice_changelist")
    viewer_page = _role_client("Viewer").get(changelist).content.decode()
    bookkeeper_page = _role_client("Book-keeper").get(changelist).content.decode()

    assert 'value="export_csv"' not in viewer_page
    assert 'value="export_csv"' in bookkeeper_page


def test_reconnect_sends_the_browser_to_the_ledger(admin_client, admin_user, settings):
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "env-client", "env-secret"
    connection = _connection(app_client_id="", app_client_secret="")

    response = admin_client.post(_change_url(connection, "reconnect"))

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{settings.XERO_LOGIN_URL}/identity/connect/authorize"
    )
    query = parse_qs(location.query)
    assert query["client_id"] == ["env-client"]
    assert query["redirect_uri"] == ["http://testserver/api/v1/connections/callback/"]
    state = OAuthState.objects.get()
    assert (state.reconnect_id, state.user_id, state.return_url) == (
        connection.pk,
        admin_user.pk,
        _change_url(connection),
    )


def test_reconnect_without_an_app_explains_what_to_configure(admin_client, settings):
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "", ""
    connection = _connection(app_client_id="", app_client_secret="")

    response = admin_client.post(_change_url(connection, "reconnect"), follow=True)

    assert response.redirect_chain == [(_change_url(connection), 302)]
    (message,) = _messages(response)
    assert message.startswith("No Xero app is configured: set XERO_CLIENT_ID and XERO_CLIENT_SECRET")
    assert not OAuthState.objects.exists()


def test_disconnect_asks_first_then_calls_the_service(admin_client, admin_user):
    connection = _connection()

    with mock.patch("integrations.services.connection_disconnect") as connection_disconnect:
        confirmation = admin_client.get(_change_url(connection, "disconnect"))
        connection_disconnect.assert_not_called()

        def disconnect(*, connection: Connection) -> Connection:
            connection.status_set("disconnected", "Disconnected by staff; access was revoked at the ledger.")
            return connection

        connection_disconnect.side_effect = disconnect
        response = admin_client.post(_change_url(connection, "disconnect"), follow=True)

    assert confirmation.status_code == 200
    assert "Disconnect this connection?" in confirmation.content.decode()
    assert connection_disconnect.call_args.kwargs["connection"].pk == connection.pk
    assert response.redirect_chain == [(_change_url(connection), 302)]
    assert _messages(response) == ["Acme 1: Disconnected by staff; access was revoked at the ledger."]


def test_disconnect_through_the_real_service(admin_client):
    # No credential: nothing to revoke at the ledger, so no call is made.
    connection = _connection(credential=None)

    response = admin_client.post(_change_url(connection, "disconnect"), follow=True)

    assert _messages(response) == ["Acme 1: Disconnected by staff; the ledger had already withdrawn access."]
    connection.refresh_from_db()
    assert connection.status == "disconnected"
    assert f'"{_change_url(connection, "disconnect")}"' not in response.content.decode()


def test_disconnect_shows_a_service_error(admin_client):
    connection = _connection()

    with mock.patch(
        "integrations.services.connection_disconnect",
        side_effect=Conflict("This connection is being deleted."),
    ):
        response = admin_client.post(_change_url(connection, "disconnect"), follow=True)

    assert response.status_code == 200
    assert _messages(response) == ["This connection is being deleted."]


def test_delete_asks_first_then_queues_the_deletion(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    connection = _connection()

    confirmation = admin_client.get(_change_url(connection, "delete"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(_change_url(connection, "delete"), follow=True)

    assert confirmation.status_code == 200
    assert "Delete this connection and everything mirrored from it?" in confirmation.content.decode()
    assert response.redirect_chain == [(reverse(CHANGELIST), 302)]
    deletion = ConnectionDeletion.objects.get()
    assert (deletion.connection_id, deletion.connection_name, deletion.requested_by_id) == (
        connection.pk,
        "Acme 1",
        admin_user.pk,
    )
    deletion_url = reverse("admin:integrations_connectiondeletion_change", args=[deletion.pk])
    assert _messages(response) == [
        f'Deleting Acme 1 and its data in the background: follow it in <a href="{deletion_url}">'
        f"deletion #{deletion.pk}</a>."
    ]
    # The queued task ran once the request committed (the test queue runs tasks in-process).
    assert deletion.status == "succeeded"
    assert not Connection.objects.filter(pk=connection.pk).exists()


def test_delete_of_a_connection_already_being_deleted_is_explained(admin_client):
    connection = _connection()
    ConnectionDeletion.objects.create(
        connection_id=connection.pk, connection_name="Acme 1", provider="xero", tenant_id=connection.tenant_id
    )

    response = admin_client.post(_change_url(connection, "delete"), follow=True)

    assert response.redirect_chain == [(_change_url(connection), 302)]
    assert _messages(response) == ["Acme 1: This connection is already being deleted."]
    assert ConnectionDeletion.objects.count() == 1


# --- Bulk actions --------------------------------------------------------------------------------------


def _action(admin_client, action: str, connections: list[Connection], **extra):
    data = {"action": action, "_selected_action": [c.pk for c in connections], **extra}
    return admin_client.post(reverse(CHANGELIST), data, follow=True)


def test_django_bulk_delete_is_replaced(admin_client):
    _connection()

    actions = admin_client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices

    assert [name for name, _label in actions if name] == [
        "test_selected",
        "disconnect_selected",
        "delete_selected_connections",
    ]


def test_bulk_delete_asks_first_then_queues_each_deletion(admin_client, django_capture_on_commit_callbacks):
    connections = [_connection(1), _connection(2)]

    confirmation = _action(admin_client, "delete_selected_connections", connections)
    assert not ConnectionDeletion.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(admin_client, "delete_selected_connections", connections, post="yes")

    assert "Acme 1" in confirmation.content.decode()
    assert "Delete these connections and everything mirrored from them?" in confirmation.content.decode()
    assert response.status_code == 200
    deletions_url = reverse("admin:integrations_connectiondeletion_changelist")
    assert _messages(response) == [
        f'Deleting Acme 1, Acme 2 and their data in the background: follow them in <a href="{deletions_url}">'
        "deletions</a>."
    ]
    assert sorted(ConnectionDeletion.objects.values_list("connection_name", "status")) == [
        ("Acme 1", "succeeded"),
        ("Acme 2", "succeeded"),
    ]
    assert not Connection.objects.exists()


def test_bulk_test_reports_each_connection(admin_client):
    connections = [_connection(1), _connection(2), _connection(3)]
    now = timezone.now()
    results = {
        connections[0].pk: HealthResult(ok=True, latency_ms=12, checked_at=now),
        connections[1].pk: HealthResult(ok=False, latency_ms=30, checked_at=now, error="Refused."),
    }

    def connection_test(*, connection: Connection) -> HealthResult:
        if connection.pk not in results:
            raise ProviderUnavailable("Unreachable.")
        return results[connection.pk]

    with mock.patch("integrations.services.connection_test", side_effect=connection_test):
        response = _action(admin_client, "test_selected", connections)

    assert _messages(response) == [
        "Answered: Acme 1 (12 ms).",
        "Failed: Acme 2: Refused.; Acme 3: Unreachable.",
    ]


def test_bulk_test_is_limited_to_what_a_request_can_wait_for(admin_client, monkeypatch):
    monkeypatch.setattr("integrations.admin.connection_actions.MAX_TESTS_AT_ONCE", 2)
    connections = [_connection(1), _connection(2), _connection(3)]

    with mock.patch("integrations.services.connection_test") as connection_test:
        response = _action(admin_client, "test_selected", connections)

    connection_test.assert_not_called()
    assert _messages(response) == [
        "Select at most 2 connections to test at once; the scheduled health checks test every connection."
    ]


def test_bulk_disconnect_asks_first_then_disconnects_each(admin_client):
    connections = [_connection(1), _connection(2)]

    with mock.patch("integrations.services.connection_disconnect") as connection_disconnect:
        confirmation = _action(admin_client, "disconnect_selected", connections)
        connection_disconnect.assert_not_called()
        response = _action(admin_client, "disconnect_selected", connections, post="yes")

    assert "Disconnect these connections?" in confirmation.content.decode()
    assert sorted(call.kwargs["connection"].pk for call in connection_disconnect.call_args_list) == sorted(
        c.pk for c in connections
    )
    assert _messages(response) == ["Disconnected: Acme 1, Acme 2."]


# --- Connecting ----------------------------------------------------------------------------------------


def test_add_leads_to_the_connect_page(admin_client):
    response = admin_client.get(reverse("admin:integrations_connection_add"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:integrations_connection_connect")


def test_connect_page_offers_every_provider_and_custom_connections_where_supported(admin_client):
    response = admin_client.get(reverse("admin:integrations_connection_connect"))

    assert response.status_code == 200
    oauth_choices = response.context["oauth_form"].fields["provider"].choices
    custom_choices = response.context["custom_form"].fields["provider"].choices
    assert sorted(oauth_choices) == [("quickbooks", "QuickBooks Online"), ("xero", "Xero")]
    assert custom_choices == [("xero", "Xero")]
    assert (
        f'href="{reverse("admin:integrations_connection_connect")}"'
        in admin_client.get(reverse(CHANGELIST)).content.decode()
    )


def test_connect_sends_the_browser_to_the_ledger(admin_client, admin_user, settings):
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "env-client", "env-secret"

    response = admin_client.post(
        reverse("admin:integrations_connection_connect"), {"form": "oauth", "oauth-provider": "xero"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?")
    assert parse_qs(urlsplit(response["Location"]).query)["client_id"] == ["env-client"]
    state = OAuthState.objects.get()
    assert (state.provider, state.user_id, state.reconnect_id, state.return_url) == (
        "xero",
        admin_user.pk,
        None,
        reverse(CHANGELIST),
    )


def test_connect_as_another_app(admin_client, settings):
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "", ""

    response = admin_client.post(
        reverse("admin:integrations_connection_connect"),
        {
            "form": "oauth",
            "oauth-provider": "xero",
            "oauth-client_id": "their-app",
            "oauth-client_secret": "their-secret",
        },
    )

    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["client_id"] == ["their-app"]
    assert OAuthState.objects.get().app_client_id == "their-app"


def test_connect_errors_are_shown_on_the_page(admin_client, settings):
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = "env-client", "env-secret"

    response = admin_client.post(
        reverse("admin:integrations_connection_connect"),
        {"form": "oauth", "oauth-provider": "xero", "oauth-client_id": "their-app"},
    )

    assert response.status_code == 200
    assert response.context["oauth_form"].errors["client_secret"] == ["Required when client_id is given."]
    assert _messages(response) == ["Invalid input. (client_secret: Required when client_id is given.)"]
    assert not OAuthState.objects.exists()


def test_custom_connection_is_created_through_the_service(admin_client, admin_user):
    created = _connection(7)

    with mock.patch("integrations.services.connection_custom_create", return_value=created) as custom_create:
        response = admin_client.post(
            reverse("admin:integrations_connection_connect"),
            {
                "form": "custom",
                "custom-provider": "xero",
                "custom-client_id": "cc-id",
                "custom-client_secret": "cc-secret",
                "custom-display_name": "Acme custom",
            },
            follow=True,
        )

    custom_create.assert_called_once_with(
        provider_key="xero",
        client_id="cc-id",
        client_secret="cc-secret",
        display_name="Acme custom",
        user_id=admin_user.pk,
    )
    assert response.redirect_chain == [(_change_url(created), 302)]
    assert _messages(response) == ["Connected: Acme 7."]


def test_custom_connection_failure_is_shown_and_the_secret_not_echoed(admin_client):
    failure = InvalidInput("The ledger refused the client id and secret. Nothing was connected.")

    with mock.patch("integrations.services.connection_custom_create", side_effect=failure):
        response = admin_client.post(
            reverse("admin:integrations_connection_connect"),
            {
                "form": "custom",
                "custom-provider": "xero",
                "custom-client_id": "cc-id",
                "custom-client_secret": "cc-secret-value",
            },
        )

    assert response.status_code == 200
    assert _messages(response) == ["The ledger refused the client id and secret. Nothing was connected."]
    assert "cc-secret-value" not in response.content.decode()
    assert not Connection.objects.exists()


# --- Deletion records and what is not registered -------------------------------------------------------


def test_deletions_are_listed_with_progress_and_cannot_be_edited(admin_client, admin_user):
    deletion = ConnectionDeletion.objects.create(
        connection_id=999,
        connection_name="Gone Ltd",
        provider="xero",
        tenant_id="tenant-gone",
        status="running",
        requested_by=admin_user,
        rows_total=200,
        rows_deleted=50,
        progress={"accounting.Invoice": {"total": 200, "deleted": 50}},
    )
    changelist = reverse("admin:integrations_connectiondeletion_changelist")
    change = reverse("admin:integrations_connectiondeletion_change", args=[deletion.pk])

    listing = admin_client.get(changelist)
    detail = admin_client.get(change)

    assert listing.status_code == 200
    content = listing.content.decode()
    assert '<progress max="100" value="25">25%</progress> 25%' in content
    assert "50 / 200" in content
    assert "Gone Ltd" in content
    assert detail.status_code == 200
    assert "accounting.Invoice: 50 / 200" in detail.content.decode()
    assert 'name="connection_name"' not in detail.content.decode()
    assert admin_client.get(reverse("admin:integrations_connectiondeletion_add")).status_code == 403
    assert admin_client.post(change, {"error": "edited"}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:integrations_connectiondeletion_delete", args=[deletion.pk])
        ).status_code
        == 403
    )
    deletion.refresh_from_db()
    assert deletion.error == ""


def test_credentials_and_oauth_states_are_not_in_the_admin():
    assert not admin.site.is_registered(Credential)
    assert not admin.site.is_registered(OAuthState)
