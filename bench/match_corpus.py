"""Matching quality on the corpus series: councilreg beside baselines and Splink, scored
by score.py in one run.

    python bench/match_corpus.py ../shared/corpus                  # gold records as input
    python bench/match_corpus.py ../shared/corpus --occurrences F  # also score a CLI export
    python bench/match_corpus.py ../shared/corpus --json           # figures for scripts
    python bench/match_corpus.py ../shared/corpus --no-baselines   # councilreg only (the scorer is slow)

With gold records as input the figures measure matching alone, free of extraction errors;
the ``--occurrences`` export (ingest → match → export) measures the product end to end.
Every method is scored in the same run by ../shared/eval/score.py, so figures compare;
each line also gives the method's own seconds.

The methods beside councilreg:

* exact code; title ratio ≥ 85 (naive);
* **title + code with assignment**: each document's records assigned one to one to the
  items so far by token-set title similarity plus an exact-code bonus (the Hungarian
  method), linked at 0.85 and above;
* **Splink** (``pip install -e .[bench]``), set up as its guides advise: blocking on
  council and kind across documents, title compared exactly, by Jaro-Winkler and by token
  containment, code exactly, indicators and officers by array overlap; u from random
  pairs, m by expectation maximisation on two blocking passes; then, document by document,
  each record joins the earlier item of its best pair (one record per document), linked
  at probability ≥ 0.99 and queued for review from 0.5.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

from rapidfuzz import fuzz, process

from corpus.comparisons import DEFAULT_WEIGHTS, Weights
from corpus.learning import Judged, learn_weights
from corpus.matching import MatchSettings, Placement, Register, match
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


def councilreg(settings: MatchSettings, weights: Weights = DEFAULT_WEIGHTS) -> Method:
    def run(documents: list[tuple[str, dict]]) -> list[Row]:
        occurrences = _occurrences(documents)
        placements = {
            p.occurrence.key: p
            for p in match([o for o, _, _ in occurrences], Register(), settings, weights)
        }
        rows = []
        for occurrence, file, record in occurrences:
            placement = placements[occurrence.key]
            item = f"{documents[0][1]['council']}#{placement.item}"
            suggested = item if placement.state == "pending" else ""
            rows.append(_row(file, record, item, placement.state, suggested))
        return rows

    return run


def simulated_review(
    placements: list[Placement], truth: Mapping[int, str]
) -> tuple[list[Judged], list[dict[str, str]]]:
    """What a reviewer who knows the truth would say of a matching's suggestions — the
    same item when the record is what the suggested item's first record is — and the
    levels of its automatic links, as `councilreg match --learn` reads them from the
    store (suggestions scored at or above the auto line, queued for a close rival, left
    out)."""
    founder = {p.item: truth[p.occurrence.key] for p in placements if p.state == "new"}
    judged, linked = [], []
    for p in placements:
        if p.assessment is None:
            continue
        levels = {name: reason for name, (_, reason) in p.assessment.parts.items()}
        if p.state == "pending" and p.assessment.score < MatchSettings().auto:
            judged.append(Judged(levels, founder.get(p.item) == truth[p.occurrence.key]))
        elif p.state == "auto":
            linked.append(levels)
    return judged, linked


def councilreg_learned(series: dict[str, list[tuple[str, dict]]]) -> list[Row]:
    """Weights learned from a simulated reviewer, two-fold by council: the suggestions of
    one half of the councils are judged, the weights learned from them, and the other half
    matched with those weights; then the other way round. No council is matched with
    weights learned from its own judgements."""
    councils = sorted(series)
    rows: list[Row] = []
    for learn_from, held_out in (
        (councils[0::2], councils[1::2]),
        (councils[1::2], councils[0::2]),
    ):
        judged: list[Judged] = []
        linked: list[dict[str, str]] = []
        for council in learn_from:
            occurrences = _occurrences(series[council])
            entity = {o.key: record["entity"] for o, _, record in occurrences}
            placements = match([o for o, _, _ in occurrences], Register(), MatchSettings())
            said, sure = simulated_review(placements, entity)
            judged += said
            linked += sure
        learned = councilreg(MatchSettings(), learn_weights(judged, linked))
        rows.extend(row for council in held_out for row in learned(series[council]))
    return rows


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


def title_code_assignment(documents: list[tuple[str, dict]], link: float = 0.85) -> list[Row]:
    """Baseline: each document's records assigned one to one to the items so far, by token-set
    title similarity (0-1) plus 0.5 when the codes are the same; linked at ``link``."""
    from scipy.optimize import linear_sum_assignment

    council = documents[0][1]["council"]
    items: list[tuple[str, str | None]] = []  # (latest title, code) per item
    rows: list[Row] = []
    by_document: dict[int, list[tuple[Occurrence, str, dict]]] = defaultdict(list)
    for entry in _occurrences(documents):
        by_document[entry[0].source[0]].append(entry)
    order = sorted(by_document, key=lambda d: (by_document[d][0][0].period, d))
    for document in order:
        entries = by_document[document]
        chosen: dict[int, int] = {}
        if items:
            scores = (
                process.cdist(
                    [o.title_norm for o, _, _ in entries],
                    [title for title, _ in items],
                    scorer=fuzz.token_set_ratio,
                )
                / 100.0
            )
            for i, (occurrence, _, _) in enumerate(entries):
                for j, (_, code) in enumerate(items):
                    if occurrence.code_key and occurrence.code_key == code:
                        scores[i, j] += 0.5
            for i, j in zip(*linear_sum_assignment(-scores), strict=True):
                if scores[i, j] >= link:
                    chosen[int(i)] = int(j)
        for i, (occurrence, file, record) in enumerate(entries):
            if i in chosen:
                items[chosen[i]] = (occurrence.title_norm, occurrence.code_key)
                rows.append(_row(file, record, f"{council}#{chosen[i]}", "auto"))
            else:
                items.append((occurrence.title_norm, occurrence.code_key))
                rows.append(_row(file, record, f"{council}#{len(items) - 1}", "new"))
    return rows


def splink_rows(
    series: dict[str, list[tuple[str, dict]]], auto: float = 0.99, review: float = 0.5
) -> list[Row]:
    """Splink over every council at once (its model learns from all of them), then each
    council's documents in order: a record joins the item of its most probable earlier
    partner not already holding a record of its document."""
    import pandas as pd
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    records, meta = [], {}
    for council, documents in series.items():
        for occurrence, file, record in _occurrences(documents):
            uid = f"{council}|{occurrence.key}"
            meta[uid] = (council, occurrence, file, record)
            records.append(
                {
                    "unique_id": uid,
                    "council": council,
                    "kind": occurrence.kind,
                    "document": occurrence.source[0],
                    "title": occurrence.title_norm or None,
                    "title_words": sorted(set(occurrence.title_norm.split())) or None,
                    "code": occurrence.code_key,
                    "indicators": sorted(record.get("indicators") or []) or None,
                    "officers": sorted(o.lower() for o in record.get("officers") or []) or None,
                }
            )
    containment = (
        "len(list_intersect(title_words_l, title_words_r)) >= "
        "0.8 * least(len(title_words_l), len(title_words_r))"
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            "l.council = r.council and l.kind = r.kind and l.document <> r.document"
        ],
        comparisons=[
            cl.CustomComparison(
                output_column_name="title",
                comparison_levels=[
                    cll.NullLevel("title"),
                    cll.ExactMatchLevel("title"),
                    cll.JaroWinklerLevel("title", 0.95),
                    cll.CustomLevel(containment, "one title holds the other's words"),
                    cll.JaroWinklerLevel("title", 0.85),
                    cll.JaroWinklerLevel("title", 0.7),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("code"),
            cl.ArrayIntersectAtSizes("indicators", [1]),
            cl.ArrayIntersectAtSizes("officers", [1]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(pd.DataFrame(records), settings, DuckDBAPI(), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        ["l.council = r.council and l.code = r.code"], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("council", "code"), fix_u_probabilities=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("council", "title"), fix_u_probabilities=True
    )
    pairs = linker.inference.predict(threshold_match_probability=review).as_pandas_dataframe()
    best: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for left, right, probability in zip(
        pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"], strict=True
    ):
        best[left].append((probability, right))
        best[right].append((probability, left))
    rows: list[Row] = []
    for council in series:
        item_of: dict[str, str] = {}
        documents_in: dict[str, set[int]] = defaultdict(set)
        mine = [uid for uid, m in meta.items() if m[0] == council]
        order = sorted(mine, key=lambda u: (meta[u][1].period, meta[u][1].source[0]))
        for document in dict.fromkeys(meta[u][1].source[0] for u in order):
            members = [u for u in order if meta[u][1].source[0] == document]
            candidates = sorted(
                (
                    (probability, uid, item_of[other])
                    for uid in members
                    for probability, other in best[uid]
                    if other in item_of
                ),
                reverse=True,
            )
            taken: dict[str, tuple[str, float]] = {}
            for probability, uid, item in candidates:
                if uid in taken or document in documents_in[item]:
                    continue
                if any(chosen == item for chosen, _ in taken.values()):
                    continue
                taken[uid] = (item, probability)
            for uid in members:
                _, occurrence, file, record = meta[uid]
                item, probability = taken.get(uid, ("", 0.0))
                if probability >= auto:
                    item_of[uid] = item
                    documents_in[item].add(document)
                    rows.append(_row(file, record, item, "auto"))
                    continue
                item_of[uid] = f"{council}#s{len(rows)}"
                documents_in[item_of[uid]].add(document)
                state = "pending" if item else "new"
                rows.append(_row(file, record, item_of[uid], state, item))
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
        f"review load {figures['review_load']:.4f}   "
        f"aligned {figures['aligned_to_gold']}/{figures['gold_records']}"
        + (f"   {figures['seconds']:.1f} s" if "seconds" in figures else "")
    )


def main() -> None:
    corpus = Path(sys.argv[1])
    scorer = corpus.parent / "eval" / "score.py"
    series = load_series(corpus)
    methods: dict[str, Method] = {
        "councilreg (gold records)": councilreg(MatchSettings()),
        "baseline: exact code": exact_code,
        "baseline: title ratio >= 85": title_ratio,
        "baseline: title+code assigned": title_code_assignment,
    }
    if "--no-baselines" in sys.argv:
        methods = dict(list(methods.items())[:1])
    figures = {}
    for name, method in methods.items():
        started = time.perf_counter()
        rows = [row for documents in series.values() for row in method(documents)]
        seconds = time.perf_counter() - started
        figures[name] = {**score(corpus, rows, scorer), "seconds": round(seconds, 2)}
    started = time.perf_counter()
    rows = councilreg_learned(series)
    seconds = time.perf_counter() - started
    figures["councilreg, weights learned"] = {
        **score(corpus, rows, scorer),
        "seconds": round(seconds, 2),
    }
    if "--no-baselines" not in sys.argv:
        try:
            started = time.perf_counter()
            rows = splink_rows(series)
            seconds = time.perf_counter() - started
            figures["Splink 4 (expert settings)"] = {
                **score(corpus, rows, scorer),
                "seconds": round(seconds, 2),
            }
        except ImportError:
            print("Splink is not installed (pip install -e .[bench]); left out", file=sys.stderr)
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
