"""Why two occurrences are (not) the same item: per-field comparisons as data.

Each :class:`Comparison` measures one field of a pair and maps the measure to a weight
through ordered levels, as splink's comparison levels do. Weights are log-odds: positive
for agreement, negative for disagreement, zero when a field gives no evidence. The sum,
plus a prior, is the match weight; :func:`probability` turns it into a score in [0, 1].
Every link stores the per-field parts, so a reviewer sees why the machine thinks so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from corpus.occurrence import Occurrence


@dataclass(frozen=True)
class Pair:
    """Two occurrences and their title similarity, computed in bulk by the blocker."""

    left: Occurrence
    right: Occurrence
    title_similarity: float


@dataclass(frozen=True)
class Level:
    at_least: float
    weight: float
    label: str


@dataclass(frozen=True)
class Comparison:
    """One field's evidence: ``measure`` gives a value (or None), the first level it reaches gives the weight."""

    name: str
    measure: Callable[[Pair], float | None]
    levels: tuple[Level, ...]

    def assess(self, pair: Pair) -> tuple[float, str]:
        value = self.measure(pair)
        if value is None:
            return 0.0, "no evidence"
        for level in self.levels:
            if value >= level.at_least:
                return level.weight, level.label
        return 0.0, "no evidence"


def title_similarity(left: str, right: str) -> float:
    """Mean of edit-distance ratio and token-set ratio on normalised titles, in [0, 1].

    A title cut short ("Provide financial advice" / "Provide financial advice to support
    …") counts as nearly the same wording: see :func:`truncation_similarity`.
    """
    bulk = (fuzz.ratio(left, right) + fuzz.token_set_ratio(left, right)) / 200
    return max(bulk, truncation_similarity(left, right))


def truncation_similarity(left: str, right: str) -> float:
    shorter, longer = sorted((left, right), key=len)
    if len(shorter.split()) >= 3 and longer.startswith(shorter + " "):
        return 0.9
    return 0.0


def _title(pair: Pair) -> float:
    return pair.title_similarity


def _code(pair: Pair) -> float | None:
    """Named codes (``NI014``, ``HROD03``) identify an item; row numbers (``KA.12``) barely do."""
    left, right = pair.left, pair.right
    if not left.code_key or not right.code_key:
        return None
    numbering = left.sequence_code or right.sequence_code
    if left.code_stem == right.code_stem:
        return 0.7 if numbering else 1.0
    return 0.3 if numbering else 0.0


def _indicators(pair: Pair) -> float | None:
    left, right = pair.left.indicators, pair.right.indicators
    if not left or not right:
        return None
    return len(left & right) / len(left | right)


def _officers(pair: Pair) -> float | None:
    left, right = pair.left.officers, pair.right.officers
    if not left or not right:
        return None
    return len(left & right) / min(len(left), len(right))


def _swapped_words(pair: Pair) -> float | None:
    """1 when each title has a word the other lacks and the titles are otherwise alike.

    "Review of Shared Audit Service" / "Review of Shared Anti-Fraud Service": a swapped
    word in a near-identical title is the mark of a sibling item, not a rewording. Siblings
    carry different codes, so when named codes agree the words are not weighed.
    """
    if pair.title_similarity < 0.6 or _code(pair) == 1.0:
        return None
    only_left = _unmatched(pair.left.stems - pair.right.stems, pair.right.title_norm)
    only_right = _unmatched(pair.right.stems - pair.left.stems, pair.left.title_norm)
    if only_left and only_right and min(len(only_left), len(only_right)) <= 2:
        return 1.0
    return 0.0


def _unmatched(stems: frozenset[str], other_title: str) -> list[str]:
    """Stems with no near spelling in the other title: typos and "e mail"/"email" are not swaps."""
    squashed = other_title.replace(" ", "")
    return [stem for stem in stems if fuzz.partial_ratio(stem, squashed) < 80]


def _containment(pair: Pair) -> float | None:
    """The share of the shorter title's content words found in the longer one, when the
    wording differs: a clause added or dropped ("… subject to Member approval", "…
    during 2015/16") keeps every word of the shorter title; a sibling item does not."""
    if pair.title_similarity >= 0.9:
        return None
    shorter, longer = sorted((pair.left.stems, pair.right.stems), key=len)
    if len(shorter) < CONTAINED_WORDS:
        return None
    return len(shorter & longer) / len(shorter)


CONTAINED_WORDS = 4
"""Fewer content words than this, and holding them all says little."""


def _section(pair: Pair) -> float | None:
    if not pair.left.section or not pair.right.section:
        return None
    return fuzz.token_set_ratio(pair.left.section, pair.right.section) / 100


def _period_gap(pair: Pair) -> float:
    return float(abs(pair.left.period - pair.right.period))


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "title",
        _title,
        (
            Level(0.97, 7.0, "same wording"),
            Level(0.90, 5.0, "nearly the same wording"),
            Level(0.80, 3.0, "similar wording"),
            Level(0.70, 1.0, "some words shared"),
            Level(0.55, -1.5, "different wording"),
            Level(0.0, -3.5, "unrelated wording"),
        ),
    ),
    Comparison(
        "containment",
        _containment,
        (
            Level(1.0, 2.5, "one title holds all the other's words"),
            Level(0.0, 0.0, "words of each missing from the other"),
        ),
    ),
    Comparison(
        "code",
        _code,
        (
            Level(1.0, 7.0, "same code"),
            Level(0.7, 2.0, "same row number"),
            Level(0.3, -1.0, "different row number"),
            Level(0.0, -4.0, "different code"),
        ),
    ),
    Comparison(
        "indicators",
        _indicators,
        (
            Level(0.5, 2.5, "same indicators cited"),
            Level(0.01, 1.0, "some indicators shared"),
            Level(0.0, -1.5, "different indicators cited"),
        ),
    ),
    Comparison(
        "officers",
        _officers,
        (Level(0.5, 1.0, "same officer"), Level(0.0, 0.0, "new officer")),
    ),
    Comparison(
        "swapped_words",
        _swapped_words,
        (Level(1.0, -2.5, "a key word swapped"), Level(0.0, 0.0, "no word swapped")),
    ),
    Comparison(
        "section",
        _section,
        (Level(0.9, 0.5, "same section"), Level(0.0, 0.0, "other section")),
    ),
    Comparison(
        "period_gap",
        _period_gap,
        (
            Level(3.0, -2.0, "three or more years apart"),
            Level(2.0, -1.0, "a year missing"),
            Level(1.0, 0.0, "consecutive years"),
            Level(0.0, 0.0, "the same year (a later report or a version)"),
        ),
    ),
)

PRIOR_WEIGHT = -3.5


@dataclass(frozen=True)
class Weights:
    """Everything a score is made of: the starting weight and each field's levels.

    The defaults are set by hand from real plans; `corpus.learning` moves them by what
    reviewers have judged. Stored with every matching run, so a score can always be
    explained with the weights it was made with."""

    prior: float = PRIOR_WEIGHT
    comparisons: tuple[Comparison, ...] = COMPARISONS

    def as_dict(self) -> dict[str, object]:
        return {
            "prior": round(self.prior, 3),
            "fields": {
                c.name: {level.label: round(level.weight, 3) for level in c.levels}
                for c in self.comparisons
            },
        }

    def shifted(self, prior: float, levels: Mapping[tuple[str, str], float]) -> Weights:
        """These weights with the starting weight and some (field, level) weights moved."""
        return Weights(
            self.prior + prior,
            tuple(
                replace(
                    c,
                    levels=tuple(
                        replace(lv, weight=lv.weight + levels.get((c.name, lv.label), 0.0))
                        for lv in c.levels
                    ),
                )
                for c in self.comparisons
            ),
        )


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Assessment:
    weight: float
    parts: dict[str, tuple[float, str]]
    prior: float = PRIOR_WEIGHT

    @property
    def score(self) -> float:
        return probability(self.weight)

    def as_breakdown(self) -> dict[str, object]:
        """The stored, JSON-ready explanation of a score."""
        return {
            "score": round(self.score, 4),
            "weight": round(self.weight, 3),
            "prior": round(self.prior, 3),
            "fields": {
                name: {"weight": round(weight, 3), "reason": reason}
                for name, (weight, reason) in self.parts.items()
            },
        }


def probability(weight: float) -> float:
    return 1.0 / (1.0 + math.exp(-weight))


def assess(pair: Pair, weights: Weights = DEFAULT_WEIGHTS) -> Assessment:
    parts = {comparison.name: comparison.assess(pair) for comparison in weights.comparisons}
    return Assessment(
        weights.prior + sum(weight for weight, _ in parts.values()), parts, weights.prior
    )


@dataclass(frozen=True)
class Bounded:
    """Comparisons in the order that rules a pair out soonest (the widest span of weights
    first), each with the most the comparisons after it could still add."""

    weights: Weights
    steps: tuple[tuple[Comparison, float], ...]

    @classmethod
    def of(cls, weights: Weights) -> Bounded:
        ordered = sorted(weights.comparisons, key=lambda c: -_span(c))
        most = [max(0.0, *(level.weight for level in c.levels)) for c in ordered]
        after = [sum(most[index + 1 :]) for index in range(len(ordered))]
        return cls(weights, tuple(zip(ordered, after, strict=True)))


def _span(comparison: Comparison) -> float:
    """How far one field can move a weight: no evidence counts 0."""
    weights = [0.0, *(level.weight for level in comparison.levels)]
    return max(weights) - min(weights)


def assess_reaching(pair: Pair, floor: float, bounded: Bounded) -> Assessment | None:
    """The pair's assessment, or None once the fields still to come cannot lift its weight
    to ``floor``: a pair that can never be suggested is not worth explaining. Blocking lets
    through many pairs a title or a code already rules out; this stops at that field."""
    prior = bounded.weights.prior
    so_far = prior
    found: dict[str, tuple[float, str]] = {}
    for comparison, still_possible in bounded.steps:
        part = comparison.assess(pair)
        so_far += part[0]
        if so_far + still_possible < floor:
            return None
        found[comparison.name] = part
    parts = {c.name: found[c.name] for c in bounded.weights.comparisons}
    # Summed again in the declared order, so the weight is exactly `assess`'s.
    return Assessment(prior + sum(weight for weight, _ in parts.values()), parts, prior)
