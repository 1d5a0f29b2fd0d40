import os

from django.apps import AppConfig
from django.conf import settings


class IntegrationsConfig(AppConfig):
    """Connections to the ledgers, their credentials, the provider registry and sync runs."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        if settings.LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS:
            # oauthlib (under requests-oauthlib and python-quickbooks) refuses http:// otherwise; allowed
            # only where the deployment says plain-http ledgers (a local sandbox, a recording proxy) are fine.
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
