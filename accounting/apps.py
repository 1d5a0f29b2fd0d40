from django.apps import AppConfig


class AccountingConfig(AppConfig):
    """The provider-neutral mirror of each connected ledger."""

    name = "accounting"
    verbose_name = "Accounting"
