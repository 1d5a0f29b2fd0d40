"""The families and each ledger's declarations agree: same keys as the connection settings, field maps
that name real columns, children that the family has."""

from __future__ import annotations

import pytest

from accounting.families import FAMILIES
from integrations.providers import providers


@pytest.mark.parametrize("provider", providers(), ids=lambda p: p.key)
def test_every_family_a_ledger_has_is_declared_once_and_maps_real_columns(provider):
    sources = provider.pull_sources()
    assert set(sources) == set(provider.entity_keys)
    assert set(sources) <= set(FAMILIES)
    for key, source in sources.items():
        family = FAMILIES[key]
        columns = {f.name for f in family.model._meta.concrete_fields} | {"contact_id"}
        remote_types = [entity.remote_type for entity in source.entities]
        assert len(remote_types) == len(set(remote_types)), key
        for entity in source.entities:
            assert entity.family == key
            unknown = set(entity.fields) - columns
            assert not unknown, (key, entity.remote_type, unknown)
            children = {child.key: child for child in family.children}
            assert set(entity.children) <= set(children), (key, entity.remote_type)
            for child_key, child_map in entity.children.items():
                child_columns = {f.name for f in children[child_key].model._meta.concrete_fields}
                assert not set(child_map.fields) - child_columns, (key, child_key)
            if family.has_contact:
                assert entity.contact_remote_type, (key, entity.remote_type)
                assert "contact_remote_id" in entity.fields


def test_every_family_is_served_by_some_ledger():
    served = {key for provider in providers() for key in provider.pull_sources()}
    assert served == set(FAMILIES)
