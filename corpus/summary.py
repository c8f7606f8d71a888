"""An item seen through its members, for the register export and the review pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import CanonicalItem, Document, Record


@dataclass
class ItemSummary:
    """An item seen through its members, added oldest period first: the latest one speaks for it."""

    item: CanonicalItem
    codes: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    latest: Record | None = None
    count: int = 0
    pending: bool = False

    def add(self, record: Record, document: Document) -> None:
        self.count += 1
        self.latest = record
        if record.code and record.code not in self.codes:
            self.codes.append(record.code)
        if document.period_label and document.period_label not in self.periods:
            self.periods.append(document.period_label)
