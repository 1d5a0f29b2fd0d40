from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Inbound ledger webhooks and outbound events to our own clients."""

    name = "webhooks"
    verbose_name = "Webhooks"
