"""The token service: the one way any code gets a usable access token for a connection.

Refresh is single-flight per credential across processes: the refresher locks the credential row
(`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the IMMEDIATE transaction holds the database's write
lock), re-checks whether someone else already refreshed while it waited, refreshes, and stores the rotated
refresh token in the same transaction before anyone uses it. If the ledger's answer is lost, the
transaction rolls back and the old refresh token is still stored; Xero answers it again with the same new
pair within its 30-minute grace. `invalid_grant` re-reads the row once (someone outside the lock may have
rotated it) before the connection is marked as needing re-authorisation."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.choices import ConnectionStatusChoices, CredentialKindChoices
from integrations.errors import InvalidGrant, NeedsReauthorisation, ProviderError
from integrations.models import Connection, Credential
from integrations.providers import get_provider
from integrations.providers.base import AppCredentials, TokenSet

logger = logging.getLogger(__name__)

# Connections in these states have no usable authorisation.
UNUSABLE_STATUSES = (ConnectionStatusChoices.NEEDS_REAUTH, ConnectionStatusChoices.DISCONNECTED)


def _aware(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=UTC)


def credential_app(credential: Credential) -> AppCredentials:
    return get_provider(credential.provider).app_credentials(
        client_id=credential.client_id, client_secret=credential.client_secret
    )


def credential_tokens_store(credential: Credential, tokens: TokenSet) -> list[str]:
    """Put a new token set on the credential; returns the fields to save."""
    credential.tokens = tokens.to_json()
    credential.access_expires_at = _aware(tokens.access_expires_at)
    credential.refresh_expires_at = _aware(tokens.refresh_expires_at)
    credential.last_error = ""
    return ["tokens", "access_expires_at", "refresh_expires_at", "last_error", "updated_at"]


def _usable(credential: Credential, tokens: TokenSet, margin: float, stale_version: int | None) -> bool:
    if stale_version is not None and credential.version <= stale_version:
        return False
    return tokens.access_valid_for(margin)


def token_get(
    *, credential_id: int, min_valid_seconds: float | None = None, stale_version: int | None = None
) -> tuple[TokenSet, int]:
    """A token set whose access token is valid for at least the provider's margin, and its version.

    `stale_version`: the caller's access token (of that version) was refused; refresh unless someone
    already has. `min_valid_seconds=inf` forces a refresh (the keep-fresh task)."""
    return credential_token_get(
        credential=Credential.objects.get(pk=credential_id),
        min_valid_seconds=min_valid_seconds,
        stale_version=stale_version,
    )


def credential_token_get(
    *, credential: Credential, min_valid_seconds: float | None = None, stale_version: int | None = None
) -> tuple[TokenSet, int]:
    """`token_get` for a credential row already read (it is re-read under the lock before any refresh)."""
    credential_id = credential.pk
    provider = get_provider(credential.provider)
    margin = provider.refresh_margin_seconds if min_valid_seconds is None else min_valid_seconds
    tokens = TokenSet.from_json(credential.tokens)
    if _usable(credential, tokens, margin, stale_version):
        return tokens, credential.version
    return _refresh_single_flight(credential_id=credential_id, margin=margin, stale_version=stale_version)


def _refresh_single_flight(
    *, credential_id: int, margin: float, stale_version: int | None
) -> tuple[TokenSet, int]:
    used_refresh_token = None
    for _attempt in range(2):
        try:
            with transaction.atomic():
                credential = Credential.objects.select_for_update().get(pk=credential_id)
                tokens = TokenSet.from_json(credential.tokens)
                if _usable(credential, tokens, margin, stale_version):
                    return tokens, credential.version  # another worker refreshed while we waited
                provider = get_provider(credential.provider)
                app = credential_app(credential)
                used_refresh_token = tokens.refresh_token
                if credential.kind == CredentialKindChoices.CLIENT_CREDENTIALS:
                    new = provider.client_credentials_token(app=app)
                else:
                    if not tokens.refresh_token:
                        raise InvalidGrant("No refresh token is stored for this connection.")
                    new = provider.token_refresh(app=app, tokens=tokens)
                fields = credential_tokens_store(credential, new)
                credential.version += 1
                credential.refresh_count += 1
                credential.refreshed_at = timezone.now()
                credential.save(update_fields=[*fields, "version", "refresh_count", "refreshed_at"])
                logger.info(
                    "Access token refreshed",
                    extra={
                        "credential": credential_id,
                        "provider": credential.provider,
                        "version": credential.version,
                    },
                )
                return new, credential.version
        except InvalidGrant as exc:
            # Someone outside our lock (an older process, a reconnect) may have rotated it: look once more.
            current = Credential.objects.filter(pk=credential_id).first()
            if current is not None and TokenSet.from_json(current.tokens).refresh_token != used_refresh_token:
                continue
            credential_needs_reauth(credential_id=credential_id, reason=exc.message)
            raise NeedsReauthorisation(
                f"{exc.message} Connect the organisation again to restore access.", details=exc.details
            ) from None
        except ProviderError as exc:
            Credential.objects.filter(pk=credential_id).update(last_error=exc.message[:2000])
            raise
    credential_needs_reauth(credential_id=credential_id, reason="The refresh token kept changing under us.")
    raise NeedsReauthorisation(
        "The stored authorisation could not be refreshed. Connect the organisation again."
    )


def credential_needs_reauth(*, credential_id: int, reason: str) -> None:
    """Mark every connection using this credential as needing re-authorisation, with the reason shown to staff."""
    now = timezone.now()
    Credential.objects.filter(pk=credential_id).update(last_error=reason[:2000])
    Connection.objects.filter(credential_id=credential_id).exclude(
        status__in=[ConnectionStatusChoices.DISCONNECTED, ConnectionStatusChoices.DELETING]
    ).filter(~Q(status=ConnectionStatusChoices.NEEDS_REAUTH) | ~Q(status_reason=reason)).update(
        status=ConnectionStatusChoices.NEEDS_REAUTH, status_reason=reason, status_changed_at=now
    )
    logger.warning("Connection needs re-authorisation", extra={"credential": credential_id, "reason": reason})
