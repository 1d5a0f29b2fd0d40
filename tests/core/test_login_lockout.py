"""Logins that can't be guessed at speed: ten wrong passwords lock the user name out, on the admin's login
and the API's token endpoint alike, whatever X-Forwarded-For each attempt claims; and the client address
is locked out too, across user names. The right password is then refused until the cool-off ends."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
TOKEN = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    # The per-address throttle has its own test below; elsewhere here only the lockout answers. DRF reads
    # the rates once, into the class, so overriding the setting would not reach it.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "1000/min"})


# Each attempt comes from another socket address and claims another X-Forwarded-For, so only the user
# name can tie the attempts together.
def _api_login(password: str, n: int, username: str = "bookkeeper"):
    return APIClient().post(
        TOKEN,
        {"username": username, "password": password},
        REMOTE_ADDR=f"192.0.2.{n}",
        HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
    )


def _admin_login(password: str, n: int, username: str = "bookkeeper"):
    return Client().post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=f"192.0.2.{n}",
        HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
    )


def test_ten_wrong_passwords_lock_the_account_on_the_token_endpoint(staff_user):
    for n in range(9):
        assert _api_login("wrong", n).status_code == 400
    assert _api_login("wrong", 9).status_code == 429  # the tenth failure locks, and says so
    locked = _api_login(PASSWORD, 99)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    error = locked.json()["error"]
    assert error["code"] == "locked_out"
    assert "locked for 15 minutes" in error["message"]
    assert "token" not in locked.json()


def test_ten_wrong_passwords_lock_the_account_on_the_admin_login(staff_user):
    for n in range(9):
        response = _admin_login("wrong", n)
        assert response.status_code == 200  # the form again, with its error
        assert "Please enter the correct username and password" in response.content.decode()
    assert _admin_login("wrong", 9).status_code == 429
    locked = _admin_login(PASSWORD, 99)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in locked.wsgi_request.session
    # And the API's door is shut for the same user name.
    assert _api_login(PASSWORD, 98).status_code == 429


def test_another_user_name_is_not_locked_by_someone_elses_failures(staff_user, django_user_model):
    django_user_model.objects.create_user(username="other", password=PASSWORD, is_staff=True)
    for n in range(10):
        _api_login("wrong", n)
    assert _api_login(PASSWORD, 50, username="other").status_code == 200


def test_right_passwords_of_a_non_staff_account_count_as_failures(plain_user):
    # The endpoint refuses such an account as a wrong password; guessing its password must not be free.
    for n in range(9):
        assert _api_login(PASSWORD, n, username="customer").status_code == 400
    assert _api_login(PASSWORD, 9, username="customer").status_code == 429
    assert AccessAttempt.objects.get(username="customer", ip_address="192.0.2.9").failures_since_start == 1


def test_the_address_is_locked_out_across_user_names_whatever_it_forwards(staff_user, django_user_model):
    django_user_model.objects.create_user(username="other", password=PASSWORD, is_staff=True)
    client = APIClient()
    for n in range(10):
        client.post(
            TOKEN, {"username": f"guess{n}", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )
    response = client.post(TOKEN, {"username": "other", "password": PASSWORD})
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    # The admin's login is the same door for that address.
    admin = Client().post(ADMIN_LOGIN, {"username": "other", "password": PASSWORD, "next": "/admin/"})
    assert admin.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_out_not_the_proxy(
    staff_user, django_user_model, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    django_user_model.objects.create_user(username="other", password=PASSWORD, is_staff=True)
    proxy = "10.0.0.1"
    for n in range(10):
        APIClient().post(
            TOKEN,
            {"username": f"guess{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5",
            REMOTE_ADDR=proxy,
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    login = {"username": "other", "password": PASSWORD}
    locked = APIClient().post(TOKEN, login, HTTP_X_FORWARDED_FOR="203.0.113.5", REMOTE_ADDR=proxy)
    assert locked.status_code == 429
    other_client = APIClient().post(TOKEN, login, HTTP_X_FORWARDED_FOR="203.0.113.6", REMOTE_ADDR=proxy)
    assert other_client.status_code == 200


def test_the_login_throttle_counts_by_socket_address_whatever_it_forwards(db, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "5/min"})
    client = APIClient()
    # No password: refused before any authentication, so only the throttle is counting.
    for n in range(5):
        response = client.post(TOKEN, {"username": "bookkeeper"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code == 400
    throttled = client.post(TOKEN, {"username": "bookkeeper"}, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert not AccessAttempt.objects.exists()


def test_forwarded_for_is_read_only_through_trusted_proxies(rf, settings):
    from core.network import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 10.0.0.7", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.1.1.1"
