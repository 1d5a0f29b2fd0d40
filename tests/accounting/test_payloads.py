"""Field maps read both ways: a payload built from a normalised record reads back as that record, for
every writable field of every entity type of both ledgers, from the records the sandbox serves."""

from __future__ import annotations

import pytest

from accounting.families import FAMILIES
from integrations.providers import get_provider
from integrations.providers.remote import payload_build, writable_fields

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.mark.parametrize("ledger", ["xero", "quickbooks"])
def test_a_payload_built_from_a_record_reads_back_as_the_record(request, pull, ledger):
    connection = request.getfixturevalue("xero_connection" if ledger == "xero" else "qbo_connection")
    runs = pull(connection, full=True)
    assert {run.status for run in runs.values()} == {"succeeded"}
    checked = 0
    for key, source in get_provider(connection.provider).pull_sources().items():
        for entity in source.entities:
            writable = writable_fields(entity.fields)
            assert writable, (key, entity.remote_type)
            rows = (
                FAMILIES[key]
                .model._default_manager.filter(connection=connection, remote_type=entity.remote_type)
                .values_list("raw", flat=True)[:5]
            )
            for raw in rows:
                record = entity.normalise(raw)
                payload = payload_build(entity, record.fields, record.children)
                again = entity.normalise(payload)
                assert {name: again.fields[name] for name in writable} == {
                    name: record.fields[name] for name in writable
                }, (key, entity.remote_type)
                for child_key, child in entity.children.items():
                    if not hasattr(child.source, "put"):
                        continue
                    child_writable = writable_fields(child.fields)
                    assert [
                        {name: row[name] for name in child_writable} for row in again.children[child_key]
                    ] == [
                        {name: row[name] for name in child_writable} for row in record.children[child_key]
                    ], (key, entity.remote_type, child_key)
                checked += 1
    assert checked > 20
