"""Matching at scale: 200 councils × 5 years × 100 items = 100,000 synthetic occurrences.

    python bench/match_scale.py [--councils 200] [--years 5] [--items 100]

Titles come from the corpus gold files and are reworded from year to year (words dropped,
synonyms, typos, renumbered codes), so blocking and scoring see realistic text. Prints wall
time and peak memory for councilreg and, in the same process and on the same data, for the
exact-code baseline, and the ratio between them. Targets: under 60 s and 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import time
from collections.abc import Callable
from pathlib import Path

from corpus.matching import MatchSettings, Register, match
from corpus.occurrence import Occurrence

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COUNCILREG_SHARED") or ROOT.parent / "shared")
SWAPS = {
    "deliver": "implement",
    "ensure": "make sure",
    "review": "carry out a review of",
    "develop": "prepare",
}


def corpus_titles(corpus: Path) -> list[str]:
    titles = {
        record["title"]
        for path in corpus.glob("*.gold.json")
        for record in json.loads(path.read_text())["records"]
        if len(record["title"]) > 12
    }
    return sorted(titles)


def reword(title: str, rng: random.Random) -> str:
    words = title.split()
    roll = rng.random()
    if roll < 0.15 and len(words) > 4:
        del words[rng.randrange(1, len(words))]
    elif roll < 0.3:
        words = [SWAPS.get(w.lower(), w) for w in words]
    elif roll < 0.4:
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def synthetic_council(
    council: int, years: int, items: int, titles: list[str], rng: random.Random
) -> list[Occurrence]:
    chosen = rng.sample(titles, items)
    occurrences = []
    for year in range(years):
        order = list(range(items))
        rng.shuffle(order)
        for position, item in enumerate(order):
            if rng.random() < 0.08:  # the item skips this year; a one-off takes its row
                title = rng.choice(titles)
            else:
                title = chosen[item] if year == 0 else reword(chosen[item], rng)
            occurrences.append(
                Occurrence.build(
                    key=council * 1_000_000 + year * 10_000 + item,
                    period=2010 + year,
                    kind="indicator" if item % 4 == 0 else "action",
                    title=title,
                    code=f"PI{item:03d}" if item % 4 == 0 else f"KA.{position + 1}",
                    officers=[f"Officer {item % 17}"],
                )
            )
    return occurrences


def exact_code(council: list[Occurrence]) -> int:
    items: dict[tuple[str, str], int] = {}
    for occurrence in council:
        items.setdefault((occurrence.kind, occurrence.code_key or str(occurrence.key)), len(items))
    return len(items)


def councilreg(settings: MatchSettings) -> Callable[[list[Occurrence]], int]:
    def run(council: list[Occurrence]) -> int:
        register = Register()
        match(council, register, settings)
        return len(register.items)

    return run


def measure(
    name: str, method: Callable[[list[Occurrence]], int], councils: list[list[Occurrence]]
) -> float:
    started = time.perf_counter()
    items = sum(method(council) for council in councils)
    elapsed = time.perf_counter() - started
    print(f"{name:<22} {elapsed:8.2f} s   {items:>7} items")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=200)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    args = parser.parse_args()
    rng = random.Random(7)
    titles = corpus_titles(args.corpus)
    started = time.perf_counter()
    councils = [
        synthetic_council(c, args.years, args.items, titles, rng) for c in range(args.councils)
    ]
    occurrences = sum(len(c) for c in councils)
    print(
        f"{occurrences} occurrences in {args.councils} councils, built in {time.perf_counter() - started:.1f} s"
    )
    baseline = measure("baseline: exact code", exact_code, councils)
    ours = measure("councilreg match", councilreg(MatchSettings(workers=-1)), councils)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"councilreg / baseline time: {ours / baseline:.1f}x")
    print(
        f"peak memory: {peak_mb:.0f} MB (target < 2048 MB); time target < 60 s: {'met' if ours < 60 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
