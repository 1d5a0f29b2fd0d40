from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Local emulators of the Xero and QuickBooks Online services. Imports no other Ledgerlink app."""

    name = "sandbox"
    verbose_name = "Sandbox ledgers"
