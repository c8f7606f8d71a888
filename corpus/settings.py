"""Matching thresholds, apart from the matcher so that the CLI can show them without loading it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds are probabilities; both are stored with every matching run.

    ``auto``: at or above, linked without review. ``review``: at or above (and below
    ``auto``), queued with the suggested item. ``margin``: a link whose runner-up is within
    this many log-odds is queued, however high its score.
    """

    auto: float = 0.97
    review: float = 0.15
    margin: float = 2.0
    title_floor: float = 0.45
    workers: int = 1

    def as_dict(self) -> dict[str, float]:
        return {
            "auto": self.auto,
            "review": self.review,
            "margin": self.margin,
            "title_floor": self.title_floor,
        }
