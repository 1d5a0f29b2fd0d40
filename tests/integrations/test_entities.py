"""The family labels integrations shows come from the mirror's declaration, registered at start-up."""

from __future__ import annotations

from accounting.families import FAMILIES
from integrations.entities import entity_label, entity_labels


def test_every_declared_family_is_registered_in_declaration_order() -> None:
    assert list(entity_labels().items()) == [(key, family.label) for key, family in FAMILIES.items()]


def test_a_key_nobody_registered_is_shown_as_itself() -> None:
    assert entity_label("retired_family") == "retired_family"
    assert "retired_family" not in entity_labels()
