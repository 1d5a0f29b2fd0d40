"""What both ledgers' seed generators report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)  # entity or collection → documents written
    seconds: float = 0.0

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n
