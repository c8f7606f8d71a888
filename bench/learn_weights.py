"""Weights learned from reviewers, measured where the hand-set weights do not fit.

    python bench/learn_weights.py [--councils 20] [--reviewed 10] [--corpus DIR]

Synthetic councils (`bench/match_scale.py`: titles from the corpus reworded year to year,
row numbers that change every year, one officer to several items) are unlike the corpus
series the hand-set weights were set on. A reviewer who knows the truth judges the
suggestions made in ``--reviewed`` councils; the weights are learned from those
judgements as `councilreg match` does (`corpus.learning`, suggestions queued only for a
close rival left out); then ``--councils`` other councils, never judged, are matched with
the hand-set and with the learned weights and scored against the same truth.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from match_corpus import simulated_review
from match_scale import SHARED, corpus_titles, synthetic_council_with_truth

from corpus.comparisons import DEFAULT_WEIGHTS, Weights
from corpus.learning import Judged, learn_weights
from corpus.matching import MatchSettings, Placement, Register, match

SETTINGS = MatchSettings()


def placed(
    council: int, titles: list[str], weights: Weights
) -> tuple[list[Placement], dict[int, str]]:
    made = synthetic_council_with_truth(council, 5, 100, titles, random.Random(council))
    truth = {occurrence.key: item for occurrence, item in made}
    return match([o for o, _ in made], Register(), SETTINGS, weights), truth


def review(councils: range, titles: list[str]) -> tuple[list[Judged], list[dict[str, str]]]:
    judged: list[Judged] = []
    linked: list[dict[str, str]] = []
    for council in councils:
        said, sure = simulated_review(*placed(council, titles, DEFAULT_WEIGHTS))
        judged += said
        linked += sure
    return judged, linked


def figures(councils: range, titles: list[str], weights: Weights) -> str:
    """Auto precision, auto recall, recall after review and review load: a link is right
    when the record is the item that the item's first record is."""
    right_auto = wrong_auto = right_pending = pending = should = records = 0
    for council in councils:
        placements, truth = placed(council, titles, weights)
        founder = {p.item: truth[p.occurrence.key] for p in placements if p.state == "new"}
        seen: set[str] = set()
        for p in sorted(placements, key=lambda p: p.occurrence.period):
            item = truth[p.occurrence.key]
            records += 1
            should += item in seen
            if item.startswith("item"):
                seen.add(item)
            right = founder.get(p.item) == item
            if p.state == "auto":
                right_auto += right
                wrong_auto += not right
            elif p.state == "pending":
                pending += 1
                right_pending += right
    return (
        f"auto P {right_auto / max(right_auto + wrong_auto, 1):.4f} "
        f"R {right_auto / should:.4f}   after review R {(right_auto + right_pending) / should:.4f}"
        f"   review load {pending / records:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=20)
    parser.add_argument("--reviewed", type=int, default=10)
    parser.add_argument("--samples", type=int, default=3, help="Sets of reviewed councils.")
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    args = parser.parse_args()
    titles = corpus_titles(args.corpus)
    held_out = range(args.councils)
    print(f"hand-set weights                      {figures(held_out, titles, DEFAULT_WEIGHTS)}")
    for sample in range(1, args.samples + 1):
        reviewed = range(10_000 * sample, 10_000 * sample + args.reviewed)
        judged, linked = review(reviewed, titles)
        learned = learn_weights(judged, linked)
        print(
            f"learned, sample {sample} ({len(judged)} judged, "
            f"{sum(j.same for j in judged)} same)  {figures(held_out, titles, learned)}"
        )


if __name__ == "__main__":
    main()
