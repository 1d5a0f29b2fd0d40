"""Use cases of one connection once it exists: custom connections, settings, the health test,
disconnecting."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from integrations.calls import ledger_call
from integrations.choices import ConnectionHealthChoices, ConnectionStatusChoices, CredentialKindChoices
from integrations.errors import NeedsReauthorisation, ProviderError, ProviderUnavailable, WaitRequired
from integrations.models import Connection, Credential
from integrations.providers import get_provider
from integrations.providers.base import AppCredentials, TenantInfo
from integrations.services.oauth import connection_tenant_apply, connections_store


def connection_custom_create(
    *, provider_key: str, client_id: str, client_secret: str, user_id: int | None, display_name: str = ""
) -> Connection:
    """A connection from a custom connection's client id and secret (client-credentials grant)."""
    provider = get_provider(provider_key)
    if not provider.supports_client_credentials:
        raise InvalidInput(
            f"{provider.label} has no custom connections.", fields={"provider": ["No custom connections."]}
        )
    app = AppCredentials(client_id=client_id, client_secret=client_secret)
    try:
        tokens = provider.client_credentials_token(app=app)
        tenant = provider.client_credentials_tenant(app=app, tokens=tokens)
    except ProviderError as exc:
        raise InvalidInput(f"{exc.message} Nothing was connected.", code="custom_connection_failed") from None
    (connection,) = connections_store(
        provider=provider,
        app=app,
        tokens=tokens,
        tenants=[tenant],
        user_id=user_id,
        client_secret_override=client_secret,
        kind=CredentialKindChoices.CLIENT_CREDENTIALS,
    )
    if display_name:
        connection.display_name = display_name
        connection.save(update_fields=["display_name", "updated_at"])
    return connection


# --- Settings --------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _flatten_errors(errors: Any, prefix: str) -> dict[str, list[str]]:
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            flat.update(_flatten_errors(value, f"{prefix}.{key}" if key != "non_field_errors" else prefix))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(item, str) for item in errors):
        return {prefix: [str(item) for item in errors]}
    if isinstance(errors, list):
        flat = {}
        for item in errors:
            flat.update(_flatten_errors(item, prefix))
        return flat
    return {prefix: [str(errors)]}


def connection_update(
    *,
    connection: Connection,
    display_name: str | None = None,
    settings_patch: dict[str, Any] | None = None,
    app_client_id: str | None = None,
    app_client_secret: str | None = None,
) -> Connection:
    """Rename, merge settings (never replace), or override the app used for the next reconnect."""
    provider = get_provider(connection.provider)
    fields = ["updated_at"]
    if settings_patch is not None:
        if not isinstance(settings_patch, dict):
            raise InvalidInput(fields={"settings": ["Must be an object of settings to change."]})
        merged = _merge(_merge(provider.settings_defaults(), connection.settings or {}), settings_patch)
        serializer = provider.settings_serializer(data=merged)
        if not serializer.is_valid():
            raise InvalidInput("Invalid settings.", fields=_flatten_errors(serializer.errors, "settings"))
        connection.settings = serializer.validated_data
        fields.append("settings")
    if display_name is not None:
        if not display_name.strip():
            raise InvalidInput(fields={"display_name": ["May not be blank."]})
        connection.display_name = display_name.strip()
        fields.append("display_name")
    if app_client_id is not None or app_client_secret:
        client_id = connection.app_client_id if app_client_id is None else app_client_id
        secret = app_client_secret or (connection.app_client_secret if client_id else "")
        if client_id and not secret:
            raise InvalidInput(fields={"app_client_secret": ["Required with app_client_id."]})
        if secret and not client_id:
            raise InvalidInput(fields={"app_client_id": ["A client secret needs its client id."]})
        connection.app_client_id, connection.app_client_secret = client_id, secret
        fields += ["app_client_id", "app_client_secret"]
    connection.save(update_fields=fields)
    return connection


# --- Health ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    latency_ms: int
    checked_at: datetime
    error: str = ""


def connection_test(*, connection: Connection) -> HealthResult:
    """One cheap real call (the organisation/company record): ok or the error, and how long it took."""
    provider = get_provider(connection.provider)
    started = time.monotonic()
    error = ""
    tenant: TenantInfo | None = None
    try:
        # A person waits on the answer: one attempt, the failure told as it is.
        tenant = ledger_call(
            connection=connection,
            operation=lambda attempt: provider.tenant_read(
                app=attempt.app, tokens=attempt.tokens, tenant_id=connection.tenant_id
            ),
            retries=0,
        )
    except (ProviderError, NeedsReauthorisation, WaitRequired) as exc:
        error = exc.message
    latency_ms = round((time.monotonic() - started) * 1000)
    now = timezone.now()
    connection.refresh_from_db()
    connection.health = ConnectionHealthChoices.FAILING if error else ConnectionHealthChoices.OK
    connection.health_checked_at = now
    connection.health_latency_ms = latency_ms
    connection.health_error = error
    fields = ["health", "health_checked_at", "health_latency_ms", "health_error", "updated_at"]
    if tenant is not None:
        connection_tenant_apply(connection=connection, tenant=tenant)
        fields += [
            "display_name",
            "tenant_name",
            "short_code",
            "base_currency",
            "country",
            "remote_connection_id",
        ]
        if connection.status == ConnectionStatusChoices.PENDING:
            fields += connection.status_set(ConnectionStatusChoices.ACTIVE)
    connection.save(update_fields=fields)
    return HealthResult(ok=not error, latency_ms=latency_ms, checked_at=now, error=error)


# --- Disconnect and delete -------------------------------------------------------------------------------


def connection_revoke_at_ledger(*, connection: Connection) -> bool:
    """Remove this tenant's access at the ledger; revoke the consent itself once no other connection
    uses it. Returns whether the ledger was told. Raises ProviderError if the ledger cannot be reached."""
    if connection.credential_id is None:
        return False
    provider = get_provider(connection.provider)
    credential = Credential.objects.get(pk=connection.credential_id)
    if credential.kind == CredentialKindChoices.CLIENT_CREDENTIALS:
        return False  # a custom connection is ended in the ledger's developer portal, not over the API
    # Both calls may be repeated harmlessly (a removed connection answers 404, a revoked token is gone),
    # so they go through the boundary as reads would; once each, as the person disconnecting waits.
    try:
        if connection.remote_connection_id:
            ledger_call(
                connection=connection,
                operation=lambda attempt: provider.tenant_disconnect(
                    app=attempt.app,
                    tokens=attempt.tokens,
                    remote_connection_id=connection.remote_connection_id,
                ),
                retries=0,
            )
        still_used = (
            Connection.objects.filter(credential_id=credential.pk)
            .exclude(pk=connection.pk)
            .exclude(status__in=[ConnectionStatusChoices.DISCONNECTED, ConnectionStatusChoices.DELETING])
            .exists()
        )
        if not still_used and credential.kind == CredentialKindChoices.AUTHORIZATION_CODE:
            ledger_call(
                connection=connection,
                operation=lambda attempt: provider.token_revoke(app=attempt.app, tokens=attempt.tokens),
                token_margin=0,
                retries=0,
            )
    except NeedsReauthorisation:
        return False  # the ledger already refuses these tokens: nothing left to revoke
    except WaitRequired as exc:
        raise ProviderUnavailable(f"{exc.message} Try again in {exc.seconds:.0f} s.") from None
    return True


@transaction.atomic
def _credential_detach(connection: Connection, status: str, reason: str) -> None:
    credential_id = connection.credential_id
    connection.credential = None
    fields = connection.status_set(status, reason)
    connection.save(update_fields=[*fields, "credential", "updated_at"])
    if credential_id:
        Credential.objects.filter(pk=credential_id, connections__isnull=True).delete()


def connection_disconnect(*, connection: Connection) -> Connection:
    """Revoke Ledgerlink's access at the ledger and forget the tokens; the mirrored data stays."""
    if connection.status == ConnectionStatusChoices.DELETING:
        raise Conflict("This connection is being deleted.")
    if connection.status == ConnectionStatusChoices.DISCONNECTED:
        return connection
    custom = (
        connection.credential is not None
        and connection.credential.kind == CredentialKindChoices.CLIENT_CREDENTIALS
    )
    told = connection_revoke_at_ledger(connection=connection)
    if custom:
        reason = (
            "Disconnected by staff; Ledgerlink forgot the custom connection's credentials. The custom "
            "connection itself is ended in the ledger's developer portal."
        )
    elif told:
        reason = "Disconnected by staff; access was revoked at the ledger."
    else:
        reason = "Disconnected by staff; the ledger had already withdrawn access."
    _credential_detach(connection, ConnectionStatusChoices.DISCONNECTED, reason)
    return connection
