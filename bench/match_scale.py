"""Matching at scale: 200 councils × 5 years × 100 items = 100,000 synthetic occurrences.

    python bench/match_scale.py [--councils 200] [--years 5] [--items 100] [--processes 2]
    python bench/match_scale.py --councils 2000      # 1,000,000 occurrences

Titles come from the corpus gold files and are reworded from year to year (words dropped,
synonyms, typos, renumbered codes), so blocking and scoring see realistic text. Councils
are independent, as matching treats them (and as the task engine would run them): each is
made from its own seed and matched in a worker process, then dropped, so memory stays
bounded however many there are. Prints wall time and peak memory for councilreg and, on
the same data, for the exact-code baseline. Targets on this 2-core machine: 100,000 in
under 60 s, 1,000,000 in under 120 s, under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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
    return [
        occurrence
        for occurrence, _ in synthetic_council_with_truth(council, years, items, titles, rng)
    ]


def synthetic_council_with_truth(
    council: int, years: int, items: int, titles: list[str], rng: random.Random
) -> list[tuple[Occurrence, str]]:
    """Each occurrence with the item it truly is ("item 7"), or its own key for a one-off."""
    chosen = rng.sample(titles, items)
    occurrences = []
    for year in range(years):
        order = list(range(items))
        rng.shuffle(order)
        for position, item in enumerate(order):
            key = council * 1_000_000 + year * 10_000 + item
            if rng.random() < 0.08:  # the item skips this year; a one-off takes its row
                title, truth = rng.choice(titles), f"one-off {key}"
            else:
                title = chosen[item] if year == 0 else reword(chosen[item], rng)
                truth = f"item {item}"
            occurrence = Occurrence.build(
                key=key,
                period=2010 + year,
                kind="indicator" if item % 4 == 0 else "action",
                title=title,
                code=f"PI{item:03d}" if item % 4 == 0 else f"KA.{position + 1}",
                officers=[f"Officer {item % 17}"],
            )
            occurrences.append((occurrence, truth))
    return occurrences


def exact_code(council: list[Occurrence]) -> int:
    items: dict[tuple[str, str], int] = {}
    for occurrence in council:
        items.setdefault((occurrence.kind, occurrence.code_key or str(occurrence.key)), len(items))
    return len(items)


def councilreg(council: list[Occurrence]) -> int:
    register = Register()
    match(council, register, MatchSettings(workers=1))
    return len(register.items)


METHODS: dict[str, Callable[[list[Occurrence]], int]] = {
    "baseline: exact code": exact_code,
    "councilreg match": councilreg,
}
_TITLES: list[str] = []


def _start(titles: list[str]) -> None:
    _TITLES[:] = titles


def one_council(task: tuple[str, int, int, int, int]) -> tuple[int, float]:
    """Make one council and match it, in a worker process: (items, seconds matching).
    Each council comes from its own seed, so every run and every process count sees the
    same data, and only the councils in hand are ever in memory."""
    method, council, years, items, seed = task
    occurrences = synthetic_council(
        council, years, items, _TITLES, random.Random(seed * 1_000_003 + council)
    )
    started = time.perf_counter()
    found = METHODS[method](occurrences)
    return found, time.perf_counter() - started


def measure(name: str, args: argparse.Namespace, titles: list[str]) -> float:
    tasks = [(name, c, args.years, args.items, args.seed) for c in range(args.councils)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(
        args.processes, initializer=_start, initargs=(titles,), maxtasksperchild=200
    ) as pool:
        results = list(pool.imap_unordered(one_council, tasks, chunksize=4))
    elapsed = time.perf_counter() - started
    items = sum(found for found, _ in results)
    matching = sum(seconds for _, seconds in results)
    print(f"{name:<22} {elapsed:8.2f} s wall   {matching:8.2f} s matching   {items:>8} items")
    return elapsed


def peak_rss_mb(processes: int) -> float:
    """An upper bound of the whole run's peak: this process plus `processes` workers each
    at the largest any worker reached (ru_maxrss, KB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    largest_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + largest_worker * processes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=200)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    titles = corpus_titles(args.corpus)
    total = args.councils * args.years * args.items
    print(
        f"{total} occurrences in {args.councils} councils, made and matched one council "
        f"at a time in {args.processes} processes"
    )
    baseline = measure("baseline: exact code", args, titles)
    ours = measure("councilreg match", args, titles)
    print(f"councilreg / baseline time: {ours / baseline:.1f}x")
    goal = 120 if total >= 1_000_000 else 60
    print(
        f"peak memory: {peak_rss_mb(args.processes):.0f} MB (this process plus {args.processes} workers at "
        f"their largest; target < 2048 MB); time target < {goal} s: "
        f"{'met' if ours < goal else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
