"""The register in a real store (SQLite file and PostgreSQL): matching, review, undo, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from corpus.comparisons import DEFAULT_WEIGHTS
from corpus.export import OCCURRENCE_COLUMNS, REGISTER_COLUMNS, safe_cell
from corpus.matching import MatchSettings
from corpus.register import load_register, reports_continue, run_matching
from corpus.review import ReviewError, apply_decision, last_decision, pending_reviews, undo
from ingest.cli import main
from ingest.unit import IngestOptions, ingest_document
from models import CanonicalItem, Decision, Document, Link, MatchingRun, Record, User
from parsers.periods import parse_period_label
from tests.conftest import SHARED

SERIES = (
    "aldershire-annual-plan-monitoring-q2-2008-09.docx",
    "aldershire-annual-plan-monitoring-q2-2009-10.pdf",
    "aldershire-cc-cabinet-2010-12-20.pdf",
)


def _ingest(sessions: sessionmaker[Session], corpus: Path, names: tuple[str, ...]) -> None:
    for name in names:
        outcome = ingest_document(sessions, corpus / name, IngestOptions())
        assert outcome.status in {"new", "updated"}, outcome


def _links(sessions: sessionmaker[Session]) -> dict[int, tuple[str, int | None, int | None]]:
    with sessions() as session:
        return {
            link.record_id: (link.state, link.canonical_item_id, link.suggested_item_id)
            for link in session.scalars(select(Link))
        }


def _user(session: Session, name: str) -> User:
    user = User(name=name, password_hash="not used here", role="reviewer")
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def matched(sessions: sessionmaker[Session], corpus: Path) -> sessionmaker[Session]:
    _ingest(sessions, corpus, SERIES)
    with sessions() as session:
        [summary] = run_matching(session)
    assert summary.council == "Aldershire County Council"
    assert summary.counts["pending"] >= 3
    return sessions


def test_rerunning_matching_changes_nothing(matched: sessionmaker[Session]) -> None:
    before = _links(matched)
    with matched() as session:
        [summary] = run_matching(session)
    assert summary.counts == {"auto": 0, "pending": 0, "new": 0}
    assert _links(matched) == before


def test_a_later_year_joins_existing_items_without_renumbering(
    sessions: sessionmaker[Session], corpus: Path
) -> None:
    _ingest(sessions, corpus, SERIES[:2])
    with sessions() as session:
        run_matching(session)
    before = _links(sessions)
    _ingest(sessions, corpus, SERIES[2:])
    with sessions() as session:
        [summary] = run_matching(session)
        items_before = {item_id for _, item_id, _ in before.values() if item_id}
        joined = session.scalars(
            select(Link.canonical_item_id).where(
                Link.record_id.not_in(list(before)), Link.state == "auto"
            )
        ).all()
    after = _links(sessions)
    assert {record: after[record] for record in before} == before
    assert summary.counts["auto"] >= 5
    assert set(joined) <= items_before


def test_reviewers_never_hold_the_same_match(matched: sessionmaker[Session]) -> None:
    with matched() as session:
        ann, bob = _user(session, "ann"), _user(session, "bob")
        shown_to_ann = {r.link_id for r in pending_reviews(session, ann, limit=2)}
        shown_to_bob = {r.link_id for r in pending_reviews(session, bob, limit=50)}
        session.commit()
        assert len(shown_to_ann) == 2
        assert shown_to_ann.isdisjoint(shown_to_bob)
        link_id = next(iter(shown_to_ann))
        with pytest.raises(ReviewError, match="another reviewer is looking at this match"):
            apply_decision(session, link_id, "same", bob)


def test_same_then_undo_then_different(matched: sessionmaker[Session]) -> None:
    with matched() as session:
        reviewer = _user(session, "ann")
        [review] = pending_reviews(session, reviewer)
        assert review.breakdown["fields"]
        decision = apply_decision(session, review.link_id, "same", reviewer)
        session.commit()
        link = session.get_one(Link, review.link_id)
        assert (link.state, link.canonical_item_id) == ("confirmed", review.item.id)
        assert review.link_id not in {r.link_id for r in pending_reviews(session, reviewer, 100)}
        assert last_decision(session, reviewer) == decision

        undo(session, decision.id, reviewer)
        session.commit()
        assert (link.state, link.canonical_item_id, link.suggested_item_id) == (
            "pending",
            None,
            review.item.id,
        )
        assert session.get_one(Decision, decision.id).deleted_at is not None

        rejected = apply_decision(session, review.link_id, "different", reviewer)
        session.commit()
        assert link.state == "new"
        assert link.canonical_item_id not in {None, review.item.id}
        assert rejected.canonical_item_id == review.item.id
        created = link.canonical_item_id

        undo(session, rejected.id, reviewer)
        session.commit()
        assert session.get(CanonicalItem, created) is None, (
            "the item made by the rejection goes with its undo"
        )


def test_a_different_judgement_is_respected_by_later_runs(matched: sessionmaker[Session]) -> None:
    with matched() as session:
        reviewer = _user(session, "ann")
        [review] = pending_reviews(session, reviewer)
        apply_decision(session, review.link_id, "different", reviewer)
        session.commit()
        record_id = review.record.id
        # A rebuild (or a lost link) puts the record through matching again.
        session.delete(session.scalars(select(Link).where(Link.record_id == record_id)).one())
        session.commit()
        run_matching(session, MatchSettings(review=0.01))
        link = session.scalars(select(Link).where(Link.record_id == record_id)).one()
        assert review.item.id not in {link.canonical_item_id, link.suggested_item_id}

        with pytest.raises(ReviewError, match="judged this record different"):
            link.state, link.canonical_item_id = "pending", None
            link.suggested_item_id = review.item.id
            session.flush()
            apply_decision(session, link.id, "move", reviewer, target_item_id=review.item.id)


def test_an_item_takes_one_record_a_document(matched: sessionmaker[Session]) -> None:
    with matched() as session:
        reviewer = _user(session, "ann")
        [review] = pending_reviews(session, reviewer)
        record_document = session.get_one(Document, review.record.document_id)
        same_year_item = session.scalars(
            select(Link.canonical_item_id)
            .join(Record, Link.record_id == Record.id)
            .where(
                Record.document_id == record_document.id,
                Record.kind == review.record.kind,
                Link.state.in_(["new", "auto"]),
            )
        ).first()
        with pytest.raises(
            ReviewError,
            match=f"already has a record of {record_document.shown_name}; an item appears once",
        ):
            apply_decision(session, review.link_id, "move", reviewer, target_item_id=same_year_item)


def _ingest_as_one_year(sessions: sessionmaker[Session], paths: list[Path]) -> list[int]:
    options = IngestOptions(council="One Council", period=parse_period_label("2023/24"))
    outcomes = [ingest_document(sessions, path, options) for path in paths]
    assert all(o.status == "new" and o.records for o in outcomes), outcomes
    with sessions() as session:
        run_matching(session)
    return [o.document_id for o in outcomes if o.document_id is not None]


def _documents_per_item(sessions: sessionmaker[Session]) -> list[list[int]]:
    with sessions() as session:
        rows = session.execute(
            select(Link.canonical_item_id, Record.document_id)
            .join(Record, Link.record_id == Record.id)
            .where(Link.canonical_item_id.is_not(None))
        ).all()
    items: dict[int, list[int]] = {}
    for item, document in rows:
        items.setdefault(item, []).append(document)
    return sorted(sorted(documents) for documents in items.values())


def test_two_versions_of_one_report_in_one_year_link_one_to_one(
    sessions: sessionmaker[Session],
) -> None:
    """A tracker published as PDF and later as Word, the same reporting point: every row
    of the second joins its row of the first, and review allows what matching did. Nothing
    is said at ingest: both read their period from the header "Update: March 2024", and
    neither takes a partner council named in its rows for its publisher."""
    real = SHARED / "real"
    outcomes = [
        ingest_document(sessions, real / name, IngestOptions())
        for name in (
            "weca-cesap-action-tracker-2024-03.pdf",
            "weca-cesap-action-tracker-2024-03-word.docx",
        )
    ]
    pdf, word = (o.document_id for o in outcomes)
    with sessions() as session:
        run_matching(session)
        described = {(d.council, d.period_label) for d in session.scalars(select(Document))}
        assert described == {(None, "2023/24")}
    assert _documents_per_item(sessions) == [[pdf, word]] * 111
    with sessions() as session:
        documents = session.get_one(Document, pdf), session.get_one(Document, word)
        assert reports_continue(session, *documents)


def test_plans_of_two_services_in_one_year_never_share_an_item(
    sessions: sessionmaker[Session], corpus: Path
) -> None:
    first, second = _ingest_as_one_year(
        sessions,
        [
            corpus / "scdc-community-customer-services-improvement-plan-2010-13.pdf",
            corpus / "scdc-community-customer-services-operational-plan-2010-13.docx",
        ],
    )
    assert all(len(documents) == 1 for documents in _documents_per_item(sessions))
    with sessions() as session:
        assert not reports_continue(
            session, session.get_one(Document, first), session.get_one(Document, second)
        )


def test_decisions_survive_a_new_parser_version(
    matched: sessionmaker[Session], corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with matched() as session:
        reviewer = _user(session, "ann")
        [review] = pending_reviews(session, reviewer)
        decision = apply_decision(session, review.link_id, "same", reviewer)
        session.commit()
        title, item_id, decision_id = review.record.title, review.item.id, decision.id
    monkeypatch.setattr("ingest.unit.PARSER_VERSION", "99.0.0")
    document = review.document.file_name
    _ingest(matched, corpus, (Path(document).name,))
    with matched() as session:
        heir = session.scalars(select(Record).where(Record.title == title)).one()
        assert heir.id != review.record.id, "the document was parsed again"
        link = session.scalars(select(Link).where(Link.record_id == heir.id)).one()
        assert (link.state, link.canonical_item_id) == ("confirmed", item_id)
        assert session.get_one(Decision, decision_id).record_id == heir.id


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 1234", "'+44 1234"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("KA.12", "KA.12"),
        (3, 3),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


def test_match_and_export_commands(corpus: Path, tmp_path: Path, sqlite_url: str) -> None:
    runner = CliRunner()
    base = ["--database-url", sqlite_url]
    assert runner.invoke(main, [*base, "ingest", *(str(corpus / n) for n in SERIES)]).exit_code == 0
    result = runner.invoke(main, [*base, "match"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Aldershire County Council: ")
    assert " auto, " in result.output and " pending review, " in result.output

    register = tmp_path / "register.csv"
    result = runner.invoke(main, [*base, "export", str(register), "--excel"])
    assert result.exit_code == 0, result.output
    raw = register.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == REGISTER_COLUMNS
    assert all(row["canonical_id"].startswith("CR-") for row in rows)
    assert any(row["periods"] == "2008/09; 2009/10; 2010/11" for row in rows)

    occurrences = tmp_path / "occurrences.csv"
    assert runner.invoke(main, [*base, "export", "--occurrences", str(occurrences)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(occurrences.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == OCCURRENCE_COLUMNS
    assert {row["link_state"] for row in rows} == {"new", "auto", "pending"}
    assert all(row["suggested_canonical_id"] for row in rows if row["link_state"] == "pending")


def test_export_to_a_folder_that_does_not_exist_says_so(sqlite_url: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "register.csv"
    result = CliRunner().invoke(main, ["--database-url", sqlite_url, "export", str(target)])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot write {target}: No such file or directory\n"


def test_match_refuses_a_review_threshold_above_auto(sqlite_url: str) -> None:
    result = CliRunner().invoke(
        main, ["--database-url", sqlite_url, "match", "--auto", "0.5", "--review", "0.9"]
    )
    assert result.exit_code == 2
    assert "--review must not be above --auto" in result.output


def test_a_different_judgement_binds_both_records_when_either_is_matched_again(
    matched: sessionmaker[Session],
) -> None:
    with matched() as session:
        reviewer = _user(session, "ann")
        [review] = pending_reviews(session, reviewer)
        decision = apply_decision(session, review.link_id, "different", reviewer)
        session.commit()
        own_item = session.scalars(
            select(Link.canonical_item_id).where(Link.record_id == review.record.id)
        ).one()
        other = decision.other_record_id
        assert other is not None
        register = load_register(session, review.document.council)
        assert other in register.items[own_item].forbidden
        assert review.record.id in register.items[review.item.id].forbidden
        # The other record's item is emptied and its link rebuilt, as a re-parse does, and
        # the record kept apart from it reads the same: the closest thing it can join.
        kept_apart, rebuilt = review.record, session.get_one(Record, other)
        kept_apart.title, kept_apart.code = rebuilt.title, rebuilt.code
        kept_apart.code_key, kept_apart.indicator_keys = rebuilt.code_key, rebuilt.indicator_keys
        session.execute(
            Link.__table__.delete().where(Link.canonical_item_id == review.item.id)  # type: ignore[attr-defined]
        )
        session.commit()
        run_matching(session, MatchSettings(review=0.01))
        link = session.scalars(select(Link).where(Link.record_id == other)).one()
        assert own_item not in {link.canonical_item_id, link.suggested_item_id}
        link.state, link.canonical_item_id, link.suggested_item_id = "pending", None, own_item
        session.flush()
        with pytest.raises(ReviewError, match="judged this record different"):
            apply_decision(session, link.id, "same", reviewer)


def test_link_to_item_refuses_an_item_of_another_council(matched: sessionmaker[Session]) -> None:
    with matched() as session:
        reviewer = _user(session, "ann")
        [review] = pending_reviews(session, reviewer)
        elsewhere = CanonicalItem(
            council="Brandmoor Borough Council", kind=review.record.kind, title="An action"
        )
        session.add(elsewhere)
        session.flush()
        with pytest.raises(ReviewError, match="items never cross councils"):
            apply_decision(session, review.link_id, "move", reviewer, target_item_id=elsewhere.id)


def _plan_docx(path: Path, heading: str, rows: list[tuple[str, str]]) -> Path:
    """A one-table service plan in Word: code, action, deadline, lead officer."""
    from docx import Document as WordDocument

    document = WordDocument()
    document.add_heading(heading)
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ["Ref", "Action", "Deadline", "Lead Officer"], strict=True
    ):
        cell.text = text
    for code, action in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = code, action
        cells[2].text, cells[3].text = "31-Mar-25", "Head of Audit"
    document.save(path)
    return path


SIBLINGS = [
    ("KA.1", "Prepare the annual governance statement for Audit Committee"),
    ("KA.2", "Refresh the corporate risk register each quarter"),
]
"""Rows every year repeats word for word, so each plan is an action table like any other."""


@pytest.fixture
def sibling_suggested_twice(sessions: sessionmaker[Session], tmp_path: Path) -> dict[str, int]:
    """2022: audit; 2023: the anti-fraud sibling, only suggested for audit's item; 2024:
    the sibling again, word for word, suggested through 2023's unjudged record."""
    records = {}
    for year, title in (
        (2022, "Review of Shared Audit Service."),
        (2023, "Review of Shared Anti-Fraud Service."),
        (2024, "Review of Shared Anti-Fraud Service."),
    ):
        label = f"{year}/{year - 1999}"
        path = _plan_docx(
            tmp_path / f"plan-{year}.docx",
            f"Audit service plan {label}",
            [*SIBLINGS, ("KA.3", title)],
        )
        options = IngestOptions(council="One Council", period=parse_period_label(label))
        outcome = ingest_document(sessions, path, options)
        assert outcome.status == "new", outcome
        with sessions() as session:
            records[str(year)] = session.scalars(
                select(Record.id).where(
                    Record.document_id == outcome.document_id, Record.code == "KA.3"
                )
            ).one()
    with sessions() as session:
        run_matching(session)
    assert _state(sessions, records["2023"])[0] == "pending"
    assert _state(sessions, records["2024"]) == ("pending", None)
    return records


def _state(sessions: sessionmaker[Session], record_id: int) -> tuple[str, int | None]:
    with sessions() as session:
        link = session.scalars(select(Link).where(Link.record_id == record_id)).one()
        return link.state, link.canonical_item_id


def _link_id(sessions: sessionmaker[Session], record_id: int) -> int:
    with sessions() as session:
        return session.scalars(select(Link.id).where(Link.record_id == record_id)).one()


@pytest.mark.parametrize("verdict", ["same", "different"])
def test_a_judgement_lets_the_later_suggestion_through_it_link_on_its_own_evidence(
    sessions: sessionmaker[Session], sibling_suggested_twice: dict[str, int], verdict: str
) -> None:
    """Once the reviewer has placed 2023's record (in audit's item or in one of its own),
    2024's word-for-word repeat follows it automatically; undo puts both back in review."""
    records = sibling_suggested_twice
    with sessions() as session:
        decision = apply_decision(session, _link_id(sessions, records["2023"]), verdict, None)
        session.commit()
        decision_id = decision.id
    placed = _state(sessions, records["2023"])
    assert placed[0] == ("confirmed" if verdict == "same" else "new")
    assert _state(sessions, records["2024"]) == ("auto", placed[1])

    with sessions() as session:
        undo(session, decision_id, None)
        session.commit()
    assert _state(sessions, records["2023"])[0] == "pending"
    assert _state(sessions, records["2024"]) == ("pending", None)
    with sessions() as session:
        assert session.scalars(select(CanonicalItem.id)).all() == sorted(
            session.scalars(select(Link.canonical_item_id).where(Link.state == "new")).all()
        ), "no item is left without its record"


def test_a_run_that_learns_stores_the_weights_it_learned_from_the_judgements(
    matched: sessionmaker[Session],
) -> None:
    with matched() as session:
        [first] = session.scalars(select(MatchingRun)).all()
        assert first.settings["weights"] == DEFAULT_WEIGHTS.as_dict()
        assert first.settings["judged"] == 0
        for wanted_unsure in (True, False):
            # Asked again each time: a decision re-matches later suggestions as new links.
            reviews = pending_reviews(session, None, 100)
            review = next(r for r in reviews if (r.score < MatchSettings().auto) == wanted_unsure)
            apply_decision(session, review.link_id, "different", None)
        session.commit()
        [summary] = run_matching(session, MatchSettings(learn=True))
        run = session.get_one(MatchingRun, summary.run_id)
        assert run.settings["learn"] is True
        assert run.settings["judged"] == 1, "a verdict between two close rivals is left out"
        assert run.settings["weights"]["prior"] < DEFAULT_WEIGHTS.prior, (
            "a rejection lowers the starting weight"
        )


def test_quarterly_reports_ingested_out_of_order_are_read_in_quarter_order(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Q3 arrives first, then Q1, then Q2, with no dates in their names: each names its
    quarter in its heading, so Q1's rows found the items and the later quarters follow."""
    rows = [*SIBLINGS, ("KA.3", "Deliver the new waste collection contract")]
    documents = {}
    for quarter in (3, 1, 2):
        path = _plan_docx(
            tmp_path / f"audit-monitoring-{quarter}.docx",
            f"Audit service plan 2023/24: Quarter {quarter} monitoring",
            rows,
        )
        outcome = ingest_document(sessions, path, IngestOptions(council="One Council"))
        assert outcome.status == "new", outcome
        documents[quarter] = outcome.document_id
    with sessions() as session:
        run_matching(session)
        points = {
            quarter: session.get_one(Document, document).reporting_point
            for quarter, document in documents.items()
        }
        founders = set(
            session.scalars(
                select(Record.document_id)
                .join(Link, Link.record_id == Record.id)
                .where(Link.state == "new")
            )
        )
    assert {q: p.isoformat() for q, p in points.items() if p} == {
        1: "2023-06-30",
        2: "2023-09-30",
        3: "2023-12-31",
    }
    assert founders == {documents[1]}
    assert _documents_per_item(sessions) == [sorted(documents.values())] * len(rows)


def test_a_suggestion_another_reviewer_holds_is_not_matched_again(
    sessions: sessionmaker[Session], sibling_suggested_twice: dict[str, int]
) -> None:
    records = sibling_suggested_twice
    held = _link_id(sessions, records["2024"])
    with sessions() as session:
        bob = _user(session, "bob")
        session.get_one(Link, held).claimed_by = bob.id
        session.get_one(Link, held).claimed_until = dt.datetime.now(dt.UTC) + dt.timedelta(
            minutes=10
        )
        session.commit()
        apply_decision(session, _link_id(sessions, records["2023"]), "same", None)
        session.commit()
    assert _link_id(sessions, records["2024"]) == held
    assert _state(sessions, records["2024"]) == ("pending", None)
