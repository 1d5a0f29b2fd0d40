"""What both ledgers' importers of real payloads share: their failure and their report."""

from __future__ import annotations

from dataclasses import dataclass, field


class ImportFailed(Exception):
    """A file that cannot be read, or a payload that is not something the ledger returns."""


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)  # entity or collection → documents stored
    skipped: list[str] = field(default_factory=list)  # keys the sandbox does not emulate

    def merge(self, other: ImportReport) -> None:
        for name, count in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + count
        self.skipped.extend(key for key in other.skipped if key not in self.skipped)
