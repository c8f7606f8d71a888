"""Link each period's occurrences to canonical items: block, score, assign one-to-one, decide.

Pure: occurrences and items in, placements out. The register (``corpus.register``) loads
them from the store and writes the result back. Items are never renumbered: an existing
item keeps its key, and new items get the next keys in occurrence order, so adding a year
months later only adds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from scipy.optimize import linear_sum_assignment

from corpus.comparisons import (
    DEFAULT_WEIGHTS,
    Assessment,
    Bounded,
    Pair,
    Weights,
    assess_reaching,
    truncation_similarity,
)
from corpus.occurrence import Occurrence
from corpus.settings import MatchSettings

PlacementState = Literal["new", "auto", "pending"]


DEFAULT_SETTINGS = MatchSettings()


@dataclass
class Item:
    """A canonical item as matching sees it: its members and the periods they fill.

    Placed records (new, auto, confirmed) are `members`. A record waiting for review
    against the item is `tentative`: it holds its period, and a later record may reach
    the item through it only as a suggestion for review, never automatically — if the
    machine's guess was wrong, a successor must not follow it in unseen."""

    key: int
    kind: str
    members: list[Occurrence] = field(default_factory=list)
    forbidden: set[int] = field(default_factory=set)
    tentative: list[Occurrence] = field(default_factory=list)

    def add(self, occurrence: Occurrence) -> None:
        self.members.append(occurrence)


@dataclass(frozen=True)
class Placement:
    """Where one occurrence went: a new item, an item linked automatically, or a suggestion."""

    occurrence: Occurrence
    state: PlacementState
    item: int
    assessment: Assessment | None = None
    rival_weight: float | None = None
    rival_item: int | None = None
    """The other item this record could have joined, when it was the closer runner-up."""

    def breakdown(self, item_ids: Mapping[int, int] | None = None) -> dict[str, object]:
        """The stored explanation, with the runner-up's weight (and item, under the id the
        store gave it: `item_ids` maps the keys of items made in this run) when there was one."""
        if self.assessment is None:
            return {}
        explained = self.assessment.as_breakdown()
        if self.rival_weight is not None:
            explained["rival_weight"] = round(self.rival_weight, 3)
        if self.rival_item is not None:
            explained["rival_item"] = (item_ids or {}).get(self.rival_item, self.rival_item)
        return explained


@dataclass
class TitleSimilarity:
    """Title similarities kept across the documents of one matching: a wording met again
    (most actions keep theirs from year to year) is compared only with the wordings that
    arrived since it was last compared. Values are exactly those of comparing afresh:
    the mean of rapidfuzz's ratio and token-set ratio, in [0, 1]."""

    columns: dict[str, int] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    """Each wording's ratio + token-set ratio (0-200) against ``columns`` in order."""

    def between(self, left: list[str], right: list[str], workers: int = 1) -> np.ndarray:
        if len(self.columns) * (len(self.rows) + len(left)) > KEPT_SIMILARITIES:
            self.columns.clear()
            self.rows.clear()
        for title in right:
            self.columns.setdefault(title, len(self.columns))
        known = list(self.columns)
        waiting: dict[int, list[str]] = defaultdict(list)
        for title in dict.fromkeys(left):
            done = len(self.rows.get(title, ()))
            if done < len(known):
                waiting[done].append(title)
        for done, titles in waiting.items():
            added = known[done:]
            sums = process.cdist(
                titles, added, scorer=fuzz.ratio, dtype=np.uint8, workers=workers
            ).astype(np.uint16) + process.cdist(
                titles, added, scorer=fuzz.token_set_ratio, dtype=np.uint8, workers=workers
            )
            for title, values in zip(titles, sums, strict=True):
                kept = self.rows.get(title)
                self.rows[title] = values if kept is None else np.concatenate((kept, values))
        order = np.array([self.columns[title] for title in right], dtype=np.intp)
        if not left or not len(order):
            return np.zeros((len(left), len(order)))
        return np.stack([self.rows[title][order] for title in left]) / 200.0


KEPT_SIMILARITIES = 50_000_000
"""Past this many kept values (100 MB) the similarities are forgotten and start again."""


@dataclass
class Register:
    """The items of one council, growing as periods are matched."""

    items: dict[int, Item] = field(default_factory=dict)
    next_key: int = 1
    titles: dict[str, TitleSimilarity] = field(default_factory=lambda: defaultdict(TitleSimilarity))
    """Title similarities per kind, kept while this register is matched."""

    def new_item(self, occurrence: Occurrence) -> Item:
        item = Item(self.next_key, occurrence.kind, [occurrence])
        self.items[item.key] = item
        self.next_key += 1
        return item


def match(
    occurrences: Iterable[Occurrence],
    register: Register,
    settings: MatchSettings = DEFAULT_SETTINGS,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Placement]:
    """Place unlinked occurrences document by document, oldest first, growing the register.

    An item holds at most one record of a document. Within one period it may hold a
    record of each report that continues an earlier one of that period — the next
    quarter's report, a revised version — but never two records of unrelated documents
    of one year (two directorates' plans, say)."""
    by_document: dict[tuple[int, int | None], list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        by_document[occurrence.source].append(occurrence)
    seen = _placed_by_document(register)
    placements: list[Placement] = []
    for source, document in sorted(by_document.items(), key=_reading_order):
        period = source[0]
        earlier = {other: held for other, held in seen.items() if other[0] == period}
        continued = continued_documents(document, earlier, settings)
        for kind, group in _by_kind(document):
            placements.extend(
                _place_group(group, kind, source, continued, register, settings, weights)
            )
        seen[source] = document
    return placements


def _reading_order(entry: tuple[tuple[int, int | None], list[Occurrence]]) -> tuple[int, int, int]:
    """Period, then reporting point (a meeting date), then document: oldest first."""
    (period, document), rows = entry
    return (period, rows[0].point, -1 if document is None else document)


def _placed_by_document(register: Register) -> dict[tuple[int, int | None], list[Occurrence]]:
    placed: dict[tuple[int, int | None], list[Occurrence]] = defaultdict(list)
    for item in register.items.values():
        for occurrence in (*item.members, *item.tentative):
            placed[occurrence.source].append(occurrence)
    return placed


CONTINUES_SHARE = 0.5
"""A report continues an earlier one of its period when at least this share of its rows
repeat that report's rows nearly word for word (or by code with a similar title)."""


def continued_documents(
    document: list[Occurrence],
    earlier: dict[tuple[int, int | None], list[Occurrence]],
    settings: MatchSettings,
) -> set[tuple[int, int | None]]:
    """The earlier documents of the period that this one continues: the same table at a
    later reporting point or in a revised version, told by how many of its rows it
    repeats. Plans of different services in one year share few rows and stay apart."""
    continued = set()
    titles = [occurrence.title_norm for occurrence in document]
    for source, rows in earlier.items():
        if not rows or not titles:
            continue
        similarity = process.cdist(
            titles,
            [row.title_norm for row in rows],
            scorer=fuzz.ratio,
            dtype=np.uint8,
            workers=settings.workers,
        ).max(axis=1)
        codes = {row.code_key for row in rows if row.code_key and not row.sequence_code}
        repeated = sum(
            bool(best >= 90) or (occurrence.code_key in codes and bool(best >= 70))
            for best, occurrence in zip(similarity.tolist(), document, strict=True)
        )
        if repeated >= CONTINUES_SHARE * len(document):
            continued.add(source)
    return continued


def _by_kind(occurrences: list[Occurrence]) -> Iterator[tuple[str, list[Occurrence]]]:
    kinds: dict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in sorted(occurrences, key=lambda o: o.key):
        kinds[occurrence.kind].append(occurrence)
    yield from sorted(kinds.items())


def may_hold(
    item: Item, source: tuple[int, int | None], continued: set[tuple[int, int | None]]
) -> bool:
    """Whether the item may take a record of this document: it holds none of the document's
    records, and any it holds from the same period come from reports this one continues."""
    return all(
        held.source != source and (held.period != source[0] or held.source in continued)
        for held in (*item.members, *item.tentative)
    )


def _place_group(
    group: list[Occurrence],
    kind: str,
    source: tuple[int, int | None],
    continued: set[tuple[int, int | None]],
    register: Register,
    settings: MatchSettings,
    weights: Weights,
) -> list[Placement]:
    items = [
        item
        for item in register.items.values()
        if item.kind == kind and may_hold(item, source, continued)
    ]
    assessments, tentative = link_candidates(group, items, settings, weights, register.titles[kind])
    chosen = _assign(assessments, tentative, group, items, settings)
    placements = []
    for row, occurrence in enumerate(group):
        if row in chosen:
            column, assessment, state, rival, rival_column = chosen[row]
            item = items[column]
            if state == "auto":
                item.add(occurrence)
            else:
                item.tentative.append(occurrence)
            rival_item = items[rival_column].key if rival_column is not None else None
            placements.append(Placement(occurrence, state, item.key, assessment, rival, rival_item))
        else:
            item = register.new_item(occurrence)
            placements.append(Placement(occurrence, "new", item.key))
    return placements


def latest_of_each_wording(members: list[Occurrence]) -> list[Occurrence]:
    """Of an item's members that say the same (title, code, indicators, officers, section),
    only the latest: every comparison but the period gap scores them alike, and the gap
    never favours an older one. An item carried unchanged for years is judged once."""
    latest: dict[tuple[object, ...], Occurrence] = {}
    for member in members:
        said = (
            member.title_norm,
            member.code_key,
            member.code_stem,
            member.sequence_code,
            member.indicators,
            member.officers,
            member.section,
        )
        if said not in latest or member.period >= latest[said].period:
            latest[said] = member
    return list(latest.values())


def link_candidates(
    group: list[Occurrence],
    items: list[Item],
    settings: MatchSettings,
    weights: Weights = DEFAULT_WEIGHTS,
    titles: TitleSimilarity | None = None,
) -> tuple[dict[tuple[int, int], Assessment], set[tuple[int, int]]]:
    """Assessments for the (occurrence, item) pairs that blocking lets through, and the
    pairs whose best route is a tentative member (those may only be suggested).

    Blocking keeps a pair when titles are at least ``title_floor`` alike (rapidfuzz
    ``cdist`` for the whole group against every member, through ``titles``, which keeps
    what earlier documents compared), or codes or cited indicators agree. An item is
    judged by its best-scoring member.
    """
    members = [
        (column, member, unsure)
        for column, item in enumerate(items)
        for unsure, kept in ((False, item.members), (True, item.tentative))
        for member in latest_of_each_wording(kept)
    ]
    if not group or not members:
        return {}, set()
    left = [occurrence.title_norm for occurrence in group]
    # A title an item keeps from year to year is compared once, however many members
    # carry it.
    distinct: dict[str, int] = {}
    place = np.array(
        [distinct.setdefault(member.title_norm, len(distinct)) for _, member, _ in members]
    )
    similarity = (titles or TitleSimilarity()).between(left, list(distinct), settings.workers)[
        :, place
    ]
    by_code: dict[str, list[int]] = defaultdict(list)
    by_indicator: dict[str, list[int]] = defaultdict(list)
    for index, (_, member, _) in enumerate(members):
        if member.code_stem:
            by_code[member.code_stem].append(index)
        for indicator in member.indicators:
            by_indicator[indicator].append(index)
    assessments: dict[tuple[int, int], Assessment] = {}
    tentative: set[tuple[int, int]] = set()
    floor = _logit(settings.review)
    bounded = Bounded.of(weights)
    for row, occurrence in enumerate(group):
        candidates = set(np.flatnonzero(similarity[row] >= settings.title_floor).tolist())
        if occurrence.code_stem:
            candidates.update(by_code.get(occurrence.code_stem, ()))
        for indicator in occurrence.indicators:
            candidates.update(by_indicator.get(indicator, ()))
        for index in candidates:
            column, member, unsure = members[index]
            if occurrence.key in items[column].forbidden:
                continue
            title = max(
                float(similarity[row, index]),
                truncation_similarity(occurrence.title_norm, member.title_norm),
            )
            found = assess_reaching(Pair(occurrence, member, title), floor, bounded)
            if found is None:
                continue
            best = assessments.get((row, column))
            if best is None or found.weight > best.weight:
                assessments[(row, column)] = found
                if unsure:
                    tentative.add((row, column))
                else:
                    tentative.discard((row, column))
    return assessments, tentative


def _logit(probability: float) -> float:
    return math.log(probability / (1.0 - probability))


def _assign(
    assessments: dict[tuple[int, int], Assessment],
    tentative: set[tuple[int, int]],
    group: list[Occurrence],
    items: list[Item],
    settings: MatchSettings,
) -> dict[int, tuple[int, Assessment, PlacementState, float | None, int | None]]:
    """One item per occurrence and one occurrence per item, maximising total weight above
    the review line; with each choice, the runner-up's weight and, when the runner-up is
    another item for this occurrence, that item's column."""
    floor = _logit(settings.review)
    eligible = {pair: a for pair, a in assessments.items() if a.weight >= floor}
    if not eligible:
        return {}
    cost = np.zeros((len(group), len(items)))
    for (row, column), assessment in eligible.items():
        cost[row, column] = -(assessment.weight - floor) - 1e-6
    rows, columns = linear_sum_assignment(cost)
    runner_up_for_row: dict[int, list[float]] = defaultdict(list)
    runner_up_for_column: dict[int, list[float]] = defaultdict(list)
    other_items: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (row, column), candidate in assessments.items():
        runner_up_for_row[row].append(candidate.weight)
        runner_up_for_column[column].append(candidate.weight)
        other_items[row].append((candidate.weight, column))
    auto = _logit(settings.auto)
    chosen: dict[int, tuple[int, Assessment, PlacementState, float | None, int | None]] = {}
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        if (row, column) not in eligible:
            continue
        assessment = eligible[(row, column)]
        rival = max(
            _second(runner_up_for_row[row], assessment.weight),
            _second(runner_up_for_column[column], assessment.weight),
        )
        sure = (
            assessment.weight >= auto
            and assessment.weight - rival >= settings.margin
            and (row, column) not in tentative
        )
        state: PlacementState = "auto" if sure else "pending"
        others = [(w, c) for w, c in other_items[row] if c != column]
        best_other = max(others, default=None)
        rival_column = best_other[1] if best_other and best_other[0] >= rival else None
        chosen[row] = (
            column,
            assessment,
            state,
            rival if math.isfinite(rival) else None,
            rival_column,
        )
    return chosen


def _second(weights: list[float], best: float) -> float:
    """The strongest weight other than ``best`` itself (one copy of it is the link)."""
    others = sorted(weights, reverse=True)
    if others and others[0] == best:
        others = others[1:]
    return others[0] if others else -math.inf
