"""The token service against the sandbox over real HTTP: lost refresh answers, refused grants, refused
access tokens, keeping consents fresh, encryption at rest with key rotation, and no secret in the logs.

The single-flight race (many workers, one refresh) is in test_tokens_race.py (PostgreSQL only)."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TextIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db_connection
from django.utils import timezone
from django_q.models import Schedule

from core.logging import JsonFormatter
from integrations import crypto, services
from integrations.calls import ledger_call
from integrations.models import Connection, Credential, OAuthState
from integrations.providers import get_provider
from integrations.providers.base import TenantInfo
from sandbox.models import (
    QboAuthCode,
    QboToken,
    SandboxApp,
    XeroAuthCode,
    XeroGrant,
    XeroToken,
)
from sandbox.qbo import tokens as qbo_tokens
from sandbox.xero import tokens as xero_tokens
from tests.integrations.conftest import BOTH_DATABASES
from tests.ledger_fixtures import connection_made

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)

PROVIDERS = ["xero", "quickbooks"]


# --- Helpers (also used by test_tokens_race.py) ---------------------------------------------------------


def credential_of(connection: Connection) -> Credential:
    credential_id = Connection.objects.get(pk=connection.pk).credential_id
    assert credential_id is not None
    return Credential.objects.get(pk=credential_id)


def sandbox_app_of(credential: Credential) -> SandboxApp:
    return SandboxApp.objects.get(client_id=credential.client_id)


def refresh_count(app: SandboxApp) -> int:
    """Refresh grants the sandbox's token endpoint has answered for this app."""
    app.refresh_from_db(fields=["token_refresh_count"])
    return app.token_refresh_count


def access_expire(credential_id: int) -> None:
    """Make Ledgerlink believe its access token has expired (the ledger still accepts it)."""
    credential = Credential.objects.get(pk=credential_id)
    past = timezone.now() - timedelta(minutes=1)
    credential.tokens = {**credential.tokens, "access_expires_at": past.timestamp()}
    credential.access_expires_at = past
    credential.save(update_fields=["tokens", "access_expires_at", "updated_at"])


@pytest.fixture
def ledger_connection(request) -> Connection:
    """The connection of the provider the test is parametrised with."""
    fixture = {"xero": "xero_connection", "quickbooks": "qbo_connection"}[request.param]
    return request.getfixturevalue(fixture)


# --- A lost refresh answer ------------------------------------------------------------------------------


def test_lost_refresh_answer_recovers_within_xero_grace(xero_connection, xero_app):
    before = credential_of(xero_connection)
    old_refresh = before.tokens["refresh_token"]
    count = refresh_count(xero_app)
    SandboxApp.objects.filter(pk=xero_app.pk).update(fault_token_drop_next=1)
    access_expire(before.pk)

    failed = services.connection_test(connection=Connection.objects.get(pk=xero_connection.pk))

    assert not failed.ok
    assert "did not answer while refreshing the access token" in failed.error
    connection = Connection.objects.get(pk=xero_connection.pk)
    assert (connection.health, connection.health_error, connection.status) == (
        "failing",
        failed.error,
        "active",
    )
    unchanged = credential_of(xero_connection)
    assert (unchanged.tokens["refresh_token"], unchanged.version) == (old_refresh, before.version)
    assert unchanged.last_error == failed.error
    # The sandbox did rotate the token; only the answer was lost.
    assert refresh_count(xero_app) == count + 1
    rotated = XeroToken.objects.get(token=old_refresh)
    assert rotated.rotated_at is not None

    recovered = services.connection_test(connection=Connection.objects.get(pk=xero_connection.pk))

    assert recovered.ok, recovered.error
    assert refresh_count(xero_app) == count + 2
    after = credential_of(xero_connection)
    assert after.version == before.version + 1
    assert after.last_error == ""
    # The grace window answered the old token with the pair its first (lost) use produced.
    assert rotated.successor_refresh is not None
    assert rotated.successor_access is not None
    assert after.tokens["refresh_token"] == rotated.successor_refresh.token != old_refresh
    assert after.tokens["access_token"] == rotated.successor_access.token

    access_expire(after.pk)
    third = services.connection_test(connection=Connection.objects.get(pk=xero_connection.pk))

    assert third.ok, third.error
    assert refresh_count(xero_app) == count + 3
    latest = credential_of(xero_connection)
    assert latest.version == before.version + 2
    assert latest.tokens["refresh_token"] not in (old_refresh, after.tokens["refresh_token"])
    assert Connection.objects.get(pk=xero_connection.pk).status == "active"


# --- A refused grant ------------------------------------------------------------------------------------


def _grant_revoke_at_ledger(credential: Credential) -> None:
    """What the user does in the ledger's own UI: withdraw the app's access."""
    refresh_token = credential.tokens["refresh_token"]
    if credential.provider == "xero":
        xero_tokens.grant_revoke(grant=XeroGrant.objects.get(tokens__token=refresh_token))
    else:
        assert qbo_tokens.token_revoke(app=sandbox_app_of(credential), token=refresh_token)


@pytest.mark.parametrize("ledger_connection", PROVIDERS, indirect=True)
def test_revoked_grant_marks_the_connection_needs_reauth(ledger_connection, api_client):
    credential = credential_of(ledger_connection)
    app = sandbox_app_of(credential)
    _grant_revoke_at_ledger(credential)
    access_expire(credential.pk)
    count = refresh_count(app)

    result = services.connection_test(connection=Connection.objects.get(pk=ledger_connection.pk))

    assert not result.ok
    assert "invalid_grant" in result.error
    connection = Connection.objects.get(pk=ledger_connection.pk)
    assert connection.status == "needs_reauth"
    assert "invalid_grant" in connection.status_reason
    assert connection.health == "failing"
    # One refresh attempt; the re-read found the same token, so no second one.
    assert refresh_count(app) == count + 1
    assert credential_of(ledger_connection).version == credential.version

    body = api_client.get(f"/api/v1/connections/{connection.pk}/").json()
    assert body["status"] == "needs_reauth"
    assert body["status_reason"] == connection.status_reason

    # From now on the ledger is not asked again until staff reconnect.
    again = services.connection_test(connection=Connection.objects.get(pk=ledger_connection.pk))
    assert not again.ok
    assert refresh_count(app) == count + 1


# --- A refused access token -----------------------------------------------------------------------------


def _access_token_revoke_at_ledger(credential: Credential) -> None:
    model = XeroToken if credential.provider == "xero" else QboToken
    assert model.objects.filter(token=credential.tokens["access_token"]).update(revoked_at=timezone.now())


@pytest.mark.parametrize("ledger_connection", PROVIDERS, indirect=True)
def test_refused_access_token_is_refreshed_and_the_call_replayed_once(ledger_connection):
    credential = credential_of(ledger_connection)
    app = sandbox_app_of(credential)
    count = refresh_count(app)
    _access_token_revoke_at_ledger(credential)
    provider = get_provider(ledger_connection.provider)
    used: list[str] = []

    def tenant_read(attempt):
        used.append(attempt.tokens.access_token)
        return provider.tenant_read(
            app=attempt.app, tokens=attempt.tokens, tenant_id=ledger_connection.tenant_id
        )

    tenant = ledger_call(connection=Connection.objects.get(pk=ledger_connection.pk), operation=tenant_read)

    assert isinstance(tenant, TenantInfo)
    assert tenant.tenant_id == ledger_connection.tenant_id
    after = credential_of(ledger_connection)
    assert used == [credential.tokens["access_token"], after.tokens["access_token"]]
    assert after.tokens["access_token"] != credential.tokens["access_token"]
    assert after.version == credential.version + 1
    assert refresh_count(app) == count + 1
    assert Connection.objects.get(pk=ledger_connection.pk).status == "active"


# --- Keeping consents fresh -----------------------------------------------------------------------------


def test_maintenance_refreshes_ageing_consents_of_live_connections_only(
    xero_connection, qbo_connection, xero_app, qbo_app
):
    xero_credential, qbo_credential = credential_of(xero_connection), credential_of(qbo_connection)
    assert services.credentials_due_for_refresh() == []  # both were just issued
    soon = timezone.now() + timedelta(days=10)
    Credential.objects.filter(pk__in=[xero_credential.pk, qbo_credential.pk]).update(refresh_expires_at=soon)
    # A disconnected connection that still points at its credential (e.g. the revoke failed half-way).
    Connection.objects.filter(pk=qbo_connection.pk).update(status="disconnected")
    Credential.objects.filter(pk=qbo_credential.pk).update(
        refresh_expires_at=timezone.now() + timedelta(days=44)
    )
    counts = refresh_count(xero_app), refresh_count(qbo_app)

    assert services.credentials_due_for_refresh() == [xero_credential.pk]

    summary = services.connections_maintain()

    assert summary == {"credentials": 1, "connections": 1, "states_purged": 0}
    refreshed = credential_of(xero_connection)
    assert refreshed.version == xero_credential.version + 1
    assert refreshed.tokens["refresh_token"] != xero_credential.tokens["refresh_token"]
    expected = timezone.now() + timedelta(days=60)
    assert refreshed.refresh_expires_at is not None
    assert abs((refreshed.refresh_expires_at - expected).total_seconds()) < 120
    assert refresh_count(xero_app) == counts[0] + 1
    # The health check that ran after it found a valid token: no second refresh.
    assert Connection.objects.get(pk=xero_connection.pk).health == "ok"
    untouched = Credential.objects.get(pk=qbo_credential.pk)
    assert (untouched.version, untouched.tokens) == (qbo_credential.version, qbo_credential.tokens)
    assert refresh_count(qbo_app) == counts[1]
    assert services.credentials_due_for_refresh() == []


@pytest.mark.django_db
def test_maintenance_schedule_exists_after_migrations():
    # Not transactional: a transactional test's flush removes rows that migrations created.
    schedule = Schedule.objects.get(func="integrations.tasks.connections_maintain")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 60, -1)


# --- Encryption at rest ---------------------------------------------------------------------------------


def _raw(sql: str) -> list[str]:
    with db_connection.cursor() as cursor:
        cursor.execute(sql)
        return [value for row in cursor.fetchall() for value in row]


RAW_QUERIES = (
    "SELECT tokens, client_secret FROM integrations_credential",
    "SELECT app_client_secret FROM integrations_connection",
    "SELECT code_verifier, app_client_secret FROM integrations_oauthstate",
)


def _raw_values() -> list[str]:
    return [value for sql in RAW_QUERIES for value in _raw(sql)]


def _plain_values() -> dict[str, object]:
    credential = Credential.objects.get()
    connection = Connection.objects.get()
    state = OAuthState.objects.get()
    return {
        "tokens": credential.tokens,
        "credential.client_secret": credential.client_secret,
        "connection.app_client_secret": connection.app_client_secret,
        "state.code_verifier": state.code_verifier,
        "state.app_client_secret": state.app_client_secret,
    }


@pytest.fixture
def custom_app_connection(connect, xero_app, xero_orgs, callback_url) -> Connection:
    """A connection made with a per-connection app, so every encrypted column holds a secret."""
    custom = SandboxApp.objects.create(provider="xero", name="Custom", redirect_uris=[callback_url])
    return connection_made(
        connect,
        "xero",
        xero_orgs[0].tenant_id,
        client_id=custom.client_id,
        client_secret=custom.client_secret,
    )


def test_secrets_are_encrypted_at_rest_and_survive_key_rotation(custom_app_connection, settings):
    plain = _plain_values()
    token_set = plain["tokens"]
    assert isinstance(token_set, dict)
    secrets_in_clear = [
        token_set["access_token"],
        token_set["refresh_token"],
        *(value for key, value in plain.items() if key != "tokens"),
    ]
    assert all(secrets_in_clear)
    assert len(secrets_in_clear) == 6
    raw = _raw_values()
    assert len(raw) == 5
    assert all(value.startswith("gAAAAA") for value in raw)  # Fernet tokens
    assert not [secret for secret in secrets_in_clear if any(secret in value for value in raw)]

    old_key, new_key = settings.LEDGERLINK_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.LEDGERLINK_ENCRYPTION_KEYS = [new_key, old_key]
    dry_run = io.StringIO()
    call_command("credentials_reencrypt", "--dry-run", stdout=dry_run)
    assert "5 values would be re-encrypted with the first key; 0 already were" in dry_run.getvalue()
    assert _raw_values() == raw
    output = io.StringIO()
    call_command("credentials_reencrypt", stdout=output, batch_size=1)

    text = output.getvalue()
    assert "integrations.Credential.tokens: 1 re-encrypted, 0 already current, 0 empty" in text
    assert "integrations.Connection.app_client_secret: 1 re-encrypted" in text
    assert "integrations.OAuthState.code_verifier: 1 re-encrypted" in text
    assert "5 values re-encrypted with the first key; 0 already were" in text
    rotated = _raw_values()
    assert all(value not in raw for value in rotated)

    # Idempotent: a second run finds everything current and writes nothing.
    again = io.StringIO()
    call_command("credentials_reencrypt", stdout=again)
    assert "0 values re-encrypted with the first key; 5 already were" in again.getvalue()
    assert _raw_values() == rotated

    settings.LEDGERLINK_ENCRYPTION_KEYS = [new_key]
    assert _plain_values() == plain
    assert services.connection_test(connection=Connection.objects.get()).ok

    settings.LEDGERLINK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionFailed):
        Credential.objects.get()
    credential_id = Credential.objects.values_list("pk", flat=True).get()
    with pytest.raises(
        CommandError, match=rf"integrations\.Credential #{credential_id} \(\w+\) cannot be decrypted"
    ):
        call_command("credentials_reencrypt", stdout=io.StringIO())
    assert _raw_values() == rotated  # the failed run wrote nothing


# --- No secret in the logs ------------------------------------------------------------------------------


@contextmanager
def console_output_to(stream: TextIO) -> Iterator[None]:
    """Point the JSON console handler(s) of settings.LOGGING at `stream` for a while."""
    console = {
        handler
        for name in ("", "django", "django-q")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, JsonFormatter)
    }
    assert console, "the JSON console handler of settings.LOGGING is not installed"
    # Not setStream(), which flushes the old stream: capsys closes its streams after each phase.
    previous = {handler: handler.stream for handler in console}
    for handler in console:
        handler.stream = stream
    try:
        yield
    finally:
        for handler, old in previous.items():
            handler.stream = old


@pytest.fixture
def all_records(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at DEBUG, also from the loggers that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    quiet = [logging.getLogger(name) for name in ("django", "django-q")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(caplog.handler)  # after the console handler, whose filter redacts in place
    try:
        yield caplog
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.removeHandler(caplog.handler)
            logger.setLevel(level)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_logs_never_contain_secrets(provider, request, connect, all_records, capsys):
    if provider == "xero":
        app = request.getfixturevalue("xero_app")
        tenant_id = request.getfixturevalue("xero_orgs")[0].tenant_id
    else:
        app = request.getfixturevalue("qbo_app")
        tenant_id = request.getfixturevalue("qbo_company").tenant_id
    with console_output_to(sys.stderr):  # capsys's, during the test
        connection = connection_made(connect, provider, tenant_id)
        assert services.connection_test(connection=connection).ok
        access_expire(credential_of(connection).pk)
        assert services.connection_test(connection=connection).ok
        verifier = OAuthState.objects.get().code_verifier
        services.connection_disconnect(connection=Connection.objects.get(pk=connection.pk))
        console = capsys.readouterr().err
    assert Connection.objects.get(pk=connection.pk).status == "disconnected"

    token_model, code_model = (XeroToken, XeroAuthCode) if provider == "xero" else (QboToken, QboAuthCode)
    secrets = {
        app.client_secret,
        *token_model.objects.values_list("token", flat=True),
        *code_model.objects.values_list("code", flat=True),
    }
    if verifier:
        secrets.add(verifier)
    # The client secret, the code, two access tokens, and one (QBO: not rotated yet) or two refresh tokens.
    assert len(secrets) >= 5

    records = all_records.records
    names = {record.name for record in records}
    assert "integrations.tokens" in names
    assert any(name.startswith("integrations.services.") for name in names)
    assert '"logger": "integrations.tokens"' in console
    logged = "\n".join(
        [all_records.text, console, *(f"{record.getMessage()} {vars(record)!r}" for record in records)]
    )
    leaked = sorted(secret[:6] + "..." for secret in secrets if secret in logged)
    assert leaked == []
