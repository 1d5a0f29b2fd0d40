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
    SyncErrorKindChoices,
    SyncModeChoices,
    SyncRunStatusChoices,
    SyncStateChoices,
    SyncTriggerChoices,
)
from integrations.crypto import EncryptedJSONField, EncryptedTextField
from integrations.providers import provider_choices


class Credential(TimeStampedModel):
    """One authorisation at a ledger: the token set a consent (or a custom connection's client
    credentials) produced. Several connections share one credential when a single Xero consent covers
    several organisations: its refresh token rotates for all of them, so it must live in one row.

    `tokens` (access, refresh and id tokens, their expiries, scopes) is encrypted; the plain expiry columns
    exist so the scheduler and the admin can see when to act without decrypting anything."""

    # Choices as a callable (here and below): the migrations keep a reference to the registry, not the
    # ledgers it held, so adding a ledger writes no migration; keys are still offered and validated.
    provider = models.CharField(max_length=32, choices=provider_choices)
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

    provider = models.CharField(max_length=32, choices=provider_choices)
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
        # The actions that reach the ledger on the business's behalf, beyond editing the record.
        permissions = [
            ("connect_connection", "Can connect ledgers (authorise, reconnect, custom connections)"),
            ("disconnect_connection", "Can disconnect ledgers (revoke Ledgerlink's access)"),
            ("refresh_connection", "Can test connections and queue pulls from the ledgers"),
        ]
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
    # The hash of the nonce set as a cookie in the browser that started it (empty for states made before).
    browser_hash = models.CharField(max_length=64, blank=True, default="")
    provider = models.CharField(max_length=32, choices=provider_choices)
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
    provider = models.CharField(max_length=32, choices=provider_choices)
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


class SyncState(models.Model):
    """Where one entity family of one connection stands: its state, the cursor of its last complete pass,
    when it last succeeded and when it runs next. The row is also the claim that makes pulls of one
    (connection, family) run one at a time: `running_run` is set while a run holds it, and a claim whose
    run stopped beating (`SyncRun.heartbeat_at`) is taken over."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_states")
    entity = models.CharField(max_length=40)
    state = models.CharField(max_length=20, choices=SyncStateChoices.choices, default=SyncStateChoices.NEVER)
    state_reason = models.TextField(blank=True)
    cursor = models.DateTimeField(
        null=True, blank=True, help_text="Highest ledger update time of the last complete pass."
    )
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A complete resync requested for the next run (set by staff, or when the cursor is too old to use).
    full_requested = models.BooleanField(default=False)
    running_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    records = models.PositiveBigIntegerField(default=0, help_text="Mirrored records after the last run.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "entity"], name="syncstate_unique_entity"),
        ]
        indexes = [models.Index(fields=["state"], name="syncstate_state")]
        ordering = ("connection", "entity")

    def __str__(self) -> str:
        return f"{self.connection_id}/{self.entity}: {self.state}"


class SyncRun(models.Model):
    """One pull of one entity family of one connection, whatever started it and however it ended.

    Written by the runner in `accounting.pull`: counts and progress after every page, the checkpoint the
    run can resume from after a long rate-limit wait, a heartbeat so a dead worker's run is detected, the
    classified error and a short log."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    entity = models.CharField(max_length=40)
    mode = models.CharField(max_length=12, choices=SyncModeChoices.choices)
    trigger = models.CharField(max_length=10, choices=SyncTriggerChoices.choices)
    status = models.CharField(
        max_length=12, choices=SyncRunStatusChoices.choices, default=SyncRunStatusChoices.QUEUED
    )
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker took this run up.")
    since = models.DateTimeField(null=True, blank=True, help_text="The cursor an incremental run read from.")
    checkpoint: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(default=dict, blank=True)

    pages = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(
        default=0, help_text="Records marked do-not-sync, left as they are."
    )
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Records to fetch, where known.")
    rate_limit_waits = models.PositiveIntegerField(default=0)
    rate_limit_wait_seconds = models.FloatField(default=0)
    retries = models.PositiveIntegerField(default=0)

    error_kind = models.CharField(
        max_length=12, choices=SyncErrorKindChoices.choices, blank=True, default=SyncErrorKindChoices.NONE
    )
    error = models.TextField(blank=True)
    log: models.JSONField[list[Any], list[Any]] = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("-queued_at", "-pk")
        indexes = [
            models.Index(fields=["connection", "entity", "-queued_at"], name="syncrun_conn_entity"),
            models.Index(fields=["status", "heartbeat_at"], name="syncrun_status_heartbeat"),
            models.Index(fields=["status", "resume_at"], name="syncrun_status_resume"),
            models.Index(fields=["-queued_at"], name="syncrun_queued"),
        ]

    def __str__(self) -> str:
        return f"Sync run #{self.pk} {self.entity} ({self.mode}, {self.status})"

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == SyncRunStatusChoices.SUCCEEDED else None
        return min(100, int(self.fetched * 100 / self.total))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()


class RateBudget(models.Model):
    """One connection's use of the ledger's rate limits, shared by every worker process.

    Calls are counted in small buckets (one per 1/60 of a minute and 1/24 of a day, see
    `integrations.ratelimit`); a call is admitted only if the buckets covering the last minute and day
    leave room, so no window of the ledger's, however aligned, is exceeded. `leases` holds the calls in
    flight with the time each lease lapses (a dead worker's lease lapses on its own)."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="rate_budget")
    minute_buckets: models.JSONField[dict[str, int], dict[str, int]] = models.JSONField(default=dict)
    day_buckets: models.JSONField[dict[str, int], dict[str, int]] = models.JSONField(default=dict)
    leases: models.JSONField[dict[str, float], dict[str, float]] = models.JSONField(default=dict)
    blocked_until = models.FloatField(default=0, help_text="POSIX time before which no call is made.")
    blocked_reason = models.CharField(max_length=200, blank=True)
    calls_total = models.PositiveBigIntegerField(default=0)
    day_remaining_reported = models.IntegerField(null=True, blank=True)
    minute_remaining_reported = models.IntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Rate budget of connection {self.connection_id}"
