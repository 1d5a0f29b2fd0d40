"""The entity families' labels, as the app that declares the families registers them at start-up.

Integrations sits below the mirror (`accounting`) and may not import it, yet the dashboard names each family
and lists them in their declared order. The declaring app fills this registry from its `AppConfig.ready()`,
so integrations reads the labels without knowing who declares them."""

from __future__ import annotations

_LABELS: dict[str, str] = {}


def entity_label_register(*, key: str, label: str) -> None:
    """Name a family. Registering a key again replaces its label and keeps its place in the order."""
    _LABELS[key] = label


def entity_labels() -> dict[str, str]:
    """Every registered family's label by key, in the order they were registered."""
    return dict(_LABELS)


def entity_label(key: str) -> str:
    """A family's label; a key nobody registered (a family no longer declared) is shown as itself."""
    return _LABELS.get(key, key)
