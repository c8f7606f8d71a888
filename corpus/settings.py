"""Matching thresholds, apart from the matcher so that the CLI can show them without loading it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds are probabilities; both are stored with every matching run.

    ``auto``: at or above, linked without review. ``review``: at or above (and below
    ``auto``), queued with the suggested item. ``margin``: a link whose runner-up is within
    this many log-odds is queued, however high its score. ``learn``: move the hand-set
    weights by what reviewers have judged (`corpus.learning`); off unless asked for, as on
    the corpus series it has not yet beaten the hand-set weights.
    """

    auto: float = 0.97
    review: float = 0.15
    margin: float = 2.0
    title_floor: float = 0.55
    learn: bool = False
    workers: int = 1

    def as_dict(self) -> dict[str, float]:
        return {
            "auto": self.auto,
            "review": self.review,
            "margin": self.margin,
            "title_floor": self.title_floor,
            "learn": self.learn,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, float]) -> MatchSettings:
        """The settings a run stored (it stores its weights beside them)."""
        default = cls()
        return cls(
            auto=float(stored.get("auto", default.auto)),
            review=float(stored.get("review", default.review)),
            margin=float(stored.get("margin", default.margin)),
            title_floor=float(stored.get("title_floor", default.title_floor)),
            learn=bool(stored.get("learn", default.learn)),
        )
