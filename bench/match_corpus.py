"""Matching quality on the corpus series, against two naive baselines, scored by score.py.

    python bench/match_corpus.py ../shared/corpus                  # gold records as input
    python bench/match_corpus.py ../shared/corpus --occurrences F  # also score a CLI export
    python bench/match_corpus.py ../shared/corpus --json           # figures for scripts
    python bench/match_corpus.py ../shared/corpus --no-baselines   # councilreg only (the scorer is slow)

With gold records as input the figures measure matching alone, free of extraction errors;
the ``--occurrences`` export (ingest → match → export) measures the product end to end.
Every method is scored in the same run by ../shared/eval/score.py, so figures compare.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz, process

from corpus.matching import MatchSettings, Register, match
from corpus.occurrence import Occurrence

Row = dict[str, str]
Method = Callable[[list[tuple[str, dict]]], list[Row]]


def load_series(corpus: Path) -> dict[str, list[tuple[str, dict]]]:
    """Gold documents grouped by council, each with its file name."""
    series: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for path in sorted(corpus.glob("*.gold.json")):
        gold = json.loads(path.read_text())
        series[gold["council"]].append((gold["file"], gold))
    return series


def _occurrences(documents: list[tuple[str, dict]]) -> list[tuple[Occurrence, str, dict]]:
    out: list[tuple[Occurrence, str, dict]] = []
    for number, (file, gold) in enumerate(documents):
        first_year = int(gold["period"]["start"][:4])
        for record in gold["records"]:
            occurrence = Occurrence.build(
                key=len(out) + 1,
                period=first_year,
                kind=record["kind"],
                title=record["title"],
                code=record["code"],
                indicators=record.get("indicators", []),
                officers=record.get("officers", []),
                document=number,
            )
            out.append((occurrence, file, record))
    return out


def _row(file: str, record: dict, item: str, state: str, suggested: str = "") -> Row:
    return {
        "canonical_id": item,
        "source_file": file,
        "code": record["code"] or "",
        "title": record["title"],
        "link_state": state,
        "suggested_canonical_id": suggested,
    }


def councilreg(settings: MatchSettings) -> Method:
    def run(documents: list[tuple[str, dict]]) -> list[Row]:
        occurrences = _occurrences(documents)
        placements = {
            p.occurrence.key: p for p in match([o for o, _, _ in occurrences], Register(), settings)
        }
        rows = []
        for occurrence, file, record in occurrences:
            placement = placements[occurrence.key]
            item = f"{documents[0][1]['council']}#{placement.item}"
            suggested = item if placement.state == "pending" else ""
            rows.append(_row(file, record, item, placement.state, suggested))
        return rows

    return run


def exact_code(documents: list[tuple[str, dict]]) -> list[Row]:
    """Baseline: the same normalised code is the same item; no code, a new item."""
    rows = []
    for index, (occurrence, file, record) in enumerate(_occurrences(documents)):
        item = occurrence.code_key or f"row-{index}"
        rows.append(_row(file, record, f"{documents[0][1]['council']}#{item}", "auto"))
    return rows


def title_ratio(documents: list[tuple[str, dict]], threshold: float = 85.0) -> list[Row]:
    """Baseline: join the earlier item whose title is most alike, if at least ``threshold``."""
    ids: list[str] = []
    titles: list[str] = []
    rows = []
    occurrences = sorted(_occurrences(documents), key=lambda o: (o[0].period, o[0].key))
    for occurrence, file, record in occurrences:
        best = process.extractOne(
            occurrence.title_norm, titles, scorer=fuzz.ratio, score_cutoff=threshold
        )
        if best is not None:
            rows.append(_row(file, record, ids[best[2]], "auto"))
        else:
            ids.append(f"{documents[0][1]['council']}#{len(ids)}")
            titles.append(occurrence.title_norm)
            rows.append(_row(file, record, ids[-1], "new"))
    return rows


def score(corpus: Path, rows: list[Row], scorer: Path) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return score_file(corpus, Path(handle.name), scorer)


def score_file(corpus: Path, occurrences: Path, scorer: Path) -> dict:
    result = subprocess.run(
        [sys.executable, str(scorer), "match", str(corpus), str(occurrences), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def describe(name: str, figures: dict) -> str:
    auto, oracle = figures["auto_only"], figures["after_oracle_review"]
    return (
        f"{name:<28} auto P {auto['precision']:.4f} R {auto['recall']:.4f}   "
        f"after review P {oracle['precision']:.4f} R {oracle['recall']:.4f}   "
        f"review load {figures['review_load']:.4f}   aligned {figures['aligned_to_gold']}/{figures['gold_records']}"
    )


def main() -> None:
    corpus = Path(sys.argv[1])
    scorer = corpus.parent / "eval" / "score.py"
    series = load_series(corpus)
    methods: dict[str, Method] = {
        "councilreg (gold records)": councilreg(MatchSettings()),
        "baseline: exact code": exact_code,
        "baseline: title ratio >= 85": title_ratio,
    }
    if "--no-baselines" in sys.argv:
        methods = dict(list(methods.items())[:1])
    figures = {}
    for name, method in methods.items():
        rows = [row for documents in series.values() for row in method(documents)]
        figures[name] = score(corpus, rows, scorer)
    if "--occurrences" in sys.argv:
        exported = Path(sys.argv[sys.argv.index("--occurrences") + 1])
        figures["councilreg (end to end)"] = score_file(corpus, exported, scorer)
    if "--json" in sys.argv:
        print(json.dumps(figures, indent=2))
        return
    for name, result in figures.items():
        print(describe(name, result))


if __name__ == "__main__":
    main()
