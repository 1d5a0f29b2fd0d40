from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command


def run(capsys, *args: str) -> str:
    call_command("bootstrap_admin", *args)
    return capsys.readouterr().out


@pytest.mark.django_db
def test_generates_a_password_and_shows_it_once(capsys, monkeypatch):
    monkeypatch.delenv("LEDGERLINK_ADMIN_PASSWORD", raising=False)
    first = run(capsys, "--username", "ops", "--email", "ops@example.com")
    password = first.split("Password (shown only this once): ")[1].strip()
    user = get_user_model().objects.get(username="ops")
    assert user.is_staff
    assert user.is_superuser
    assert user.email == "ops@example.com"
    assert user.check_password(password)
    second = run(capsys, "--username", "ops")
    assert second.strip() == "Staff user 'ops' already exists; its password is unchanged."
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.django_db
def test_password_from_environment(capsys, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_ADMIN_PASSWORD", "a-long-and-unusual-passphrase")
    out = run(capsys, "--username", "ops")
    assert "shown only this once" not in out
    assert get_user_model().objects.get(username="ops").check_password("a-long-and-unusual-passphrase")


@pytest.mark.django_db
def test_weak_environment_password_is_refused(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_ADMIN_PASSWORD", "123")
    with pytest.raises(
        CommandError, match=r"The admin password is too weak\. password: This password is too short"
    ):
        call_command("bootstrap_admin", "--username", "ops")
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_existing_user_regains_staff_rights(capsys):
    get_user_model().objects.create_user(username="ops", password="whatever-it-was-1")
    run(capsys, "--username", "ops")
    user = get_user_model().objects.get(username="ops")
    assert (user.is_staff, user.is_superuser) == (True, True)
    assert user.check_password("whatever-it-was-1")
