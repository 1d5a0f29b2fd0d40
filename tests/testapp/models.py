from django.db import models

from core.models import TimeStampedModel


class Widget(TimeStampedModel):
    """A stand-in model that exercises the shared API base classes through real endpoints."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"

    name = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    issued_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
