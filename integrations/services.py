"""Use cases of connections: connect and reconnect through OAuth, custom connections, settings, health
checks, disconnect and delete. Views, admin actions and tasks call these and nothing below them."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from core.errors import Conflict, InvalidInput, PermissionDenied
from core.queue import task_enqueue_on_commit
from integrations.choices import (
    ConnectionDeletionStatusChoices,
    ConnectionHealthChoices,
    ConnectionStatusChoices,
    CredentialKindChoices,
)
from integrations.errors import NeedsReauthorisation, ProviderError
from integrations.models import Connection, ConnectionDeletion, Credential, OAuthState
from integrations.providers import get_provider
from integrations.providers.base import AppCredentials, CallbackParams, Provider, TenantInfo, TokenSet
from integrations.tokens import connection_call, credential_app, credential_tokens_store, token_get

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=15)
DELETE_BATCH_SIZE = 1000
# Refresh a consent this long before its refresh token would die of disuse.
KEEP_FRESH_AHEAD = timedelta(days=45)
# Check the health of an active connection at least this often.
HEALTH_CHECK_EVERY = timedelta(hours=6)


class OAuthFailed(InvalidInput):
    """The authorisation could not be completed; nothing was created or changed."""

    default_code = "oauth_failed"
    default_message = "The connection could not be completed."


# --- Connect and reconnect ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeStart:
    authorize_url: str
    expires_at: datetime
    provider: str


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _app_checked(provider: Provider, app: AppCredentials) -> AppCredentials:
    if not app.client_id or not app.client_secret:
        raise InvalidInput(
            f"No {provider.label} app is configured: set {provider.settings_prefix}_CLIENT_ID and "
            f"{provider.settings_prefix}_CLIENT_SECRET, or pass client_id and client_secret.",
            fields={"client_id": ["Required: no app is configured in the environment."]},
        )
    return app


def oauth_authorize_start(
    *,
    provider_key: str,
    user_id: int | None,
    redirect_uri: str,
    reconnect: Connection | None = None,
    client_id: str = "",
    client_secret: str = "",
    return_url: str = "",
) -> AuthorizeStart:
    """The ledger's authorize URL for a new connection or a reconnect, with a single-use, expiring state
    bound to `user` (and a PKCE challenge where the ledger supports it)."""
    if user_id is None:
        raise PermissionDenied("Only a signed-in staff user can start an authorisation.")
    provider = get_provider(reconnect.provider if reconnect else provider_key)
    if reconnect is not None:
        if reconnect.status == ConnectionStatusChoices.DELETING:
            raise Conflict("This connection is being deleted.")
        client_id = client_id or reconnect.app_client_id
        client_secret = client_secret or reconnect.app_client_secret
    if client_id and not client_secret:
        raise InvalidInput(fields={"client_secret": ["Required when client_id is given."]})
    app = _app_checked(provider, provider.app_credentials(client_id=client_id, client_secret=client_secret))
    app = AppCredentials(app.client_id, app.client_secret, redirect_uri)
    state = secrets.token_urlsafe(32)
    verifier, challenge = _pkce_pair() if provider.uses_pkce() else ("", "")
    now = timezone.now()
    oauth_state = OAuthState.objects.create(
        state_hash=_state_hash(state),
        provider=provider.key,
        user_id=user_id,
        reconnect=reconnect,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
        app_client_id=client_id,
        app_client_secret=client_secret if client_id else "",
        return_url=return_url,
        created_at=now,
        expires_at=now + STATE_LIFETIME,
    )
    url = provider.authorize_url(app=app, state=state, code_challenge=challenge)
    logger.info(
        "Authorisation started", extra={"provider": provider.key, "reconnect": reconnect and reconnect.pk}
    )
    return AuthorizeStart(authorize_url=url, expires_at=oauth_state.expires_at, provider=provider.key)


@dataclass
class CallbackResult:
    connections: list[Connection] = field(default_factory=list)
    return_url: str = ""


def _state_claim(state: str, user_id: int | None) -> OAuthState:
    """Use up the state exactly once, or explain why it cannot be used."""
    if not state:
        raise OAuthFailed(
            "The ledger sent the browser back without a state: the request was not ours.",
            code="state_missing",
        )
    state_hash = _state_hash(state)
    now = timezone.now()
    claimed = OAuthState.objects.filter(
        state_hash=state_hash, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    oauth_state = OAuthState.objects.filter(state_hash=state_hash).select_related("reconnect").first()
    if oauth_state is None:
        raise OAuthFailed(
            "This authorisation was not started by Ledgerlink (unknown state). Start it again.",
            code="state_invalid",
        )
    if not claimed:
        if oauth_state.used_at is not None and oauth_state.used_at < now:
            raise OAuthFailed(
                "This authorisation response was already used (a replayed link). Start it again.",
                code="state_used",
            )
        raise OAuthFailed(
            "This authorisation took too long and expired. Start it again.", code="state_expired"
        )
    if user_id is not None and user_id != oauth_state.user_id:
        message = "This authorisation was started by another user."
        _state_outcome(oauth_state, f"refused: the callback came with another signed-in user (id {user_id}).")
        raise OAuthFailed(message, code="state_user")
    return oauth_state


def _state_outcome(oauth_state: OAuthState, outcome: str) -> None:
    OAuthState.objects.filter(pk=oauth_state.pk).update(outcome=outcome[:2000])


def oauth_callback_complete(*, params: CallbackParams, user_id: int | None = None) -> CallbackResult:
    """Finish an authorisation: check the state, exchange the code, find the tenants it covers, and create
    or refresh one connection per tenant. Any failure leaves nothing created or changed."""
    oauth_state = _state_claim(params.state, user_id)
    provider = get_provider(oauth_state.provider)
    try:
        if params.error:
            denied = params.error == "access_denied"
            raise OAuthFailed(
                f"{provider.label} did not authorise Ledgerlink"
                f"{' (consent was denied)' if denied else ''}: {params.error_description or params.error}. "
                "Nothing was connected.",
                code="consent_denied" if denied else "authorization_error",
            )
        if not params.code:
            raise OAuthFailed(f"{provider.label} sent no authorisation code.", code="code_missing")
        app = provider.app_credentials(
            client_id=oauth_state.app_client_id,
            client_secret=oauth_state.app_client_secret,
            redirect_uri=oauth_state.redirect_uri,
        )
        try:
            tokens = provider.code_exchange(app=app, params=params, code_verifier=oauth_state.code_verifier)
            tenants = provider.tenants_authorised(app=app, tokens=tokens, params=params)
        except ProviderError as exc:
            raise OAuthFailed(f"{exc.message} Nothing was connected.", code="exchange_failed") from None
        if not tenants:
            raise OAuthFailed(f"No organisation was authorised at {provider.label}.", code="no_tenant")
        reconnect = oauth_state.reconnect
        if reconnect is not None and reconnect.tenant_id not in {tenant.tenant_id for tenant in tenants}:
            raise OAuthFailed(
                f"To reconnect {reconnect.display_name}, choose that organisation at {provider.label}; "
                "the one chosen was a different one. Nothing was changed.",
                code="wrong_tenant",
            )
        connections = _connections_store(
            provider=provider,
            app=app,
            tokens=tokens,
            tenants=tenants,
            user_id=oauth_state.user_id,
            client_secret_override=oauth_state.app_client_secret,
            kind=CredentialKindChoices.AUTHORIZATION_CODE,
        )
    except OAuthFailed as exc:
        _state_outcome(oauth_state, exc.message)
        logger.warning("Authorisation failed", extra={"provider": provider.key, "reason": exc.code})
        raise
    _state_outcome(oauth_state, f"connected {', '.join(str(c.pk) for c in connections)}")
    return CallbackResult(connections=connections, return_url=oauth_state.return_url)


@transaction.atomic
def _connections_store(
    *,
    provider: Provider,
    app: AppCredentials,
    tokens: TokenSet,
    tenants: list[TenantInfo],
    user_id: int | None,
    client_secret_override: str,
    kind: str,
) -> list[Connection]:
    credential = Credential(
        provider=provider.key, kind=kind, client_id=app.client_id, client_secret=client_secret_override
    )
    credential_tokens_store(credential, tokens)
    credential.refreshed_at = timezone.now()
    credential.save()
    replaced: set[int] = set()
    connections = []
    for tenant in tenants:
        connection = (
            Connection.objects.select_for_update()
            .filter(provider=provider.key, tenant_id=tenant.tenant_id)
            .first()
        )
        if connection is None:
            connection = Connection(
                provider=provider.key,
                tenant_id=tenant.tenant_id,
                display_name=tenant.name or tenant.tenant_id,
                settings=provider.settings_defaults(),
                created_by_id=user_id,
            )
        elif connection.status == ConnectionStatusChoices.DELETING:
            raise OAuthFailed(
                f"{connection.display_name} is being deleted; wait until that finishes.", code="deleting"
            )
        if connection.credential_id and connection.credential_id != credential.pk:
            replaced.add(connection.credential_id)
        _tenant_apply(connection, tenant)
        connection.credential = credential
        if app.client_id != provider.app_credentials().client_id:
            connection.app_client_id = app.client_id
            connection.app_client_secret = client_secret_override or connection.app_client_secret
        connection.status_set(
            ConnectionStatusChoices.ACTIVE if tenant.complete else ConnectionStatusChoices.PENDING,
            "" if tenant.complete else "Authorised; the organisation's details could not be read yet.",
        )
        connection.save()
        if connection.status == ConnectionStatusChoices.ACTIVE and django_settings.SYNC_ON_CONNECT:
            # The first sync starts right away (the minute dispatcher would otherwise pick it up).
            task_enqueue_on_commit("integrations.tasks.connection_sync_first", connection.pk)
        connections.append(connection)
    # A credential nobody uses any more holds live secrets for nothing; where the ledger's consents are
    # per tenant, the replaced one is also revoked there once this transaction commits.
    orphans = Credential.objects.filter(pk__in=replaced, connections__isnull=True)
    if provider.revoke_replaced_consents:
        for orphan in orphans:
            revoke = functools.partial(
                _consent_revoke_quietly, provider, credential_app(orphan), TokenSet.from_json(orphan.tokens)
            )
            transaction.on_commit(revoke)
    orphans.delete()
    return connections


def _consent_revoke_quietly(provider: Provider, app: AppCredentials, tokens: TokenSet) -> None:
    try:
        provider.token_revoke(app=app, tokens=tokens)
    except ProviderError as exc:
        logger.warning("Replaced consent not revoked", extra={"provider": provider.key, "error": exc.message})


def _tenant_apply(connection: Connection, tenant: TenantInfo) -> None:
    """Take what the ledger says about the tenant; a value it did not send keeps what we had."""
    for attribute, value in (
        ("tenant_name", tenant.name),
        ("remote_connection_id", tenant.remote_connection_id),
        ("short_code", tenant.short_code),
        ("base_currency", tenant.base_currency),
        ("country", tenant.country),
    ):
        if value:
            setattr(connection, attribute, value)
    if tenant.name and connection.display_name == connection.tenant_id:
        # The id stood in for the name while the ledger had not told it; a name staff chose stays.
        connection.display_name = tenant.name


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
    (connection,) = _connections_store(
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
        tenant = connection_call(
            connection=connection,
            operation=lambda app, tokens: provider.tenant_read(
                app=app, tokens=tokens, tenant_id=connection.tenant_id
            ),
        )
    except (ProviderError, NeedsReauthorisation) as exc:
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
        _tenant_apply(connection, tenant)
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


def _revoke_at_ledger(connection: Connection) -> bool:
    """Remove this tenant's access at the ledger; revoke the consent itself once no other connection
    uses it. Returns whether the ledger was told. Raises ProviderError if the ledger cannot be reached."""
    if connection.credential_id is None:
        return False
    provider = get_provider(connection.provider)
    credential = Credential.objects.get(pk=connection.credential_id)
    if credential.kind == CredentialKindChoices.CLIENT_CREDENTIALS:
        return False  # a custom connection is ended in the ledger's developer portal, not over the API
    try:
        if connection.remote_connection_id:
            connection_call(
                connection=connection,
                operation=lambda app, tokens: provider.tenant_disconnect(
                    app=app, tokens=tokens, remote_connection_id=connection.remote_connection_id
                ),
            )
        still_used = (
            Connection.objects.filter(credential_id=credential.pk)
            .exclude(pk=connection.pk)
            .exclude(status__in=[ConnectionStatusChoices.DISCONNECTED, ConnectionStatusChoices.DELETING])
            .exists()
        )
        if not still_used and credential.kind == CredentialKindChoices.AUTHORIZATION_CODE:
            tokens, _ = token_get(credential_id=credential.pk, min_valid_seconds=0)
            provider.token_revoke(app=credential_app(credential), tokens=tokens)
    except NeedsReauthorisation:
        return False  # the ledger already refuses these tokens: nothing left to revoke
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
    told = _revoke_at_ledger(connection)
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


def connection_delete_request(*, connection: Connection, user_id: int | None) -> ConnectionDeletion:
    """Queue the deletion of a connection and all its data; returns the record that tracks it."""
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        running = ConnectionDeletion.objects.filter(
            connection_id=locked.pk,
            status__in=[ConnectionDeletionStatusChoices.QUEUED, ConnectionDeletionStatusChoices.RUNNING],
        ).first()
        if running is not None:
            raise Conflict("This connection is already being deleted.", details={"deletion_id": running.pk})
        locked.status_set(ConnectionStatusChoices.DELETING, "Deletion requested.")
        locked.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        deletion = ConnectionDeletion.objects.create(
            connection_id=locked.pk,
            connection_name=locked.display_name,
            provider=locked.provider,
            tenant_id=locked.tenant_id,
            requested_by_id=user_id,
        )
        # Inside the transaction: once it commits, the task may already have deleted the row.
        connection.refresh_from_db()
        task_enqueue_on_commit(
            "integrations.tasks.connection_delete", deletion.pk, task_name=f"connection-delete-{deletion.pk}"
        )
    return deletion


def _data_relations() -> list[tuple[type[models.Model], str]]:
    """Every model that belongs to a connection (mirrored records and the like), and its field."""
    return [
        (relation.related_model, relation.field.name)
        for relation in Connection._meta.related_objects
        if relation.one_to_many
        and isinstance(relation.related_model, type)
        and relation.related_model is not OAuthState
    ]


def connection_delete_run(*, deletion_id: int) -> ConnectionDeletion:
    """Delete a connection and everything mirrored from it, in batches, recording progress."""
    deletion = ConnectionDeletion.objects.get(pk=deletion_id)
    if deletion.status == ConnectionDeletionStatusChoices.SUCCEEDED:
        return deletion
    connection = Connection.objects.filter(pk=deletion.connection_id).first()
    deletion.status = ConnectionDeletionStatusChoices.RUNNING
    deletion.started_at = timezone.now()
    deletion.error = ""
    deletion.save(update_fields=["status", "started_at", "error"])
    if connection is None:
        return _deletion_finish(deletion, ConnectionDeletionStatusChoices.SUCCEEDED)
    try:
        try:
            deletion.revoked = _revoke_at_ledger(connection)
        except ProviderError as exc:
            # The data is deleted anyway; staff can revoke in the ledger's UI. Say so.
            deletion.error = f"Access could not be revoked at the ledger: {exc.message}"
        relations = _data_relations()
        totals = {
            model._meta.label: model._default_manager.filter(**{field_name: connection}).count()
            for model, field_name in relations
        }
        deletion.rows_total = sum(totals.values())
        deletion.progress = {
            label: {"total": total, "deleted": 0} for label, total in totals.items() if total
        }
        deletion.save(update_fields=["revoked", "error", "rows_total", "progress"])
        _delete_rows(deletion, connection, relations)
        with transaction.atomic():
            credential_id = connection.credential_id
            connection.delete()
            if credential_id:
                Credential.objects.filter(pk=credential_id, connections__isnull=True).delete()
    except Exception as exc:
        logger.exception("Connection deletion failed", extra={"deletion": deletion_id})
        return _deletion_finish(
            deletion, ConnectionDeletionStatusChoices.FAILED, f"{type(exc).__name__}: {exc}"
        )
    return _deletion_finish(deletion, ConnectionDeletionStatusChoices.SUCCEEDED)


def _delete_rows(
    deletion: ConnectionDeletion, connection: Connection, relations: list[tuple[type[models.Model], str]]
) -> None:
    pending = list(relations)
    while pending:
        progressed = False
        for model, field_name in list(pending):
            label = model._meta.label
            try:
                while True:
                    batch = list(
                        model._default_manager.filter(**{field_name: connection}).values_list(
                            "pk", flat=True
                        )[:DELETE_BATCH_SIZE]
                    )
                    if not batch:
                        break
                    with transaction.atomic():
                        model._default_manager.filter(pk__in=batch).delete()
                    progressed = True
                    deletion.rows_deleted += len(batch)
                    # Rows may have arrived since they were counted (a pull that was finishing).
                    deletion.progress.setdefault(label, {"total": 0, "deleted": 0})["deleted"] += len(batch)
                    deletion.save(update_fields=["rows_deleted", "progress"])
            except ProtectedError:
                continue  # something else still refers to these rows: delete that first
            pending.remove((model, field_name))
        if pending and not progressed:
            raise Conflict(f"Rows of {', '.join(m._meta.label for m, _ in pending)} are still referred to.")


def _deletion_finish(deletion: ConnectionDeletion, status: str, error: str = "") -> ConnectionDeletion:
    deletion.status = status
    deletion.finished_at = timezone.now()
    if error:
        deletion.error = error
    deletion.save(update_fields=["status", "finished_at", "error"])
    return deletion


# --- Keeping connections healthy ------------------------------------------------------------------------


def credentials_due_for_refresh() -> list[int]:
    """Consents whose refresh token would die of disuse within KEEP_FRESH_AHEAD."""
    horizon = timezone.now() + KEEP_FRESH_AHEAD
    return list(
        Credential.objects.filter(
            kind=CredentialKindChoices.AUTHORIZATION_CODE,
            refresh_expires_at__lt=horizon,
            connections__status__in=[ConnectionStatusChoices.ACTIVE, ConnectionStatusChoices.PENDING],
        )
        .distinct()
        .values_list("pk", flat=True)
    )


def credential_keep_fresh(*, credential_id: int) -> None:
    """Refresh now (whatever the access token's expiry), so the refresh token is renewed."""
    # A refused refresh is recorded on the connections, with the reason.
    with contextlib.suppress(NeedsReauthorisation):
        token_get(credential_id=credential_id, min_valid_seconds=float("inf"))


def connections_due_for_health_check() -> list[int]:
    stale = timezone.now() - HEALTH_CHECK_EVERY
    return list(
        Connection.objects.filter(
            status__in=[ConnectionStatusChoices.ACTIVE, ConnectionStatusChoices.PENDING]
        )
        .filter(models.Q(health_checked_at__isnull=True) | models.Q(health_checked_at__lt=stale))
        .values_list("pk", flat=True)
    )


def connections_maintain() -> dict[str, int]:
    """The scheduled round: renew ageing consents, check stale connections, forget expired OAuth states."""
    credential_ids = credentials_due_for_refresh()
    for credential_id in credential_ids:
        task_enqueue_on_commit("integrations.tasks.credential_keep_fresh", credential_id)
    connection_ids = connections_due_for_health_check()
    for connection_id in connection_ids:
        task_enqueue_on_commit("integrations.tasks.connection_health_check", connection_id)
    purged, _ = OAuthState.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
    return {"credentials": len(credential_ids), "connections": len(connection_ids), "states_purged": purged}
