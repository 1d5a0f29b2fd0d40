"""API tokens that can be trusted: stored hashed, shown once, expiring, revoked by a password change,
and service tokens that admit a machine client's non-staff user with its own permissions."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.roles import BOOKKEEPER, VIEWER
from tests.conftest import api_token_for

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _login(username: str = "bookkeeper", password: str = PASSWORD):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password})


def test_a_token_is_stored_hashed_and_never_shown_again(staff_user, admin_client):
    key = _login().json()["token"]
    token = ApiToken.objects.get(user=staff_user)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert key not in stored
    assert token.digest != key
    assert len(token.digest) == 128

    listing = admin_client.get(reverse("admin:core_apitoken_changelist")).content.decode()
    page = admin_client.get(reverse("admin:core_apitoken_change", args=[token.pk])).content.decode()
    revoke = admin_client.post(
        reverse("admin:core_apitoken_changelist"),
        {"action": "delete_selected", "_selected_action": [token.pk]},
    ).content.decode()
    for html in (listing, page, revoke):
        assert token.token_key in html
        assert key not in html
        # Not even the digest: links, checkboxes and log entries name the row by its number.
        assert token.digest not in html
    assert _client(key).get("/api/v1/me/").status_code == 200


def test_a_view_only_staff_user_sees_no_token_at_all(staff_user):
    _login()
    viewer = get_user_model().objects.create_user(username="viewer", password=PASSWORD, is_staff=True)
    viewer.groups.add(Group.objects.get(name=VIEWER.name))
    client = Client()
    client.force_login(viewer)
    assert client.get(reverse("admin:core_apitoken_changelist")).status_code == 403


def test_a_password_change_revokes_every_token(staff_user, admin_client):
    first, second = _login().json()["token"], _login().json()["token"]
    assert _client(first).get("/api/v1/me/").status_code == 200

    staff_user.set_password("a brand new passphrase")
    staff_user.save()
    assert not ApiToken.objects.filter(user=staff_user).exists()
    for key in (first, second):
        assert _client(key).get("/api/v1/me/").status_code == 401

    third = _login(password="a brand new passphrase").json()["token"]
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[staff_user.pk]),
        {
            "password1": "yet another passphrase 9",
            "password2": "yet another passphrase 9",
            "usable_password": "true",
        },
    )
    assert response["Location"] == reverse("admin:auth_user_change", args=[staff_user.pk])
    assert _client(third).get("/api/v1/me/").status_code == 401


def test_the_changepassword_command_revokes_every_token(staff_user, monkeypatch):
    key = _login().json()["token"]
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        lambda prompt="": "a brand new passphrase",
    )
    call_command("changepassword", "bookkeeper", stdout=StringIO())
    assert _client(key).get("/api/v1/me/").status_code == 401
    assert _login(password="a brand new passphrase").status_code == 200


def test_a_password_rehashed_at_login_keeps_the_tokens(staff_user, settings):
    # Django rehashes a password at login when the preferred hasher changes (as its work factors do
    # with every release); the password is the same, so the tokens of the person who knows it stay.
    key = _login().json()["token"]
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    second = _login().json()["token"]
    staff_user.refresh_from_db()
    assert staff_user.password.startswith("scrypt$")
    for token in (key, second):
        assert _client(token).get("/api/v1/me/").status_code == 200


def test_making_the_password_unusable_revokes_every_token(staff_user, admin_client):
    key = _login().json()["token"]
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[staff_user.pk]),
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response["Location"] == reverse("admin:auth_user_change", args=[staff_user.pk])
    staff_user.refresh_from_db()
    assert not staff_user.has_usable_password()
    assert _client(key).get("/api/v1/me/").status_code == 401


def test_saving_a_user_without_changing_the_password_keeps_the_tokens(staff_user):
    key = _login().json()["token"]
    staff_user.first_name = "Bea"
    staff_user.save()
    assert _client(key).get("/api/v1/me/").status_code == 200


def test_an_expired_token_is_401(staff_user):
    key = _login().json()["token"]
    ApiToken.objects.filter(user=staff_user).update(expiry=timezone.now() - timedelta(seconds=1))
    response = _client(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_login_token_expires_after_the_configured_hours(staff_user, settings):
    body = _login().json()
    token = ApiToken.objects.get(user=staff_user)
    assert timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1) < token.expiry - timezone.now()
    assert token.expiry - timezone.now() <= timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    assert body["expiry"] is not None


def test_last_use_is_recorded_at_most_once_a_minute(staff_user):
    key = _login().json()["token"]
    assert ApiToken.objects.get(user=staff_user).last_used_at is None
    _client(key).get("/api/v1/me/")
    first = ApiToken.objects.get(user=staff_user).last_used_at
    assert first is not None
    _client(key).get("/api/v1/me/")
    assert ApiToken.objects.get(user=staff_user).last_used_at == first


def test_logout_revokes_the_presented_token_only(staff_user):
    kept, dropped = _login().json()["token"], _login().json()["token"]
    assert _client(dropped).post("/api/v1/auth/logout/").status_code == 204
    assert _client(dropped).get("/api/v1/me/").status_code == 401
    assert _client(kept).get("/api/v1/me/").status_code == 200


def test_a_service_token_admits_its_non_staff_user_with_its_own_permissions():
    out = StringIO()
    call_command("api_client_create", "erp-sync", "--group", BOOKKEEPER.name, "--name", "ERP", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    user = get_user_model().objects.get(username="erp-sync")
    assert (user.is_staff, user.has_usable_password()) == (False, False)
    token = ApiToken.objects.get(user=user)
    assert token.is_service
    assert token.expiry is not None

    client = _client(key)
    assert client.get("/api/v1/invoices/").status_code == 200
    assert client.get("/api/v1/invoices/export/").status_code == 200
    assert client.post("/api/v1/connections/authorize/", {}, format="json").status_code == 403
    # The same user with a token that is not a service token is not let in.
    assert _client(api_token_for(user)).get("/api/v1/invoices/").status_code == 403


def test_the_admin_makes_a_service_token_and_shows_its_key_once(admin_client):
    machine = get_user_model().objects.create_user(username="warehouse")
    response = admin_client.post(
        reverse("admin:core_apitoken_add"),
        {"user": machine.pk, "name": "Warehouse", "is_service": "on", "expires_in_days": "30"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=machine)
    shown = [str(message) for message in response.context["messages"]]
    key = next(text.rsplit(" ", 1)[-1] for text in shown if "shown this once" in text)
    assert key.startswith(token.token_key)
    assert timedelta(days=29) < token.expiry - timezone.now() <= timedelta(days=30)
    assert _client(key).get("/api/v1/me/").status_code == 200
    assert key not in admin_client.get(reverse("admin:core_apitoken_changelist")).content.decode()


def test_expired_tokens_are_cleared_when_the_user_gets_a_new_one(staff_user):
    old = _login().json()["token"]
    ApiToken.objects.filter(user=staff_user).update(expiry=timezone.now() - timedelta(minutes=1))
    _login()
    assert ApiToken.objects.filter(user=staff_user).count() == 1
    assert _client(old).get("/api/v1/me/").status_code == 401
