"""What both emulated ledgers share: the developer apps registered in the sandbox portal and the
tenants (Xero organisations, QBO companies) with their rate limits and injectable faults."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sandbox.choices import SandboxProviderChoices
from sandbox.models.limits import FaultKindChoices


def _client_id() -> str:
    return secrets.token_hex(16).upper()


def _client_secret() -> str:
    return secrets.token_urlsafe(36)


def _signing_key() -> str:
    return secrets.token_urlsafe(48)


class SandboxApp(models.Model):
    """A developer app, as registered in the ledger's developer portal: its OAuth client credentials,
    allowed redirect URIs and webhook subscription."""

    provider = models.CharField(max_length=8, choices=SandboxProviderChoices.choices)
    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=64, unique=True, default=_client_id)
    client_secret = models.CharField(max_length=128, default=_client_secret)
    redirect_uris = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    # Xero: the webhook signing key. QBO: the verifier token.
    webhook_key = models.CharField(max_length=128, default=_signing_key)
    # QBO only: "legacy" (eventNotifications) or "cloudevents".
    webhook_format = models.CharField(max_length=16, default="legacy", blank=True)
    # Xero custom connection: client_credentials grants act on this one tenant, no user consent.
    custom_connection_tenant = models.ForeignKey(
        "sandbox.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Calls per minute across all tenants (Xero's app-wide limit).
    limit_app_minute = models.PositiveIntegerField(default=10_000)
    # Sandbox seconds per real second for the app-wide minute and for webhook retry delays.
    time_scale = models.FloatField(default=1.0, validators=[MinValueValidator(0.001)])
    # Seconds between webhook delivery attempts; empty means the provider's own schedule.
    webhook_retry_delays = models.JSONField(default=list, blank=True)
    # The sequence number of the last webhook event batched for this app.
    webhook_sequence = models.PositiveBigIntegerField(default=0)
    # Refresh-token grants the token endpoint has answered (what a single-flight test counts).
    token_refresh_count = models.PositiveBigIntegerField(default=0)
    # The next N token-endpoint answers are lost: the grant is done, then the connection is dropped.
    fault_token_drop_next = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} app {self.name}"


# Intuit's limits: 10 calls in flight and 500 a minute per app and company, and no daily cap (the field
# defaults are Xero's: 5 in flight, 60 a minute, 5,000 a day).
QBO_LIMITS = {"limit_concurrent": 10, "limit_minute": 500, "limit_day": 1_000_000}


class Tenant(models.Model):
    """A Xero organisation or a QuickBooks company, with the limits and faults it is configured with."""

    provider = models.CharField(max_length=8, choices=SandboxProviderChoices.choices)
    # Xero: the organisation's tenantId (a GUID). QBO: the realm id (digits).
    tenant_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200)
    base_currency = models.CharField(max_length=3, default="GBP")
    country = models.CharField(max_length=2, default="GB")
    short_code = models.CharField(max_length=20, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    tenant_type = models.CharField(max_length=20, default="ORGANISATION")
    # Rate limits (per app and tenant).
    limit_concurrent = models.PositiveIntegerField(default=5)
    limit_minute = models.PositiveIntegerField(default=60)
    limit_day = models.PositiveIntegerField(default=5000)
    # How many sandbox seconds pass per real second: 60 makes a rate-limit "minute" last one second.
    time_scale = models.FloatField(default=1.0, validators=[MinValueValidator(0.001)])
    # Faults injected into API responses, so retry and idempotency paths can be exercised.
    fault_error_rate = models.FloatField(default=0.0, validators=[MinValueValidator(0), MaxValueValidator(1)])
    fault_error_status = models.PositiveSmallIntegerField(default=503)
    fault_latency_ms = models.PositiveIntegerField(default=0)
    fault_timeout_rate = models.FloatField(
        default=0.0, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    fault_drop_after_commit_rate = models.FloatField(
        default=0.0, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    # How long a timed-out call is held (real seconds) before its connection is closed unanswered.
    fault_timeout_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(0)])
    # Set: fault draws are a pure function of (seed, call number), so a scenario replays exactly.
    fault_seed = models.PositiveIntegerField(null=True, blank=True)
    # The next N calls fail this way, whatever the rates say (scripted scenarios, tests).
    fault_next_count = models.PositiveIntegerField(default=0)
    fault_next_kind = models.CharField(
        max_length=8, choices=FaultKindChoices.choices, default=FaultKindChoices.ERROR
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "tenant_id"], name="sandbox_tenant_unique_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new QBO company gets Intuit's limits unless the caller set its own; rows loaded from the
        # database arrive as positional values and keep theirs.
        if not args and self.provider == SandboxProviderChoices.QBO:
            for name, value in QBO_LIMITS.items():
                if name not in kwargs:
                    setattr(self, name, value)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.tenant_id:
            # Xero organisations are GUIDs; QBO realm ids are long digit strings.
            if self.provider == SandboxProviderChoices.QBO:
                self.tenant_id = str(secrets.randbelow(9 * 10**15) + 10**15)
            else:
                self.tenant_id = str(uuid.uuid4())
        super().save(*args, **kwargs)
