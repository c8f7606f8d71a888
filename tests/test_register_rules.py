"""The register's rules under random sequences of work (a Hypothesis state machine).

Documents of one council arrive over four years (some years with a second report or a
revised version), matching runs, a reviewer says same, different or move, undoes, and
documents are re-parsed under a new parser version. After every step, on a real SQLite
store:

* no record sits in an item it, or a record of that item, was judged different from;
* every same or move judgement still in force holds its record where it put it;
* no item holds two records of one document.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from corpus.register import carry_over, run_matching
from corpus.review import ReviewError, apply_decision, pending_reviews, undo
from models import CanonicalItem, Decision, Document, Link, Record, User, open_store
from models.schema import MEMBER_STATES

COUNCIL = "Rulebridge District Council"
ROWS = [
    ("KA.1", "Review of Shared Audit Service"),
    ("KA.2", "Review of Shared Anti-Fraud Service"),
    ("NI 155", "Number of affordable homes delivered"),
    ("PP12", "Up to date equality schemes"),
    ("KA.3", "Deliver a programme of energy efficiency improvements to council homes"),
    ("KA.4", "Maximisation of in-year council tax collection"),
    ("KA.5", "Maximisation of in-year Business Rates collection"),
]
REWORDED = {
    "Review of Shared Audit Service": "Review of the Shared Audit Service with partners",
    "Deliver a programme of energy efficiency improvements to council homes": (
        "Working with housing associations, deliver a programme of energy efficiency "
        "improvements to council homes"
    ),
    "Number of affordable homes delivered": "Number of affordable homes delivered (gross)",
}


class RegisterRules(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(f"/tmp/councilreg-rules-{uuid.uuid4().hex}")
        self.folder.mkdir()
        self.sessions: sessionmaker[Session] = open_store(f"sqlite:///{self.folder / 's.db'}")

    @initialize()
    def reviewer(self) -> None:
        with self.sessions.begin() as session:
            session.add(User(name="rita", password_hash="not used", role="reviewer"))

    def teardown(self) -> None:
        self.sessions.kw["bind"].dispose()
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()

    @rule(
        year=st.integers(2010, 2013),
        month=st.integers(4, 12),
        rows=st.lists(st.sampled_from(range(len(ROWS))), min_size=1, max_size=5, unique=True),
        reworded=st.booleans(),
        renumbered=st.booleans(),
    )
    def a_document_arrives(
        self, year: int, month: int, rows: list[int], reworded: bool, renumbered: bool
    ) -> None:
        with self.sessions.begin() as session:
            document = Document(
                sha256=uuid.uuid4().hex + uuid.uuid4().hex,
                file_name=f"plan-{year}-{month}.pdf",
                media_type="application/pdf",
                size=1,
                council=COUNCIL,
                period_label=f"{year}/{(year + 1) % 100:02d}",
                period_start=dt.date(year, 4, 1),
                period_end=dt.date(year + 1, 3, 31),
                meeting_date=dt.date(year, month, 1),
                parser="pdf",
                parser_version="1",
                status="ok",
            )
            document.records = [
                _record(ordinal, *ROWS[row], reworded, renumbered)
                for ordinal, row in enumerate(rows)
            ]
            session.add(document)

    @rule()
    def matching_runs(self) -> None:
        with self.sessions() as session:
            for summary in run_matching(session):
                for state, count in summary.counts.items():
                    if count:
                        event(f"matching placed {state}")

    @rule(
        verdict=st.sampled_from(["same", "different", "move"]),
        pick=st.integers(0, 20),
        choice=st.integers(0, 20),
    )
    def the_reviewer_decides(self, verdict: str, pick: int, choice: int) -> None:
        with self.sessions.begin() as session:
            reviewer = session.scalars(select(User)).one()
            pending = pending_reviews(session, reviewer, limit=50)
            if not pending:
                return
            review = pending[pick % len(pending)]
            items = session.scalars(select(CanonicalItem.id).order_by(CanonicalItem.id)).all()
            chosen = items[choice % len(items)] if verdict == "move" and items else None
            try:
                with session.begin_nested():
                    apply_decision(session, review.link_id, verdict, reviewer, chosen)
                event(f"decided {verdict}")
            except ReviewError:
                event(f"{verdict} refused")

    @rule()
    def the_reviewer_undoes_the_last_decision(self) -> None:
        with self.sessions.begin() as session:
            reviewer = session.scalars(select(User)).one()
            last = session.scalars(
                select(Decision.id)
                .where(Decision.deleted_at.is_(None))
                .order_by(Decision.id.desc())
            ).first()
            if last is None:
                return
            try:
                with session.begin_nested():
                    undo(session, last, reviewer)
                event("undone")
            except ReviewError:
                event("undo refused")

    @rule(pick=st.integers(0, 20))
    def a_document_is_read_again(self, pick: int) -> None:
        """A new parser version: the same rows as new records, links and judgements
        handed over (as `ingest.unit.store_parsed` does)."""
        with self.sessions.begin() as session:
            documents = session.scalars(select(Document).order_by(Document.id)).all()
            if not documents:
                return
            document = documents[pick % len(documents)]
            fresh = [_copy(record) for record in document.records]
            carry_over(session, document, fresh)
            document.records = fresh
            event("read again")

    @invariant()
    def judgements_hold_and_items_take_one_record_a_document(self) -> None:
        with self.sessions() as session:
            placed = {
                link.record_id: link.canonical_item_id
                for link in session.scalars(select(Link))
                if link.state in MEMBER_STATES
            }
            document_of = dict(session.execute(select(Record.id, Record.document_id)).all())
            decisions = session.scalars(select(Decision).where(Decision.deleted_at.is_(None))).all()
        for decision in decisions:
            item = placed.get(decision.record_id)
            if decision.verdict == "different":
                assert item is None or item != decision.canonical_item_id, decision.id
                if decision.other_record_id is not None and item is not None:
                    assert placed.get(decision.other_record_id) != item, decision.id
            elif decision.verdict in ("same", "move"):
                assert item == decision.canonical_item_id, decision.id
        seen: set[tuple[int, int]] = set()
        for record, item in placed.items():
            key = (item, document_of[record])
            assert key not in seen, f"item {item} holds two records of one document"
            seen.add(key)


def _record(ordinal: int, code: str, title: str, reworded: bool, renumbered: bool) -> Record:
    if renumbered and code.startswith("KA."):
        code = f"KA.{int(code[3:]) + 10}"
    return Record(
        ordinal=ordinal,
        table_index=0,
        row_index=ordinal,
        kind="indicator" if not code.startswith("KA.") else "action",
        code=code,
        title=REWORDED.get(title, title) if reworded else title,
    )


def _copy(record: Record) -> Record:
    return Record(
        ordinal=record.ordinal,
        table_index=record.table_index,
        row_index=record.row_index,
        kind=record.kind,
        code=record.code,
        title=record.title,
    )


RegisterRules.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRegisterRules = pytest.mark.slow(RegisterRules.TestCase)
