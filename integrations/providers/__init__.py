"""The provider registry: the only place that knows which ledgers exist.

Code outside `integrations/providers/` asks the registry (`get_provider(key)`), never names a ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import InvalidInput

if TYPE_CHECKING:
    from integrations.providers.base import Provider

_registry: dict[str, Provider] = {}


def register(provider_class: type[Provider]) -> type[Provider]:
    _registry[provider_class.key] = provider_class()
    return provider_class


def get_provider(key: str) -> Provider:
    try:
        return _registry[key]
    except KeyError:
        raise InvalidInput(
            f"Unknown provider {key!r}.",
            fields={"provider": [f"Choose one of: {', '.join(sorted(_registry))}."]},
        ) from None


def providers() -> list[Provider]:
    return list(_registry.values())


def provider_choices() -> list[tuple[str, str]]:
    return [(provider.key, provider.label) for provider in _registry.values()]


# Importing the packages registers them.
from integrations.providers import quickbooks, xero  # noqa: E402, F401
