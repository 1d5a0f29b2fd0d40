"""QuickBooks Online identity (Intuit OAuth): authorization codes, grants to one company, tokens."""

from __future__ import annotations

import secrets

from django.db import models


def _token() -> str:
    return secrets.token_urlsafe(48)


def _code() -> str:
    # Intuit's codes look like AB11...; the shape does not matter to clients, only uniqueness.
    return "AB11" + secrets.token_urlsafe(36)


class QboGrant(models.Model):
    """A user's authorisation of an app for one company (realm). Its refresh token rolls."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="qbo_grants")
    tenant = models.ForeignKey(
        "sandbox.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="qbo_grants"
    )
    user_email = models.CharField(max_length=200, default="sandbox.user@example.com")
    scopes = models.CharField(max_length=2000)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Intuit's Nov 2025 policy: a refresh chain ends five years after consent, however often it is used.
    refresh_absolute_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"QBO grant {self.pk} for realm {self.tenant_id}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class QboAuthCode(models.Model):
    """A single-use authorization code bound to its redirect URI and the company the user chose."""

    code = models.CharField(max_length=100, unique=True, default=_code)
    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(
        "sandbox.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    redirect_uri = models.CharField(max_length=500)
    scopes = models.CharField(max_length=2000)
    user_email = models.CharField(max_length=200)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    grant = models.ForeignKey(QboGrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"QBO code for app {self.app_id} ({'used' if self.used_at else 'unused'})"


class QboTokenKindChoices(models.TextChoices):
    ACCESS = "access"
    REFRESH = "refresh"


class QboToken(models.Model):
    """An access or refresh token. A refresh token is replaced by a new value once it is old enough;
    the replaced one stops working (Intuit: only the latest refresh token may be used)."""

    grant = models.ForeignKey(QboGrant, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=8, choices=QboTokenKindChoices.choices)
    token = models.CharField(max_length=200, unique=True, default=_token)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["grant", "kind"], name="sandbox_qtoken_grant_kind")]

    def __str__(self) -> str:
        return f"{self.kind} token of QBO grant {self.grant_id}"
