"""What both ledgers' seed generators report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)  # entity or collection → documents written
    seconds: float = 0.0

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


# Name pools both ledgers' seeders draw from.
BUSINESS_WORDS_FIRST = (
    "Acme",
    "Bright",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbour",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Northwind",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Riverside",
    "Summit",
    "Tidal",
)
BUSINESS_WORDS_SECOND = (
    "Bakery",
    "Builders",
    "Consulting",
    "Dental",
    "Engineering",
    "Foods",
    "Garage",
    "Hardware",
    "Interiors",
    "Joinery",
    "Kitchens",
    "Logistics",
    "Media",
    "Nursery",
    "Optics",
    "Plumbing",
    "Roofing",
    "Studios",
    "Textiles",
    "Ventures",
)
GIVEN_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Ema", "Finn", "Gita", "Hugo")
FAMILY_NAMES = ("Smith", "Jones", "Patel", "Nguyen", "Brown", "Silva", "Khan")
