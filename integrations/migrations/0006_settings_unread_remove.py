"""Connection settings nothing read (multi-currency, daily tax import, Xero drafts, and the default account,
tax and item settings) are no longer part of a connection's settings. Stored settings are validated
against the provider's schema, which rejects unknown keys, so they are taken out of every row."""

from django.db import migrations

REMOVED = (
    "multi_currency",
    "daily_tax_import",
    "import_drafts",
    "default_sales_account_code",
    "default_purchases_account_code",
    "default_bank_account_code",
    "default_tax_type",
    "default_income_account_id",
    "default_expense_account_id",
    "default_tax_code_id",
    "default_item_id",
)


def settings_unread_remove(apps, schema_editor):
    Connection = apps.get_model("integrations", "Connection")
    for connection in Connection.objects.only("pk", "settings").iterator():
        settings = connection.settings
        if not isinstance(settings, dict) or not settings.keys() & set(REMOVED):
            continue
        connection.settings = {key: value for key, value in settings.items() if key not in REMOVED}
        connection.save(update_fields=["settings"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_provider_keys_from_registry"),
    ]

    # Reversing needs no data back: settings are merged over the provider's defaults before use.
    operations = [migrations.RunPython(settings_unread_remove, migrations.RunPython.noop)]
