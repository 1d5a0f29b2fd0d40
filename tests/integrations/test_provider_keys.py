"""Provider keys come from the registry, not from choices frozen into migrations: adding a ledger writes no
migration, and every model, form and filter offers (and only accepts) the registered ledgers."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from integrations import providers
from integrations.models import Connection, ConnectionDeletion, Credential, OAuthState
from integrations.providers.xero import XeroProvider

pytestmark = pytest.mark.django_db


class _ThirdLedger(XeroProvider):
    key = "thirdledger"
    label = "Third Ledger"


@pytest.fixture
def third_ledger() -> Iterator[None]:
    providers.register(_ThirdLedger)
    yield
    del providers._registry[_ThirdLedger.key]  # the registry has no unregister; tests only


def test_adding_a_ledger_writes_no_migration(third_ledger):
    # The migrations hold a reference to the registry, not the ledgers it had when they were written...
    for model in (Credential, Connection, OAuthState, ConnectionDeletion):
        assert model._meta.get_field("provider").deconstruct()[3]["choices"] is providers.provider_choices
    # ...so, with a third ledger registered, `makemigrations --check` (without its database check) is clean.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    autodetector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps))
    assert autodetector.changes(graph=loader.graph).get("integrations", []) == []


@pytest.mark.parametrize("model", [Credential, Connection, OAuthState, ConnectionDeletion])
def test_provider_fields_offer_the_registered_ledgers(model, third_ledger):
    field = model._meta.get_field("provider")
    assert list(field.choices) == [
        ("quickbooks", "QuickBooks Online"),
        ("xero", "Xero"),
        ("thirdledger", "Third Ledger"),
    ]
    assert field.formfield().choices[1:] == list(field.choices)


def test_a_registered_key_is_labelled_and_an_unknown_one_refused(third_ledger):
    connection = Connection(provider="thirdledger", display_name="Acme", tenant_id="t-1")
    assert connection.get_provider_display() == "Third Ledger"
    connection.full_clean()
    with pytest.raises(ValidationError) as refused:
        Connection(provider="sage", display_name="Acme", tenant_id="t-2").full_clean()
    assert refused.value.message_dict == {"provider": ["Value 'sage' is not a valid choice."]}


def test_unread_settings_are_removed_from_stored_connections():
    migration = importlib.import_module("integrations.migrations.0006_settings_unread_remove")
    stored = {
        "entities": {"invoices": {"enabled": False, "frequency_minutes": 15}},
        "rate_limits": {"per_day": 1000},
        "multi_currency": True,
        "daily_tax_import": False,
        "import_drafts": True,
        "default_sales_account_code": "200",
        "default_tax_type": "OUTPUT2",
        "default_item_id": "7",
    }
    old = Connection.objects.create(provider="xero", display_name="Old", tenant_id="t-1", settings=stored)
    clean = Connection.objects.create(
        provider="quickbooks",
        display_name="Clean",
        tenant_id="t-2",
        settings={"rate_limits": {"concurrent": 2}},
    )

    migration.settings_unread_remove(apps, None)

    old.refresh_from_db()
    clean.refresh_from_db()
    assert old.settings == {
        "entities": {"invoices": {"enabled": False, "frequency_minutes": 15}},
        "rate_limits": {"per_day": 1000},
    }
    assert clean.settings == {"rate_limits": {"concurrent": 2}}
