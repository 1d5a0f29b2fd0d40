from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Connections to the ledgers, their credentials, the provider registry and sync runs."""

    name = "integrations"
    verbose_name = "Integrations"
