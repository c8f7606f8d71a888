"""The field pipeline: real cell texts from council plans (../shared/seeds), and properties."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spacy.tokens import Doc

from parsers.fields.deadlines import DeadlineParser
from parsers.fields.officers import split_officers
from parsers.fields.pipeline import PIPELINE_DIR, build_pipeline, load_pipeline, recognise
from parsers.model import Record
from tests.conftest import CORPUS


def read(text: str, period_start: dt.date | None = None) -> Doc:
    nlp = load_pipeline()
    doc = nlp.make_doc(text)
    doc._.period_start = period_start
    return nlp(doc)


def test_the_shipped_pipeline_is_what_the_rules_build(tmp_path: Path) -> None:
    """Fails until scripts/build_pipeline.py is run after a vocabulary or grammar change."""
    build_pipeline().to_disk(tmp_path)
    for part in ("config.cfg", "span_ruler/patterns"):
        assert (PIPELINE_DIR / part).read_text() == (tmp_path / part).read_text(), part
    assert load_pipeline().pipe_names == [
        "span_ruler",
        "indicator_codes",
        "deadline_dates",
        "officer_posts",
        "rag_status",
    ]


def test_record_identities_travel_with_their_texts() -> None:
    records = [
        Record("action", "KA.1", "One", sources={"deadline": "Mar 11", "status": "Green"}),
        Record("action", "KA.2", "Two", sources={"officer": "Richard May / Paul Knight"}),
        Record("indicator", "NI014", "Three", sources={"indicators": "NI014 – contact NI 14a"}),
    ]
    recognise(records, period_start=dt.date(2010, 4, 1))
    assert (records[0].deadlines, records[0].status) == ([dt.date(2011, 3, 31)], "green")
    assert [(o.text, o.is_role) for o in records[1].officers] == [
        ("Richard May", False),
        ("Paul Knight", False),
    ]
    assert (records[2].indicators, records[2].indicator_keys) == (["NI 14a"], ["NI014a"])


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("NI 14", ["NI014"]),
        ("NI014", ["NI014"]),
        ("NI-014", ["NI014"]),
        ("BV 12 and BVPI 12", ["BV012"]),
        ("NI014a – avoidable contact", ["NI014a"]),
        ("MEHPI 132 Number of food premises inspected", ["MEHPI132"]),
        (
            "QEHPI 150 – Number of prevented homeless applications [Collected Quarterly]",
            ["QEHPI150"],
        ),
        ("SX028a - % of Council PIs that are improving", ["SX028a"]),
        ("Local 40 – fly-tipping incidents cleared", ["LOCAL040"]),
        ("Improve the leisure centre", []),
    ],
)
def test_indicator_codes_are_spans_with_normalised_keys(text: str, keys: list[str]) -> None:
    doc = read(text)
    assert [span.id_ for span in doc.spans["indicators"]] == keys
    assert {span.label_ for span in doc.spans["indicators"]} <= {"INDICATOR"}


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Green", "green"),
        ("G", "green"),
        ("Action On Target", "green"),
        ("On track", "green"),
        ("Action Off Target", "red"),
        ("AMBER", "amber"),
        ("Completed", "complete"),
        ("Action Completed", "complete"),
        ("Grey – not updated", "grey"),
        ("Revised Completion Date", None),
        ("Not actioned", None),
        ("Works at the Red Lion car park begin", None),
        ("Red – slipped to Q3", "red"),
        ("n/a", None),
    ],
)
def test_status_phrases(text: str, status: str | None) -> None:
    doc = read(text)
    assert doc._.status == status
    assert all(span.id_ == status for span in doc.spans["status"])


def test_officer_spans_say_person_or_role() -> None:
    doc = read("Richard May / Head of Housing and Health")
    assert [(s.text, s.label_) for s in doc.spans["officers"]] == [
        ("Richard May", "PERSON"),
        ("Head of Housing and Health", "ROLE"),
    ]


@pytest.mark.parametrize(
    ("text", "period_start", "expected"),
    [
        ("Mar 11", None, dt.date(2011, 3, 31)),
        ("31-Dec-99", dt.date(1999, 4, 1), dt.date(1999, 12, 31)),
        ("Mar 00", dt.date(1999, 4, 1), dt.date(2000, 3, 31)),
        ("Mar 99", dt.date(2001, 4, 1), dt.date(1999, 3, 31)),
    ],
)
def test_two_digit_years_are_read_against_the_period(
    text: str, period_start: dt.date | None, expected: dt.date
) -> None:
    doc = read(text, period_start)
    assert doc._.deadlines == [expected]
    assert [s.id_ for s in doc.spans["deadlines"]] == [expected.isoformat()]


def test_non_dates_are_kept_as_words_with_no_date() -> None:
    doc = read("Ongoing – throughout year")
    assert doc._.deadlines == []
    assert {s.label_ for s in doc.spans["vocabulary"]} == {"NON_DATE"}


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_a_two_digit_year_lands_within_fifty_years_of_the_period(period_start: dt.date) -> None:
    for found in DeadlineParser(period_start=period_start).parse("Mar 50 and 31-Dec-07"):
        assert abs(found.year - period_start.year) <= 50


def test_printed_deadline_cells_give_the_gold_dates() -> None:
    """Every deadline cell in the corpus gold, read alone: nearly all give exactly the gold dates."""
    cells = {
        record["deadline_text"]: record["deadlines"]
        for gold in sorted(CORPUS.glob("*.gold.json"))
        for record in json.loads(gold.read_text())["records"]
        if record.get("deadline_text") and not record.get("deadlines_optional")
    }
    wrong = {
        text: dates
        for text, dates in cells.items()
        if [d.isoformat() for d in read(text)._.deadlines] != dates
    }
    assert len(cells) > 300
    assert len(wrong) / len(cells) <= 0.02, wrong


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31-Dec-12", ["2012-12-31"]),
        ("Sept 2010", ["2010-09-30"]),
        ("Mar 11", ["2011-03-31"]),
        ("7 th March 2017", ["2017-03-07"]),
        ("end June 2017", ["2017-06-30"]),
        ("(1) Apr 2010 (2) May 2010 (3) Jun 2010", ["2010-04-30", "2010-05-31", "2010-06-30"]),
        ("April 2017 September 2017 September 2017", ["2017-04-30", "2017-09-30"]),
        ("15/10/2017", ["2017-10-15"]),
        ("Mar 2011 (all)", ["2011-03-31"]),
        ("Q3 2019/20", ["2019-12-31"]),
        ("Funded to March ‘25", ["2025-03-31"]),
        ("Ongoing", []),
        ("TBC", []),
        ("2016 - 2017", []),
        ("2016/2017", []),
    ],
)
def test_deadlines(text: str, expected: list[str]) -> None:
    assert [d.isoformat() for d in DeadlineParser().parse(text)] == expected


def test_deadline_parser_returns_dates() -> None:
    assert DeadlineParser().parse("August 2017 (or sooner)") == [dt.date(2017, 8, 31)]


@pytest.mark.parametrize(
    ("cell", "officers"),
    [
        ("Richard May / Paul Knight", ["Richard May", "Paul Knight"]),
        ("Head of Housing and Health", ["Head of Housing and Health"]),
        (
            "Facilities Manager and Procurement Officer",
            ["Facilities Manager", "Procurement Officer"],
        ),
        (
            "Procurement Officer, Facilities Manager and Property Team",
            ["Procurement Officer", "Facilities Manager", "Property Team"],
        ),
        (
            "Head of Legal and Democratic Services and Legal Services Manager",
            ["Head of Legal and Democratic Services", "Legal Services Manager"],
        ),
        (
            "Head of Planning and Building Control and Conservation and Urban Design Officer",
            ["Head of Planning and Building Control", "Conservation and Urban Design Officer"],
        ),
        ("Procurement Officer Procurement Officer Procurement Officer", ["Procurement Officer"]),
        ("Sarah\nGilchrist\nStephen Kershaw", ["Sarah Gilchrist", "Stephen Kershaw"]),
        (
            "Procurement Officer.\nSpecific roles and\nresponsibilities to be clarified.",
            ["Procurement Officer"],
        ),
        ("Service Manager – Environmental Health", ["Service Manager – Environmental Health"]),
        ("Martin Lambourne Stephen Gilchrist", ["Martin Lambourne", "Stephen Gilchrist"]),
        ("Economic Development\nTeam Leader", ["Economic Development Team Leader"]),
        ("Various dependant on project", ["Various dependant on project"]),
        ("– Service Manager – Housing Services", ["Service Manager – Housing Services"]),
        ("Head of Housing\nand Health", ["Head of Housing and Health"]),
    ],
)
def test_officer_cells_from_real_plans(cell: str, officers: list[str]) -> None:
    assert [o.text for o in split_officers(cell)] == officers


DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2049, 12, 31))
DAY_FORMATS = ["%d-%b-%y", "%d %B %Y", "%d/%m/%Y", "%d %b %Y", "%d-%b-%Y"]
MONTH_FORMATS = ["%B %Y", "%b %Y", "%b %y", "end %B %Y"]


def _month_end(day: dt.date) -> dt.date:
    following = day.replace(day=28) + dt.timedelta(days=4)
    return following - dt.timedelta(days=following.day)


@given(DAYS, st.sampled_from(DAY_FORMATS))
def test_a_rendered_day_parses_back_to_itself(day: dt.date, form: str) -> None:
    assert DeadlineParser().parse(day.strftime(form)) == [day]


@given(DAYS, st.sampled_from(MONTH_FORMATS))
def test_a_rendered_month_parses_to_its_last_day(day: dt.date, form: str) -> None:
    assert DeadlineParser().parse(day.strftime(form)) == [_month_end(day)]


@given(st.lists(DAYS, min_size=2, max_size=4))
def test_numbered_milestones_keep_their_order(days: list[dt.date]) -> None:
    text = " ".join(f"({n}) {d.strftime('%b %Y')}" for n, d in enumerate(days, start=1))
    assert DeadlineParser().parse(text) == list(dict.fromkeys(_month_end(d) for d in days))


@given(st.text(max_size=60))
def test_parsing_never_raises(text: str) -> None:
    for found in DeadlineParser().parse(text):
        assert isinstance(found, dt.date)


@pytest.mark.parametrize(
    ("text", "is_role"),
    [
        ("Richard May", False),
        ("Dr Sarah Gilchrist", False),
        ("Georgina Hayward", False),
        ("Head of Housing and Health", True),
        ("Economic Development Team Leader", True),
        ("Economic Development", True),
        ("CSC", True),
    ],
)
def test_a_person_or_a_post(text: str, is_role: bool) -> None:
    (officer,) = split_officers(text)
    assert (officer.text, officer.is_role) == (text, is_role)
