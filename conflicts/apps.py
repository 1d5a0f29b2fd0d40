from django.apps import AppConfig


class ConflictsConfig(AppConfig):
    """Divergences between the business's records and the ledger, and their resolution."""

    name = "conflicts"
    verbose_name = "Conflicts"
