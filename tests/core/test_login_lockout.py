"""Logins that can't be guessed at speed: ten wrong passwords lock the user name out, on the admin's login
and the API's token endpoint alike, whatever X-Forwarded-For each attempt claims; and the client address
is locked out too, across user names. The right password is then refused until the cool-off ends."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
TOKEN = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # The per-address throttle has its own limits; here only the lockout answers.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "1000/min"},
    }


def _api_login(password: str, n: int, username: str = "bookkeeper"):
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
    )


def _admin_login(password: str, n: int, username: str = "bookkeeper"):
    return Client().post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
    )


def test_ten_wrong_passwords_lock_the_account_on_the_token_endpoint(staff_user):
    for n in range(9):
        assert _api_login("wrong", n).status_code == 400
    assert _api_login("wrong", 9).status_code == 429  # the tenth failure locks, and says so
    locked = _api_login(PASSWORD, 99)
    assert locked.status_code == 429
    error = locked.json()["error"]
    assert error["code"] == "locked_out"
    assert "locked for 15 minutes" in error["message"]


def test_ten_wrong_passwords_lock_the_account_on_the_admin_login(staff_user):
    for n in range(9):
        response = _admin_login("wrong", n)
        assert response.status_code == 200  # the form again, with its error
    assert _admin_login("wrong", 9).status_code == 429
    locked = _admin_login(PASSWORD, 99)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # And the API's door is shut for the same user name.
    assert _api_login(PASSWORD, 98).status_code == 429


def test_the_address_is_locked_out_across_user_names(staff_user, django_user_model):
    django_user_model.objects.create_user(username="other", password=PASSWORD, is_staff=True)
    client = APIClient()
    for n in range(10):
        client.post(TOKEN, {"username": f"guess{n}", "password": "wrong"})
    response = client.post(TOKEN, {"username": "other", "password": PASSWORD})
    assert response.status_code == 429


def test_forwarded_for_is_read_only_through_trusted_proxies(rf, settings):
    from core.network import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 10.0.0.7", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.1.1.1"
