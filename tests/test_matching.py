"""Matching as data: left/right/expected pairs from real plan titles, and invariants."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from corpus.comparisons import (
    DEFAULT_WEIGHTS,
    Bounded,
    Pair,
    Weights,
    assess,
    assess_reaching,
    title_similarity,
)
from corpus.learning import Judged, learn_weights
from corpus.matching import MatchSettings, Register, TitleSimilarity, match
from corpus.normalise import code_stem, content_stems, is_sequence_code, normalise_text
from corpus.occurrence import Occurrence

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = MatchSettings()


def _occurrence(key: int, period: int, title: str, code: str | None = None, **extra) -> Occurrence:
    kind = extra.pop("kind", "action")
    return Occurrence.build(key=key, period=period, kind=kind, title=title, code=code, **extra)


def _score(left: Occurrence, right: Occurrence) -> float:
    pair = Pair(left, right, title_similarity(left.title_norm, right.title_norm))
    return assess(pair).score


# (left code, left title, right code, right title, expected): "auto" must link without review,
# "review" must be at least queued, "apart" must never link automatically.
PAIRS = [
    # Seed 001/002: sibling items in the same plan are hard negatives.
    (
        "KA.87",
        "Review of Shared Audit Service.",
        "KA.88",
        "Review of Shared Anti-Fraud Service.",
        "apart",
    ),
    (
        "KA.137",
        "Maximisation of in-year council tax collection.",
        "KA.145",
        "Maximisation of in-year Business Rates collection.",
        "apart",
    ),
    (
        "KA.27",
        "Optimisation of on-street parking for all user groups",
        "KA.45",
        "Optimisation of off-street parking for all user groups",
        "apart",
    ),
    (
        "MWVPI 5.13a",
        "Customer Satisfaction (GovMetric) Face to Face",
        "MWVPI 5.13b",
        "Customer satisfaction (GovMetric) telephone",
        "apart",
    ),
    (
        "BVPI 15",
        "Ill health retirements as a % of the total workforce",
        "BVPI 14",
        "Early retirements as a % of the total workforce",
        "apart",
    ),
    # The same commitment, reworded or renumbered the next year.
    (
        "KA.12",
        "Re-tendering of Grounds Maintenance Contract",
        "KA.12",
        "Re-tender Grounds Maintenance Contract",
        "auto",
    ),
    (
        "SF731",
        "% of Contact Centre calls abandoned (Service Level Agreement)",
        "SF731",
        "% of Contact Centre Calls Abandoned",
        "auto",
    ),
    (
        "NI 14",
        "Avoidable contact: the proportion of customer contact that is of low or no value",
        "NI014",
        "The % of customer contact which is of low or no value to the customer",
        "auto",
    ),
    (
        "14-HH02",
        "Register of Kestrel Downs land drainage assets",
        "15-HH02",
        "Register of Kestrel Downs land drainage assets and report progress",
        "auto",
    ),
    (
        "KA.3",
        "Produce a balanced budget for the following financial year.",
        "KA.3",
        "Produce a Balanced Budget",
        "review",
    ),
    (
        "ACTION 03",
        "Hard-to-reach & vulnerable residents",
        "ACTION 03",
        "Hard-to-reach and vulnerable residents across the district",
        "review",
    ),
    (
        "1.3.3",
        "Ensure a comprehensive and consistent approach to service planning",
        "1.3.3",
        "Make sure a comprehensive and consistent approach to service planning",
        "auto",
    ),
]


@pytest.mark.parametrize(("left_code", "left", "right_code", "right", "expected"), PAIRS)
def test_pairs_from_real_plans(
    left_code: str, left: str, right_code: str, right: str, expected: str
) -> None:
    score = _score(_occurrence(1, 2016, left, left_code), _occurrence(2, 2017, right, right_code))
    if expected == "auto":
        assert score >= DEFAULTS.auto
    elif expected == "review":
        assert score >= DEFAULTS.review
    else:
        assert score < DEFAULTS.auto


@pytest.mark.parametrize("floor", [-8.0, -4.0, -1.7, 0.0, 3.5, 8.0])
def test_a_pair_is_set_aside_early_only_when_its_whole_assessment_is_below_the_floor(
    floor: float,
) -> None:
    bounded = Bounded.of(DEFAULT_WEIGHTS)
    occurrences = [
        _occurrence(number, 2016 + number % 3, title, code)
        for number, (code, title) in enumerate(
            [(row[0], row[1]) for row in PAIRS] + [(row[2], row[3]) for row in PAIRS]
        )
    ]
    for left in occurrences:
        for right in occurrences:
            pair = Pair(left, right, title_similarity(left.title_norm, right.title_norm))
            whole = assess(pair)
            early = assess_reaching(pair, floor, bounded)
            if whole.weight < floor:
                assert early is None
            else:
                assert early == whole
                assert list(early.parts) == list(whole.parts)


def test_siblings_in_both_years_pair_up_by_assignment_not_by_first_come() -> None:
    """Both sibling items recur: each year's "Audit" finds last year's "Audit", not "Anti-Fraud"."""
    first = [
        _occurrence(1, 2017, "Review of Shared Audit Service.", "KA.15"),
        _occurrence(2, 2017, "Review of Shared Anti-Fraud Service.", "KA.16"),
    ]
    second = [
        _occurrence(3, 2018, "Review Shared Anti-Fraud Service by the end of 2018/19", "KA.28"),
        _occurrence(4, 2018, "Review Shared Audit Service by the end of 2018/19", "KA.27"),
    ]
    register = Register()
    placements = {p.occurrence.key: p for p in match(first + second, register)}
    assert placements[3].item == placements[2].item
    assert placements[4].item == placements[1].item


def test_an_item_appears_once_a_year_and_may_skip_a_year() -> None:
    occurrences = [
        _occurrence(1, 2014, "Publish the Register of Electors", "KA.36"),
        _occurrence(2, 2015, "Publish the Register of Electors", "KA.36"),
        _occurrence(3, 2015, "Publish the register of electors", "KA.37"),
        _occurrence(4, 2017, "Publish the Register of Electors", "KA.36"),
    ]
    placements = {p.occurrence.key: p for p in match(occurrences, Register())}
    assert {placements[2].item, placements[3].item} != {placements[1].item}
    assert placements[2].item == placements[1].item
    assert placements[3].state == "new"
    assert placements[4].item == placements[1].item


def test_a_record_pending_against_the_wrong_item_is_no_route_for_an_automatic_link() -> None:
    """Year 2's sibling is only suggested for year 1's item; year 3 repeats year 2 word for
    word. Had the suggestion counted as a member, year 3 would join automatically through
    it and the wrong merge would go unseen; it must wait for review like year 2."""
    audit = _occurrence(1, 2010, "Review of Shared Audit Service.", "KA.87")
    fraud = [
        _occurrence(key, year, "Review of Shared Anti-Fraud Service.", "KA.87")
        for key, year in ((2, 2011), (3, 2012))
    ]
    placements = match([audit, *fraud], Register())
    assert [(p.occurrence.key, p.state, p.item) for p in placements] == [
        (1, "new", 1),
        (2, "pending", 1),
        (3, "pending", 1),
    ]


KPIS = [
    ("NI 155", "Number of affordable homes delivered (gross)"),
    ("NI 157a", "Processing of planning applications: major applications"),
    ("NI 191", "Residual household waste per household"),
    ("NI 192", "Percentage of household waste sent for reuse, recycling and composting"),
    ("BV 12", "Working days lost due to sickness absence"),
    ("LPI 3", "Average time to process new housing benefit claims"),
]


def test_quarterly_reports_of_a_year_and_the_next_years_first_follow_one_item_per_kpi() -> None:
    """Q1 to Q4 of 2023/24 (four documents of one period, in meeting order) and Q1 of
    2024/25: each indicator is one item with five occurrences, linked without review."""
    reports = [(2023, point, document) for document, point in enumerate((1, 2, 3, 4), start=1)]
    reports.append((2024, 1, 5))
    occurrences = [
        _occurrence(
            len(reports) * index + document, period, title, code, document=document, point=point
        )
        for period, point, document in reports
        for index, (code, title) in enumerate(KPIS)
    ]
    placements = match(occurrences, Register())
    items: dict[int, list[tuple[int, str]]] = {}
    for placement in placements:
        items.setdefault(placement.item, []).append(
            (placement.occurrence.document, placement.state)
        )
    assert len(items) == len(KPIS)
    for history in items.values():
        assert history == [(1, "new"), (2, "auto"), (3, "auto"), (4, "auto"), (5, "auto")]


def test_plans_of_different_services_in_one_year_never_join_each_other() -> None:
    """Two documents of one year that share one row are two services' plans, not versions
    of one: nothing of the second joins an item of the first, not even the shared row."""
    first = [
        _occurrence(index, 2023, title, code, document=1)
        for index, (code, title) in enumerate(KPIS[:4], start=1)
    ]
    second = [
        _occurrence(10, 2023, KPIS[0][1], KPIS[0][0], document=2),
        _occurrence(11, 2023, "Customer satisfaction with the contact centre", "CS 1", document=2),
        _occurrence(12, 2023, "Calls answered within 20 seconds", "CS 2", document=2),
        _occurrence(13, 2023, "Complaints answered within ten working days", "CS 3", document=2),
    ]
    placements = match([*first, *second], Register())
    assert {p.state for p in placements} == {"new"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "Deliver a programme of energy efficiency improvements to council homes",
            "Working with housing associations, deliver a programme of energy efficiency "
            "improvements to council homes during 2015/16",
        ),
        (
            "Produce a new customer access strategy for the council",
            "Subject to Cabinet approval, produce a new customer access strategy for the "
            "council by March",
        ),
    ],
)
def test_a_title_with_a_clause_added_keeps_every_word_and_scores_as_the_same_item(
    before: str, after: str
) -> None:
    """Edit distance alone puts these near the review line; that the shorter title's words
    are all in the longer one is the evidence (a sibling swaps a word instead)."""
    left, right = _occurrence(1, 2014, before), _occurrence(2, 2015, after)
    pair = Pair(left, right, title_similarity(left.title_norm, right.title_norm))
    assessment = assess(pair)
    assert assessment.parts["containment"][1] == "one title holds all the other's words"
    assert assessment.score > 0.85


def test_a_hesitation_between_two_items_names_the_other_one() -> None:
    """Two sibling items last year, one record this year between them: it is asked, not
    linked, and the explanation names the item it could also have joined."""
    audit = _occurrence(1, 2010, "Review of Shared Audit Service")
    fraud = _occurrence(2, 2010, "Review of Shared Anti-Fraud Service")
    both = _occurrence(3, 2011, "Review of the Shared Audit and Anti-Fraud Service")
    placements = {p.occurrence.key: p for p in match([audit, fraud, both], Register())}
    middle = placements[3]
    assert middle.state == "pending"
    explained = middle.breakdown()
    assert explained["rival_item"] in {1, 2} - {middle.item}
    assert explained["rival_weight"] is not None


def test_a_forbidden_record_never_joins_the_item() -> None:
    register = Register()
    match([_occurrence(1, 2016, "Review CCTV", "KA.30")], register)
    register.items[1].forbidden.add(2)
    [placement] = match([_occurrence(2, 2017, "Review CCTV", "KA.30")], register)
    assert placement.state == "new"
    assert placement.item != 1


def test_breakdown_explains_every_field() -> None:
    left = _occurrence(1, 2016, "Review CCTV", "KA.30", officers=["Head of Community Safety"])
    right = _occurrence(2, 2017, "Review CCTV", "KA.32", officers=["Head of Community Safety"])
    breakdown = assess(Pair(left, right, 1.0)).as_breakdown()
    fields = breakdown["fields"]
    assert isinstance(fields, dict)
    assert fields["title"] == {"weight": 7.0, "reason": "same wording"}
    assert fields["code"] == {"weight": -1.0, "reason": "different row number"}
    assert fields["officers"] == {"weight": 1.0, "reason": "same officer"}
    assert fields["indicators"] == {"weight": 0.0, "reason": "no evidence"}


@pytest.mark.parametrize(
    ("code", "stem", "sequence"),
    [
        ("14-HH02", "HH002", False),
        ("15-HH02", "HH002", False),
        ("KA.12", "KA.12", True),
        ("1.3.2", "1.3.2", True),
        ("ACTION 22", "ACTION022", True),
        ("NI014a", "NI014a", False),
    ],
)
def test_code_stems(code: str, stem: str, sequence: bool) -> None:
    assert code_stem(code) == stem
    assert is_sequence_code(code) is sequence


@given(st.text(max_size=80))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert content_stems(once) == content_stems(text)


TITLES = st.sampled_from(
    [
        "Review of Shared Audit Service",
        "Review of Shared Anti-Fraud Service",
        "Publish the Register of Electors",
        "Develop a tree management strategy for council-owned land",
        "% of calls answered within 20 seconds",
        "Number of homelessness preventions",
        "Deliver the Community Safety Partnership plan",
    ]
)
SERIES = st.lists(
    st.tuples(
        st.integers(2010, 2014), TITLES, st.sampled_from([None, "KA.1", "KA.2", "PP35", "PP37"])
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(SERIES, st.integers(2011, 2014))
def test_adding_later_years_never_moves_earlier_placements(series, cut: int) -> None:
    occurrences = [
        _occurrence(k, year, title, code) for k, (year, title, code) in enumerate(series)
    ]
    register = Register()
    early = {
        p.occurrence.key: (p.state, p.item)
        for p in match([o for o in occurrences if o.period < cut], register)
    }
    match([o for o in occurrences if o.period >= cut], register)
    for item in register.items.values():
        periods = [member.period for member in item.members]
        assert len(periods) == len(set(periods)), "an item appears at most once a year"
    at_once = {
        p.occurrence.key: (p.state, p.item)
        for p in match([o for o in occurrences if o.period < cut], Register())
    }
    assert early == at_once


@pytest.mark.slow
def test_corpus_series_meet_the_quality_bar(corpus: Path) -> None:
    """Gold records of every corpus series, matched and scored by the shared scorer."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "match_corpus.py"),
            str(corpus),
            "--json",
            "--no-baselines",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(result.stdout)["councilreg (gold records)"]
    assert figures["auto_only"]["precision"] >= 0.995
    assert figures["after_oracle_review"]["recall"] >= 0.97
    assert figures["review_load"] <= 0.10


def test_with_no_judgements_the_weights_are_the_hand_set_ones() -> None:
    assert learn_weights([]) == DEFAULT_WEIGHTS


def _row_number_sibling() -> Judged:
    """A pair a reviewer rejected: titles similar, the same row number, nothing else."""
    return Judged(
        {"title": "similar wording", "code": "same row number", "officers": "no evidence"},
        same=False,
    )


def test_rejections_lower_the_weight_of_what_they_share_more_as_they_accumulate() -> None:
    def weight(weights: Weights) -> float:
        [code] = [c for c in weights.comparisons if c.name == "code"]
        return next(level.weight for level in code.levels if level.label == "same row number")

    few = learn_weights([_row_number_sibling() for _ in range(3)])
    many = learn_weights([_row_number_sibling() for _ in range(60)])
    assert weight(many) < weight(few) < weight(DEFAULT_WEIGHTS)
    assert weight(DEFAULT_WEIGHTS) - weight(many) < 4, "the prior keeps a weight from running off"
    siblings = Pair(
        _occurrence(1, 2016, "Review the parking strategy", "KA.7"),
        _occurrence(2, 2017, "Review the parking enforcement strategy", "KA.7"),
        0.85,
    )
    assert assess(siblings, many).score < assess(siblings, DEFAULT_WEIGHTS).score


def test_confirmations_raise_the_score_of_pairs_like_them() -> None:
    confirmed = [
        Judged(
            {"title": "some words shared", "containment": "one title holds all the other's words"},
            True,
        )
        for _ in range(40)
    ]
    pair = Pair(
        _occurrence(1, 2016, "Deliver the housing strategy action plan"),
        _occurrence(2, 2017, "Deliver the housing strategy action plan subject to Member approval"),
        0.75,
    )
    assert assess(pair, learn_weights(confirmed)).score > assess(pair).score


def test_kept_title_similarities_are_those_of_comparing_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Documents come one after another, wordings repeat and new ones arrive; what the
    kept similarities give is what one fresh comparison gives, also once they are
    forgotten for taking too much room."""
    wordings = [normalise_text(row[1]) for row in PAIRS] + [normalise_text(row[3]) for row in PAIRS]
    documents = [wordings[0:6], wordings[3:12], wordings[8:20], wordings[0:24:2]]
    for room in (10**9, 200):
        monkeypatch.setattr("corpus.matching.KEPT_SIMILARITIES", room)
        kept = TitleSimilarity()
        members: list[str] = []
        for document in documents:
            if members:
                afresh = TitleSimilarity().between(document, members)
                assert np.array_equal(kept.between(document, members), afresh)
                assert afresh[0, 0] == pytest.approx(
                    title_similarity_without_truncation(document[0], members[0]), abs=0.005
                )
            members = list(dict.fromkeys(members + document))


def title_similarity_without_truncation(left: str, right: str) -> float:
    return (fuzz.ratio(left, right) + fuzz.token_set_ratio(left, right)) / 200


def test_automatic_links_hold_the_sure_patterns_that_rejections_share_levels_with() -> None:
    """Reviewers reject renumbered rows with merely similar titles; the same wording
    renumbered, linked automatically hundreds of times and never asked about, must stay
    above the auto line: fitted to the rejections alone it falls far below."""
    shared = {"code": "different row number", "officers": "same officer"}
    rejected = [Judged({"title": "similar wording", **shared}, same=False)] * 30
    sure = {"title": "same wording", **shared}
    pair = Pair(
        _occurrence(1, 2016, "Review the parking strategy", "KA.7", officers=["Ann Lee"]),
        _occurrence(2, 2017, "Review the parking strategy", "KA.9", officers=["Ann Lee"]),
        1.0,
    )
    assert assess(pair).score >= DEFAULTS.auto
    assert assess(pair, learn_weights(rejected)).score < DEFAULTS.auto
    assert assess(pair, learn_weights(rejected, [sure] * 300)).score >= DEFAULTS.auto
