"""Weights that learn from reviewers: every judged suggestion is a labelled pair.

A reviewer who confirms a suggestion says its pair was one item; one who rejects it, or
moves the record elsewhere, says it was not. Each suggestion's stored breakdown names the
level each field reached, so the judgements are examples of (levels → same or not).

The weights are fitted to them by logistic regression with the current weights as the
starting point (the offset) and a Gaussian prior on how far the starting weight and each
level's weight may move: the maximum a posteriori fit. With no judgements nothing moves;
a few move the weights a little, and many as far as they show.

The judged pairs are the uncertain ones, between the review and auto lines. Alone they
say nothing of the patterns nobody is asked about, and a fit to them alone can lower
the commonest sure pattern to just under the auto line (seen on synthetic councils:
review load 1 % in two samples, 28 % in the third). So each automatic link also counts,
as a confirmation of weight ``ANCHOR``: it holds the sure patterns where they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from corpus.comparisons import DEFAULT_WEIGHTS, Weights

SPREAD = 1.0
"""The prior's standard deviation, in log-odds: how far judgements may move a weight
before they have to be many and consistent to move it further."""
ANCHOR = 0.3
"""What an automatic link counts for, beside a reviewer's verdict (1)."""


@dataclass(frozen=True)
class Judged:
    """One reviewed suggestion: the level each field reached (its stored reason) and the
    verdict."""

    levels: Mapping[str, str]
    same: bool


def learn_weights(
    judged: Sequence[Judged],
    linked: Sequence[Mapping[str, str]] = (),
    base: Weights = DEFAULT_WEIGHTS,
    spread: float = SPREAD,
) -> Weights:
    """``base`` moved towards what reviewers judged, held by the automatic links'
    patterns (``linked``); see the module docstring. No judgements, no move."""
    known = {
        (comparison.name, level.label): level.weight
        for comparison in base.comparisons
        for level in comparison.levels
    }
    if not any(example.levels for example in judged):
        return base
    counted: defaultdict[tuple[frozenset[tuple[str, str]], bool], float] = defaultdict(float)
    for example in judged:
        counted[_pattern(example.levels, known), example.same] += 1.0
    for reached in linked:
        counted[_pattern(reached, known), True] += ANCHOR
    examples = [(pattern, same, weight) for (pattern, same), weight in counted.items() if pattern]
    features = sorted({key for pattern, _, _ in examples for key in pattern})
    column = {key: index for index, key in enumerate(features)}
    design = np.zeros((len(examples), len(features) + 1))
    design[:, -1] = 1.0  # the starting weight
    offset = np.full(len(examples), base.prior)
    sign = np.empty(len(examples))
    counts = np.empty(len(examples))
    for row, (pattern, same, weight) in enumerate(examples):
        for key in pattern:
            design[row, column[key]] = 1.0
            offset[row] += known[key]
        sign[row] = 1.0 if same else -1.0
        counts[row] = weight

    def loss(shift: np.ndarray) -> tuple[float, np.ndarray]:
        margin = sign * (offset + design @ shift)
        fit = float(counts @ np.logaddexp(0.0, -margin))
        pull = -sign * counts * expit(-margin)
        prior = shift / spread**2
        return fit + float(shift @ shift) / (2 * spread**2), design.T @ pull + prior

    fitted = minimize(loss, np.zeros(len(features) + 1), jac=True, method="L-BFGS-B").x
    return base.shifted(float(fitted[-1]), {key: float(fitted[column[key]]) for key in features})


def _pattern(
    levels: Mapping[str, str], known: Mapping[tuple[str, str], float]
) -> frozenset[tuple[str, str]]:
    return frozenset(key for key in levels.items() if key in known)
