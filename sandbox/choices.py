from django.db import models


class SandboxProviderChoices(models.TextChoices):
    XERO = "xero", "Xero"
    QBO = "qbo", "QuickBooks Online"


class TenantTypeChoices(models.TextChoices):
    ORGANISATION = "ORGANISATION", "Organisation"
    PRACTICE = "PRACTICE", "Practice"
