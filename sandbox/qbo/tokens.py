"""Grants and tokens of the emulated Intuit OAuth server: issue, roll, revoke."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import QboGrant, QboToken, SandboxApp, Tenant
from sandbox.models.qbo import QboTokenKindChoices

ACCESS_SECONDS_DEFAULT = 3600
REFRESH_DAYS = 100
REFRESH_ABSOLUTE_DAYS = 5 * 365
# Intuit hands out a new refresh token value about once a day; within that, refreshing returns the same one.
ROTATE_SECONDS_DEFAULT = 24 * 3600


class InvalidGrant(Exception):
    """The code or refresh token is unknown, used, expired, superseded or revoked."""


def _access_seconds() -> int:
    return int(getattr(settings, "SANDBOX_QBO_ACCESS_TOKEN_SECONDS", ACCESS_SECONDS_DEFAULT))


def _rotate_seconds() -> int:
    return int(getattr(settings, "SANDBOX_QBO_REFRESH_ROTATE_SECONDS", ROTATE_SECONDS_DEFAULT))


@transaction.atomic(using="sandbox")
def grant_create(*, app: SandboxApp, scopes: str, tenant: Tenant | None, user_email: str) -> QboGrant:
    return QboGrant.objects.create(
        app=app,
        tenant=tenant,
        scopes=scopes,
        user_email=user_email,
        refresh_absolute_expires_at=timezone.now() + timedelta(days=REFRESH_ABSOLUTE_DAYS),
    )


def _response(grant: QboGrant, access: QboToken, refresh: QboToken) -> dict:
    now = timezone.now()
    return {
        "token_type": "bearer",
        "expires_in": max(0, round((access.expires_at - now).total_seconds())),
        "refresh_token": refresh.token,
        "x_refresh_token_expires_in": max(0, round((refresh.expires_at - now).total_seconds())),
        "access_token": access.token,
    }


def _new_access(grant: QboGrant) -> QboToken:
    return QboToken.objects.create(
        grant=grant,
        kind=QboTokenKindChoices.ACCESS,
        expires_at=timezone.now() + timedelta(seconds=_access_seconds()),
    )


def _new_refresh(grant: QboGrant) -> QboToken:
    expires = min(timezone.now() + timedelta(days=REFRESH_DAYS), grant.refresh_absolute_expires_at)
    return QboToken.objects.create(grant=grant, kind=QboTokenKindChoices.REFRESH, expires_at=expires)


@transaction.atomic(using="sandbox")
def tokens_issue(*, grant: QboGrant) -> dict:
    return _response(grant, _new_access(grant), _new_refresh(grant))


@transaction.atomic(using="sandbox")
def tokens_refresh(*, app: SandboxApp, refresh_token: str) -> dict:
    """A new access token; the refresh token's 100 days roll, and its value changes once it is a day old."""
    now = timezone.now()
    token = (
        QboToken.objects.select_for_update()
        .select_related("grant")
        .filter(token=refresh_token, kind=QboTokenKindChoices.REFRESH, grant__app=app)
        .first()
    )
    if (
        token is None
        or token.revoked_at
        or token.superseded_at
        or token.grant.revoked_at
        or token.expires_at <= now
    ):
        raise InvalidGrant
    grant = token.grant
    if (now - token.created_at).total_seconds() >= _rotate_seconds():
        token.superseded_at = now
        token.save(update_fields=["superseded_at"])
        refresh = _new_refresh(grant)
    else:
        token.expires_at = min(now + timedelta(days=REFRESH_DAYS), grant.refresh_absolute_expires_at)
        token.save(update_fields=["expires_at"])
        refresh = token
    return _response(grant, _new_access(grant), refresh)


@transaction.atomic(using="sandbox")
def token_revoke(*, app: SandboxApp, token: str) -> bool:
    """Revoking either token of a grant ends the whole grant (the app is disconnected from the company)."""
    found = QboToken.objects.select_related("grant").filter(token=token, grant__app=app).first()
    if found is None:
        return False
    now = timezone.now()
    grant = found.grant
    grant.revoked_at = now
    grant.save(update_fields=["revoked_at"])
    grant.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    return True
