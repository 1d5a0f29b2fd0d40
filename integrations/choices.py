from django.db import models


class ConnectionStatusChoices(models.TextChoices):
    # Authorised, but the organisation's details could not be read yet; the next health check completes it.
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
    DISCONNECTED = "disconnected", "Disconnected"
    DELETING = "deleting", "Deleting"


class ConnectionHealthChoices(models.TextChoices):
    UNKNOWN = "unknown", "Not checked yet"
    OK = "ok", "OK"
    FAILING = "failing", "Failing"


class CredentialKindChoices(models.TextChoices):
    # A user's consent (authorization code): rotating refresh token.
    AUTHORIZATION_CODE = "authorization_code", "User consent"
    # A Xero custom connection: no refresh token, a new access token from the app's id and secret.
    CLIENT_CREDENTIALS = "client_credentials", "Client credentials"


class ConnectionDeletionStatusChoices(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncModeChoices(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full resync"


class SyncTriggerChoices(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual refresh"
    WEBHOOK = "webhook", "Webhook"
    SYSTEM = "system", "System (first sync, resume)"


class SyncRunStatusChoices(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    # A rate limit asked for a long wait: the run gives its worker back and resumes when the ledger allows.
    WAITING = "waiting", "Waiting for the rate limit"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # The worker died or lost its claim; a new run was started in its place.
    INTERRUPTED = "interrupted", "Interrupted"
    CANCELLED = "cancelled", "Cancelled"


class SyncStateChoices(models.TextChoices):
    """Per (connection, entity family), as the best unified APIs report it."""

    NEVER = "never", "Not synced yet"
    SYNCING = "syncing", "Syncing"
    SYNCED = "synced", "Synced"
    PARTIALLY_SYNCED = "partially_synced", "Partially synced"
    FAILED = "failed", "Failed"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled"


class SyncErrorKindChoices(models.TextChoices):
    NONE = "", "None"
    AUTH = "auth", "Authorisation"
    RATE_LIMIT = "rate_limit", "Rate limit"
    TRANSIENT = "transient", "Ledger unavailable"
    VALIDATION = "validation", "Rejected by the ledger"
    PERMANENT = "permanent", "Permanent"
    INTERNAL = "internal", "Internal error"
