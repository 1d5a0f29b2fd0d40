"""Xero identity: authorization codes, grants with their rotating tokens, and tenant connections."""

from __future__ import annotations

import secrets
import uuid

from django.db import models


def _token() -> str:
    return secrets.token_urlsafe(48)


class XeroGrant(models.Model):
    """One consent (or one client-credentials exchange): a user's authorisation of an app for scopes.

    Its refresh tokens rotate; its connections say which organisations it reaches."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="xero_grants")
    user_email = models.CharField(max_length=200, default="sandbox.user@example.com")
    scopes = models.CharField(max_length=2000)
    auth_event_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    client_credentials = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"grant {self.auth_event_id} for {self.app.name}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class XeroAuthCode(models.Model):
    """An authorization code: single use, short-lived, bound to redirect URI and PKCE challenge."""

    code = models.CharField(max_length=100, unique=True, default=_token)
    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=500)
    scopes = models.CharField(max_length=2000)
    user_email = models.CharField(max_length=200)
    tenants = models.ManyToManyField("sandbox.Tenant", related_name="+")
    code_challenge = models.CharField(max_length=200, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    nonce = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The grant a redeemed code produced: a replayed code revokes it, as OAuth 2.0 recommends.
    grant = models.ForeignKey(XeroGrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"code for {self.app_id} ({'used' if self.used_at else 'unused'})"


class XeroTokenKindChoices(models.TextChoices):
    ACCESS = "access"
    REFRESH = "refresh"


class XeroToken(models.Model):
    """An access or refresh token of a grant. A used refresh token keeps working for a grace period
    (the client may have lost the response) and answers with the same successor."""

    grant = models.ForeignKey(XeroGrant, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=8, choices=XeroTokenKindChoices.choices)
    token = models.CharField(max_length=200, unique=True, default=_token)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Refresh tokens: when first exchanged, and the pair that exchange produced.
    rotated_at = models.DateTimeField(null=True, blank=True)
    successor_refresh = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    successor_access = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Refresh tokens: last use, for the 60-day inactivity expiry.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["grant", "kind"], name="sandbox_xtoken_grant_kind")]

    def __str__(self) -> str:
        # Never the token itself: this string shows up in the admin and in logs.
        return f"{self.kind} token of grant {self.grant_id}"


class XeroConnection(models.Model):
    """An organisation a grant's app is connected to (what GET /connections lists)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="xero_connections")
    tenant = models.ForeignKey("sandbox.Tenant", on_delete=models.CASCADE, related_name="xero_connections")
    # Re-consent by the same user moves the connection to the new grant, keeping its id.
    user_email = models.CharField(max_length=200)
    grant = models.ForeignKey(XeroGrant, on_delete=models.CASCADE, related_name="connections")
    auth_event_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "tenant", "user_email"], name="sandbox_xconn_unique"),
        ]

    def __str__(self) -> str:
        return f"connection {self.id} to tenant {self.tenant_id}"
