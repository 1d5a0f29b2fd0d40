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
