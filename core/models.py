"""Abstract base models shared by every Ledgerlink app."""

from django.db import models


class TimeStampedModel(models.Model):
    """Adds when a row was created and last changed. Every concrete Ledgerlink model inherits it."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True
