"""Connect and reconnect through OAuth: start an authorisation, complete its callback, and store the
connections a consent covers (also used by custom connections, which skip the browser)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, PermissionDenied
from core.queue import task_enqueue_on_commit
from integrations.choices import ConnectionStatusChoices, CredentialKindChoices
from integrations.errors import ProviderError
from integrations.models import Connection, Credential, OAuthState
from integrations.providers import get_provider
from integrations.providers.base import AppCredentials, CallbackParams, Provider, TenantInfo, TokenSet
from integrations.tokens import credential_app, credential_tokens_store

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=15)


class OAuthFailed(InvalidInput):
    """The authorisation could not be completed; nothing was created or changed."""

    default_code = "oauth_failed"
    default_message = "The connection could not be completed."


@dataclass(frozen=True)
class AuthorizeStart:
    authorize_url: str
    expires_at: datetime
    provider: str
    # Set as a cookie in the browser that goes to the ledger (`browser_cookie_name`): the callback is
    # accepted only from that browser.
    browser_nonce: str = ""
    state_hash: str = ""


def browser_cookie_name(*, state_hash: str = "", state: str = "") -> str:
    """The cookie of one started authorisation (by its state or the state's hash): one each, so two
    started side by side don't overwrite each other."""
    return f"ledgerlink_oauth_{(state_hash or _state_hash(state))[:16]}"


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
    browser_nonce = secrets.token_urlsafe(32)
    verifier, challenge = _pkce_pair() if provider.uses_pkce() else ("", "")
    now = timezone.now()
    oauth_state = OAuthState.objects.create(
        state_hash=_state_hash(state),
        browser_hash=_state_hash(browser_nonce),
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
    return AuthorizeStart(
        authorize_url=url,
        expires_at=oauth_state.expires_at,
        provider=provider.key,
        browser_nonce=browser_nonce,
        state_hash=oauth_state.state_hash,
    )


@dataclass
class CallbackResult:
    connections: list[Connection] = field(default_factory=list)
    return_url: str = ""


def _state_claim(state: str, user_id: int | None, browser_nonce: str = "") -> OAuthState:
    """Use up the state exactly once, or explain why it cannot be used. A callback from another browser
    or another signed-in user is refused without using the state up: it stays for its own browser."""
    if not state:
        raise OAuthFailed(
            "The ledger sent the browser back without a state: the request was not ours.",
            code="state_missing",
        )
    state_hash = _state_hash(state)
    now = timezone.now()
    oauth_state = OAuthState.objects.filter(state_hash=state_hash).select_related("reconnect").first()
    if oauth_state is None:
        raise OAuthFailed(
            "This authorisation was not started by Ledgerlink (unknown state). Start it again.",
            code="state_invalid",
        )
    if oauth_state.used_at is not None:
        raise OAuthFailed(
            "This authorisation response was already used (a replayed link). Start it again.",
            code="state_used",
        )
    if oauth_state.expires_at <= now:
        raise OAuthFailed(
            "This authorisation took too long and expired. Start it again.", code="state_expired"
        )
    if oauth_state.browser_hash and not hmac.compare_digest(
        oauth_state.browser_hash, _state_hash(browser_nonce) if browser_nonce else ""
    ):
        _state_outcome(
            oauth_state, "refused once: the callback came from a browser other than the one that started it."
        )
        raise OAuthFailed(
            "This authorisation was started in another browser: finish it in the browser that started it, "
            "or start it again here.",
            code="state_browser",
        )
    if user_id is not None and user_id != oauth_state.user_id:
        message = "This authorisation was started by another user."
        _state_outcome(oauth_state, f"refused: the callback came with another signed-in user (id {user_id}).")
        raise OAuthFailed(message, code="state_user")
    claimed = OAuthState.objects.filter(pk=oauth_state.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not claimed:  # another callback with the same state won the race
        raise OAuthFailed(
            "This authorisation response was already used (a replayed link). Start it again.",
            code="state_used",
        )
    oauth_state.used_at = now
    return oauth_state


def _state_outcome(oauth_state: OAuthState, outcome: str) -> None:
    OAuthState.objects.filter(pk=oauth_state.pk).update(outcome=outcome[:2000])


def oauth_callback_complete(
    *, params: CallbackParams, user_id: int | None = None, browser_nonce: str = ""
) -> CallbackResult:
    """Finish an authorisation: check the state, exchange the code, find the tenants it covers, and create
    or refresh one connection per tenant. Any failure leaves nothing created or changed."""
    oauth_state = _state_claim(params.state, user_id, browser_nonce)
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
        connections = connections_store(
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
def connections_store(
    *,
    provider: Provider,
    app: AppCredentials,
    tokens: TokenSet,
    tenants: list[TenantInfo],
    user_id: int | None,
    client_secret_override: str,
    kind: str,
) -> list[Connection]:
    """Create or refresh one connection per tenant on a new credential holding `tokens`, in one
    transaction; a credential no connection uses any more is deleted (and revoked where consents are per
    tenant, once this commits)."""
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
        connection_tenant_apply(connection=connection, tenant=tenant)
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


def connection_tenant_apply(*, connection: Connection, tenant: TenantInfo) -> None:
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
