"""Connections to the ledgers and what they need to stay connected: credentials, OAuth states, deletions."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import TimeStampedModel
from integrations.choices import (
    ConnectionDeletionStatusChoices,
    ConnectionHealthChoices,
    ConnectionStatusChoices,
    CredentialKindChoices,
)
from integrations.crypto import EncryptedJSONField, EncryptedTextField
from integrations.providers import provider_choices


class Credential(TimeStampedModel):
    """One authorisation at a ledger: the token set a consent (or a custom connection's client
    credentials) produced. Several connections share one credential when a single Xero consent covers
    several organisations: its refresh token rotates for all of them, so it must live in one row.

    `tokens` (access, refresh and id tokens, their expiries, scopes) is encrypted; the plain expiry columns
    exist so the scheduler and the admin can see when to act without decrypting anything."""

    provider = models.CharField(max_length=32, choices=provider_choices())
    kind = models.CharField(
        max_length=32, choices=CredentialKindChoices.choices, default=CredentialKindChoices.AUTHORIZATION_CODE
    )
    # The app the tokens were issued to; empty means "the app configured in the environment".
    client_id = models.CharField(max_length=255, blank=True)
    client_secret = EncryptedTextField(blank=True, default="")
    tokens = EncryptedJSONField(blank=True, default=dict)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Incremented on every refresh: a worker that saw version n and got a 401 knows whether someone
    # already refreshed (version moved) or it must refresh itself.
    version = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["provider", "refresh_expires_at"], name="credential_provider_refresh")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} credential #{self.pk}"

    @property
    def has_refresh_token(self) -> bool:
        return bool(self.tokens.get("refresh_token"))


class Connection(TimeStampedModel):
    """One ledger tenant (a Xero organisation, a QBO company) that Ledgerlink mirrors.

    Survives reconnects (same id, same data, new credential); `settings` is validated against the
    provider's schema and only ever merged into."""

    provider = models.CharField(max_length=32, choices=provider_choices())
    display_name = models.CharField(max_length=255)
    tenant_id = models.CharField(max_length=64, help_text="Xero organisation id or QBO realm id.")
    tenant_name = models.CharField(max_length=255, blank=True)
    # The ledger's own connection record where it has one (Xero's /connections id), for disconnecting.
    remote_connection_id = models.CharField(max_length=64, blank=True)
    short_code = models.CharField(
        max_length=32, blank=True, help_text="For deep links into the ledger's web UI."
    )
    base_currency = models.CharField(max_length=3, blank=True)
    country = models.CharField(max_length=2, blank=True)

    status = models.CharField(
        max_length=20, choices=ConnectionStatusChoices.choices, default=ConnectionStatusChoices.PENDING
    )
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    health = models.CharField(
        max_length=10, choices=ConnectionHealthChoices.choices, default=ConnectionHealthChoices.UNKNOWN
    )
    health_checked_at = models.DateTimeField(null=True, blank=True)
    health_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    health_error = models.TextField(blank=True)

    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="connections"
    )
    # Per-connection app override; empty means the app configured in the environment.
    app_client_id = models.CharField(max_length=255, blank=True)
    app_client_secret = EncryptedTextField(blank=True, default="")

    settings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("display_name", "pk")
        constraints = [
            models.UniqueConstraint(fields=["provider", "tenant_id"], name="connection_unique_tenant"),
        ]
        indexes = [
            models.Index(fields=["status"], name="connection_status"),
            models.Index(fields=["health"], name="connection_health"),
            models.Index(fields=["provider", "status"], name="connection_provider_status"),
            models.Index(fields=["display_name"], name="connection_display_name"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_provider_display()})"

    def status_set(self, status: str, reason: str = "") -> list[str]:
        """Change status and say why; returns the fields to save."""
        if status != self.status:
            self.status_changed_at = timezone.now()
        self.status = status
        self.status_reason = reason
        return ["status", "status_reason", "status_changed_at"]


class OAuthState(models.Model):
    """One started authorisation: the `state` sent to the ledger (only its hash is kept), bound to the
    staff user who started it, single-use and short-lived. Holds the PKCE verifier until the callback."""

    state_hash = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=32, choices=provider_choices())
    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reconnect = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    redirect_uri = models.CharField(max_length=500)
    code_verifier = EncryptedTextField(blank=True, default="")
    app_client_id = models.CharField(max_length=255, blank=True)
    app_client_secret = EncryptedTextField(blank=True, default="")
    return_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="oauthstate_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"OAuth state for {self.provider} by {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ConnectionDeletion(models.Model):
    """The record of deleting a connection and everything mirrored from it, run in the background.

    Outlives the connection (no foreign key), so staff can see what was deleted, when, by whom."""

    connection_id = models.BigIntegerField(db_index=True)
    connection_name = models.CharField(max_length=255)
    provider = models.CharField(max_length=32, choices=provider_choices())
    tenant_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=12,
        choices=ConnectionDeletionStatusChoices.choices,
        default=ConnectionDeletionStatusChoices.QUEUED,
    )
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_deleted = models.PositiveBigIntegerField(default=0)
    progress: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(default=dict, blank=True)
    revoked = models.BooleanField(default=False, help_text="Whether the ledger access was revoked too.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-requested_at", "-pk")

    def __str__(self) -> str:
        return f"Deletion of {self.connection_name} ({self.status})"

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.status == ConnectionDeletionStatusChoices.SUCCEEDED else None
        return min(100, int(self.rows_deleted * 100 / self.rows_total))
