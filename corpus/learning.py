"""Weights that learn from reviewers: every judged suggestion is a labelled pair.

A reviewer who confirms a suggestion says its pair was one item; one who rejects it, or
moves the record elsewhere, says it was not. Each suggestion's stored breakdown names the
level each field reached, so the judgements are examples of (levels → same or not).

The weights are fitted to them by logistic regression with the current weights as the
starting point (the offset) and a Gaussian prior on how far the starting weight and each
level's weight may move: the maximum a posteriori fit. With no judgements nothing moves;
a few move the weights a little, and many as far as they show. The judged pairs are the
uncertain ones, between the review and auto lines, which is where weights decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from corpus.comparisons import DEFAULT_WEIGHTS, Weights

SPREAD = 1.0
"""The prior's standard deviation, in log-odds: how far judgements may move a weight
before they have to be many and consistent to move it further."""


@dataclass(frozen=True)
class Judged:
    """One reviewed suggestion: the level each field reached (its stored reason) and the
    verdict."""

    levels: Mapping[str, str]
    same: bool


def learn_weights(
    judged: Sequence[Judged], base: Weights = DEFAULT_WEIGHTS, spread: float = SPREAD
) -> Weights:
    """``base`` moved towards what reviewers judged (see the module docstring)."""
    known = {
        (comparison.name, level.label): level.weight
        for comparison in base.comparisons
        for level in comparison.levels
    }
    examples = [
        (example, [key for key in example.levels.items() if key in known])
        for example in judged
        if example.levels
    ]
    if not examples:
        return base
    features = sorted({key for _, keys in examples for key in keys})
    column = {key: index for index, key in enumerate(features)}
    levels = np.zeros((len(examples), len(features) + 1))
    levels[:, -1] = 1.0  # the starting weight
    offset = np.full(len(examples), base.prior)
    sign = np.empty(len(examples))
    for row, (example, keys) in enumerate(examples):
        for key in keys:
            levels[row, column[key]] = 1.0
            offset[row] += known[key]
        sign[row] = 1.0 if example.same else -1.0

    def loss(shift: np.ndarray) -> tuple[float, np.ndarray]:
        margin = sign * (offset + levels @ shift)
        fit = float(np.logaddexp(0.0, -margin).sum())
        pull = -sign * expit(-margin)
        prior = shift / spread**2
        return fit + float(shift @ shift) / (2 * spread**2), levels.T @ pull + prior

    fitted = minimize(loss, np.zeros(len(features) + 1), jac=True, method="L-BFGS-B").x
    return base.shifted(float(fitted[-1]), {key: float(fitted[column[key]]) for key in features})
