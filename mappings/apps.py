from django.apps import AppConfig


class MappingsConfig(AppConfig):
    """How the business's own codes map onto each ledger's accounts, tax codes and tracking."""

    name = "mappings"
    verbose_name = "Mappings"
