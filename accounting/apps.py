from django.apps import AppConfig


class AccountingConfig(AppConfig):
    """The provider-neutral mirror of each connected ledger."""

    name = "accounting"
    verbose_name = "Accounting"

    def ready(self) -> None:
        # Integrations may not import the mirror, but its dashboard names the families in their declared
        # order: the mirror tells it, once, here.
        from accounting.families import FAMILIES
        from integrations.entities import entity_label_register

        for family in FAMILIES.values():
            entity_label_register(key=family.key, label=family.label)
