"""Grants and tokens of the emulated Xero identity server: issue, rotate (with grace), revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import SandboxApp, Tenant, XeroConnection, XeroGrant, XeroToken
from sandbox.models.xero import XeroTokenKindChoices

ACCESS_TOKEN_SECONDS_DEFAULT = 1800
REFRESH_IDLE_DAYS = 60
REFRESH_GRACE = timedelta(minutes=30)
ISSUER = "https://identity.xero.com"


def access_token_seconds() -> int:
    return int(getattr(settings, "SANDBOX_XERO_ACCESS_TOKEN_SECONDS", ACCESS_TOKEN_SECONDS_DEFAULT))


class InvalidGrant(Exception):
    """The code or refresh token is unknown, used, expired or revoked."""


@transaction.atomic(using="sandbox")
def grant_create(
    *,
    app: SandboxApp,
    scopes: str,
    tenants: Iterable[Tenant] = (),
    user_email: str = "sandbox.user@example.com",
    client_credentials: bool = False,
) -> XeroGrant:
    """A new consent: connections for each chosen tenant (kept, with their ids, on re-consent)."""
    grant = XeroGrant.objects.create(
        app=app, scopes=scopes, user_email=user_email, client_credentials=client_credentials
    )
    for tenant in tenants:
        connection = XeroConnection.objects.filter(app=app, tenant=tenant, user_email=user_email).first()
        if connection is None:
            XeroConnection.objects.create(
                app=app, tenant=tenant, user_email=user_email, grant=grant, auth_event_id=grant.auth_event_id
            )
        else:
            connection.grant = grant
            connection.auth_event_id = grant.auth_event_id
            connection.save(update_fields=["grant", "auth_event_id", "updated_at"])
    return grant


def _jwt(claims: dict[str, Any], key: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def _token_response(grant: XeroGrant, access: XeroToken, refresh: XeroToken | None, nonce: str = "") -> dict:
    response: dict[str, Any] = {
        "access_token": access.token,
        "expires_in": max(0, round((access.expires_at - timezone.now()).total_seconds())),
        "token_type": "Bearer",
        "scope": grant.scopes,
    }
    if refresh is not None:
        response["refresh_token"] = refresh.token
    if "openid" in grant.scope_list:
        now = int(timezone.now().timestamp())
        claims = {
            "iss": ISSUER,
            "aud": grant.app.client_id,
            "sub": hashlib.sha256(grant.user_email.encode()).hexdigest()[:32],
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "xero_userid": str(uuid.uuid5(uuid.NAMESPACE_URL, grant.user_email)),
            "global_session_id": grant.auth_event_id.hex,
            "email": grant.user_email,
        }
        if nonce:
            claims["nonce"] = nonce
        response["id_token"] = _jwt(claims, grant.app.client_secret)
    return response


def _new_pair(grant: XeroGrant) -> tuple[XeroToken, XeroToken | None]:
    now = timezone.now()
    access = XeroToken.objects.create(
        grant=grant,
        kind=XeroTokenKindChoices.ACCESS,
        expires_at=now + timedelta(seconds=access_token_seconds()),
    )
    refresh = None
    if "offline_access" in grant.scope_list and not grant.client_credentials:
        refresh = XeroToken.objects.create(
            grant=grant, kind=XeroTokenKindChoices.REFRESH, expires_at=now + timedelta(days=REFRESH_IDLE_DAYS)
        )
    return access, refresh


@transaction.atomic(using="sandbox")
def tokens_issue(*, grant: XeroGrant, nonce: str = "") -> dict:
    """A fresh access token (and refresh token with offline_access) for a grant, as the token endpoint answers."""
    access, refresh = _new_pair(grant)
    return _token_response(grant, access, refresh, nonce)


@transaction.atomic(using="sandbox")
def tokens_refresh(*, app: SandboxApp, refresh_token: str) -> dict:
    """Rotate a refresh token. Within the grace period after its first use, the same token answers again
    with the pair that first use produced, so a client that lost the response is not locked out."""
    now = timezone.now()
    token = (
        XeroToken.objects.select_for_update()
        .select_related("grant__app")
        .filter(token=refresh_token, kind=XeroTokenKindChoices.REFRESH, grant__app=app)
        .first()
    )
    if token is None or token.revoked_at or token.grant.revoked_at or token.expires_at <= now:
        raise InvalidGrant
    if token.rotated_at is not None:
        if now - token.rotated_at > REFRESH_GRACE or token.successor_access is None:
            raise InvalidGrant
        successor_refresh = token.successor_refresh
        if successor_refresh is None or successor_refresh.revoked_at:
            raise InvalidGrant
        return _token_response(token.grant, token.successor_access, successor_refresh)
    access, refresh = _new_pair(token.grant)
    token.rotated_at = token.last_used_at = now
    token.successor_access, token.successor_refresh = access, refresh
    token.save(update_fields=["rotated_at", "last_used_at", "successor_access", "successor_refresh"])
    return _token_response(token.grant, access, refresh)


@transaction.atomic(using="sandbox")
def grant_revoke(*, grant: XeroGrant) -> None:
    """Revoking a refresh token ends the grant: its tokens stop working and its connections go."""
    now = timezone.now()
    grant.revoked_at = now
    grant.save(update_fields=["revoked_at"])
    grant.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    grant.connections.all().delete()
