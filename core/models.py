"""Abstract base models shared by every Ledgerlink app, and the API tokens."""

from __future__ import annotations

from typing import Any

from django.db import models
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class TimeStampedModel(models.Model):
    """Adds when a row was created and last changed. Every concrete Ledgerlink model inherits it."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class ApiToken(AbstractAuthToken):
    """An API token: stored as a digest (django-rest-knox), shown once when made, listed by its first
    characters only. Interactive tokens (from a username and password) expire after hours; a service
    token belongs to a machine client's user (not staff: it never logs in to the admin) and lets that user
    through the API with the permissions it holds."""

    # knox makes the digest the primary key, which would put it in every admin link, checkbox and log
    # entry; a plain number identifies the row instead and the digest never leaves the database.
    id: models.BigAutoField[Any, int] = models.BigAutoField(primary_key=True)
    # Annotated by hand: knox's base model is untyped, so the stubs' plugin cannot infer these.
    digest: models.CharField[str, str] = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name: models.CharField[str, str] = models.CharField(
        max_length=100, blank=True, help_text="What or who the token is for."
    )
    is_service: models.BooleanField[bool, bool] = models.BooleanField(
        default=False, help_text="A machine client's token: admits its non-staff service user to the API."
    )
    last_used_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.user})"
