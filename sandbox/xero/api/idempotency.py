"""Idempotency-Key: a retried write with the same key gets the first response back instead of a second
document; the same key with a different request is refused.

Keys belong to one app and one organisation and live for a few minutes (Xero keeps them ~6). Lookups and
the stored response share the write's transaction, so a key exists exactly when its work committed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from sandbox.models import SandboxApp, Tenant
from sandbox.models.xero_records import XeroIdempotencyKey

LIFETIME_SECONDS_DEFAULT = 360
MAX_KEY_LENGTH = 128


class KeyReused(Exception):
    """The key was used for a different request."""


class KeyInvalid(Exception):
    """The key is longer than Xero allows."""


def lifetime() -> timedelta:
    return timedelta(
        seconds=int(getattr(settings, "SANDBOX_XERO_IDEMPOTENCY_SECONDS", LIFETIME_SECONDS_DEFAULT))
    )


def key_of(request: HttpRequest) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise KeyInvalid(key)
    return key


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\n" + request.path.encode() + b"\n")
    digest.update("&".join(sorted(request.META.get("QUERY_STRING", "").split("&"))).encode())
    digest.update(b"\n" + request.body)
    return digest.hexdigest()


def recall(*, app: SandboxApp, tenant: Tenant, key: str, request_fingerprint: str) -> tuple[int, str] | None:
    """The stored (status, body) for this key, or None when the key is new (or has expired)."""
    stored = XeroIdempotencyKey.objects.filter(app=app, tenant=tenant, key=key).first()
    if stored is None:
        return None
    if stored.expires_at <= timezone.now():
        stored.delete()
        return None
    if stored.fingerprint != request_fingerprint:
        raise KeyReused(key)
    return stored.status_code, stored.response_body


def remember(
    *, app: SandboxApp, tenant: Tenant, key: str, request_fingerprint: str, status: int, body: str
) -> None:
    now = timezone.now()
    XeroIdempotencyKey.objects.filter(expires_at__lte=now).delete()
    XeroIdempotencyKey.objects.create(
        app=app,
        tenant=tenant,
        key=key,
        fingerprint=request_fingerprint,
        status_code=status,
        response_body=body,
        expires_at=now + lifetime(),
    )
