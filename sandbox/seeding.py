"""What both ledgers' seed generators report."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections

from sandbox.routers import SANDBOX_ALIAS


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)  # entity or collection → documents written
    seconds: float = 0.0

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


SQLITE_CACHE_KIB = 65536


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a history is replayed (a chunk allocates millions of small
    dicts and Decimals that all live until it is written, so each collection pass finds nothing to free
    but costs a third of the run); seeders collect the young generation once per chunk instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _sqlite_cache() -> Iterator[None]:
    """On SQLite, a 64 MB page cache while seeding (instead of the default 2 MB): each insert updates
    several indexes at scattered places, and a small cache reads the same pages back again and again."""
    connection = connections[SANDBOX_ALIAS]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def seeding_tuned() -> Iterator[None]:
    """The process tuned for a bulk seed: collector paused, SQLite page cache enlarged; both restored.
    Process-wide, so not for use inside a busy server."""
    with _collector_paused(), _sqlite_cache():
        yield


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
