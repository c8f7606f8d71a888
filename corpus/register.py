"""The canonical register in the store: load what is linked, match what is not, write links.

Matching only ever adds. Records already placed (new, auto, confirmed, pending) keep their
place, so a re-run with nothing new changes nothing, and next year's documents join the
items that exist without renumbering them. Reviewer decisions are constraints, asked of
``corpus.judgements``: a record is never linked to an item it was judged different from,
nor to an item holding a record it was judged different from, nor the other way round.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, text, update
from sqlalchemy.orm import Session

from corpus.judgements import Judgements
from corpus.learning import Judged, learn_weights
from corpus.matching import DEFAULT_SETTINGS, Item, MatchSettings, Placement, Register, match
from corpus.occurrence import Occurrence
from corpus.queries import councils
from models import CanonicalItem, Decision, Document, Link, MatchingRun, Record
from models.schema import MEMBER_STATES, DocumentStatus, Verdict


@dataclass(frozen=True)
class MatchSummary:
    council: str | None
    run_id: int
    counts: dict[str, int]


def run_matching(
    session: Session,
    settings: MatchSettings = DEFAULT_SETTINGS,
    council: str | None = None,
    all_councils: bool = True,
) -> list[MatchSummary]:
    """Match every council's unplaced records (or one council's), one transaction each."""
    targets = [council] if council is not None or not all_councils else councils(session)
    summaries = []
    for target in targets:
        summaries.append(match_council(session, target, settings))
        session.commit()
    return summaries


def occurrence_of(record: Record, document: Document) -> Occurrence | None:
    """The record as matching sees it; None when its document has no period to order it by."""
    if document.period_start is None:
        return None
    return Occurrence.build(
        key=record.id,
        period=document.period_start.year,
        kind=record.kind,
        title=record.title,
        code=record.code,
        indicators=record.indicator_keys,
        officers=[officer["text"] for officer in record.officers],
        section=record.section,
        document=document.id,
        point=reading_point(document),
    )


def reading_point(document: Document) -> int:
    """Where a document stands in its year, to read the reports of one year in order: the
    reporting point it states (a quarter, "Update: March 2024"), else its meeting date."""
    day = document.reporting_point or document.meeting_date
    return day.toordinal() if day else 0


def reports_continue(session: Session, one: Document, other: Document) -> bool:
    """Whether two documents of one period are reports of one table (a later quarter, a
    revised version), by the rule matching uses (`corpus.matching.continued_documents`):
    then an item may hold a record of each."""
    from corpus.matching import continued_documents

    def occurrences(document: Document) -> list[Occurrence]:
        records = session.scalars(select(Record).where(Record.document_id == document.id))
        return [o for o in (occurrence_of(r, document) for r in records) if o is not None]

    first, second = occurrences(one), occurrences(other)
    return bool(
        continued_documents(first, {(0, other.id): second}, DEFAULT_SETTINGS)
        or continued_documents(second, {(0, one.id): first}, DEFAULT_SETTINGS)
    )


def match_council(session: Session, council: str | None, settings: MatchSettings) -> MatchSummary:
    lock_council(session, council)
    judged = judged_suggestions(session, settings.auto) if settings.learn else []
    weights = learn_weights(judged, automatic_links(session) if judged else ())
    run = MatchingRun(
        council=council,
        settings={**settings.as_dict(), "weights": weights.as_dict(), "judged": len(judged)},
        counts={},
    )
    session.add(run)
    session.flush()
    rows = _council_records(session, council)
    register = load_register(session, council, [(r, d, link) for r, d, link in rows if link])
    unplaced = [(record, document) for record, document, link in rows if link is None]
    occurrences = []
    undated = []
    for record, document in unplaced:
        occurrence = occurrence_of(record, document)
        if occurrence is None:
            undated.append(record)
        else:
            occurrences.append(occurrence)
    placements = match(occurrences, register, settings, weights)
    counts = Counter(p.state for p in placements)
    records = {record.id: record for record, _ in unplaced}
    _write(session, council, run, placements, records, undated)
    counts["new"] += len(undated)
    run.counts = {state: counts.get(state, 0) for state in ("auto", "pending", "new")}
    run.finished_at = dt.datetime.now(dt.UTC)
    return MatchSummary(council, run.id, dict(run.counts))


def rematch_later_suggestions(
    session: Session, document: Document, now: dt.datetime
) -> MatchSummary | None:
    """Match the council's later suggestions again, after a record of ``document`` was judged.

    They were made while that record's place was unsure: a successor that could only be
    suggested through it may now link on its own evidence, and one that followed a rejected
    guess must look again. Placed links, and suggestions a reviewer has judged or is looking
    at, stay as they are. The run uses the settings of the council's last one."""
    decided = select(Decision.record_id).where(Decision.deleted_at.is_(None))
    later = [
        link
        for link, other in session.execute(
            select(Link, Document)
            .join(Record, Link.record_id == Record.id)
            .join(Document, Record.document_id == Document.id)
            .where(
                Link.state == "pending",
                _same_council(document.council),
                Link.record_id.not_in(decided),
                or_(Link.claimed_until.is_(None), Link.claimed_until <= now),
            )
        )
        if _reading_position(other) > _reading_position(document)
    ]
    if not later:
        return None
    for link in later:
        session.delete(link)
    session.flush()
    return rematch_council(session, document.council)


def rematch_council(session: Session, council: str | None) -> MatchSummary:
    """Match a council's unplaced records with the settings of its last run, inside the
    caller's transaction (a reviewer's decision and what follows from it land together)."""
    last = session.scalars(
        select(MatchingRun).where(_same_run_council(council)).order_by(MatchingRun.id.desc())
    ).first()
    settings = MatchSettings.from_dict(last.settings) if last else DEFAULT_SETTINGS
    return match_council(session, council, settings)


def unmake_run(session: Session, run_id: int) -> None:
    """Take back what a matching run placed that nobody has judged since: its links go
    (their records are unplaced again) and the items it made that hold nothing go too."""
    decided = select(Decision.record_id).where(Decision.deleted_at.is_(None))
    for link in session.scalars(
        select(Link).where(Link.run_id == run_id, Link.record_id.not_in(decided))
    ):
        session.delete(link)
    session.flush()
    held = select(Link.canonical_item_id).where(Link.canonical_item_id.is_not(None))
    suggested = select(Link.suggested_item_id).where(Link.suggested_item_id.is_not(None))
    judged = select(Decision.canonical_item_id).where(Decision.canonical_item_id.is_not(None))
    for item in session.scalars(
        select(CanonicalItem).where(
            CanonicalItem.run_id == run_id,
            CanonicalItem.id.not_in(held),
            CanonicalItem.id.not_in(suggested),
            CanonicalItem.id.not_in(judged),
        )
    ):
        session.delete(item)
    session.flush()


def _reading_position(document: Document) -> tuple[int, int, int]:
    """Where matching reads a document: period, reporting point, then document (as
    `corpus.matching` orders them)."""
    return (
        document.period_start.year if document.period_start else -1,
        reading_point(document),
        document.id,
    )


def judged_suggestions(session: Session, auto: float) -> list[Judged]:
    """The suggestions reviewers have judged, in every council (what makes two records one
    item does not change at a council's border, and one council alone has few). Those
    queued only for a close rival, scored at or above ``auto``, are left out: their verdict
    says which of two items, not whether the weights were too low."""
    verdicts = (Verdict.SAME, Verdict.DIFFERENT, Verdict.MOVE)
    return [
        Judged(levels, verdict == Verdict.SAME)
        for verdict, breakdown in session.execute(
            select(Decision.verdict, Link.breakdown)
            .join(Link, Link.record_id == Decision.record_id)
            .where(Decision.deleted_at.is_(None), Decision.verdict.in_(verdicts))
        )
        if (levels := _levels(breakdown)) is not None and float(breakdown.get("score", 0.0)) < auto
    ]


def automatic_links(session: Session) -> list[dict[str, str]]:
    """The level each field reached in every automatic link (see `corpus.learning`)."""
    return [
        levels
        for breakdown in session.scalars(select(Link.breakdown).where(Link.state == "auto"))
        if (levels := _levels(breakdown)) is not None
    ]


def _levels(breakdown: object) -> dict[str, str] | None:
    """The level (reason) each field reached, from a link's stored breakdown; None when
    the breakdown explains no fields."""
    if not isinstance(breakdown, dict) or not isinstance(breakdown.get("fields"), dict):
        return None
    return {
        name: str(part["reason"])
        for name, part in breakdown["fields"].items()
        if isinstance(part, dict) and "reason" in part
    }


def _same_run_council(council: str | None) -> ColumnElement[bool]:
    return MatchingRun.council.is_(None) if council is None else MatchingRun.council == council


def _same_council(council: str | None) -> ColumnElement[bool]:
    return Document.council.is_(None) if council is None else Document.council == council


def lock_key(council: str | None) -> str:
    """The name of a council's matching lock (PostgreSQL advisory locks are keyed by its hash)."""
    return f"councilreg-match:{council or ''}"


def lock_council(session: Session, council: str | None) -> None:
    """Two matchers on one council at once would link the same record twice (PostgreSQL);
    held until the session's transaction ends. SQLite needs none: it has one writer."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": lock_key(council)}
        )


def _council_records(
    session: Session, council: str | None
) -> list[tuple[Record, Document, Link | None]]:
    """A council's records in period order, each with its link if it has one."""
    return [
        (record, document, link)
        for record, document, link in session.execute(
            select(Record, Document, Link)
            .join(Document, Record.document_id == Document.id)
            .outerjoin(Link, Link.record_id == Record.id)
            .where(Document.status == DocumentStatus.OK, _same_council(council))
            .order_by(Document.period_start, Document.id, Record.ordinal)
        )
    ]


def load_register(
    session: Session,
    council: str | None,
    linked: Iterable[tuple[Record, Document, Link]] | None = None,
) -> Register:
    """A council's items as matching sees them: members, and the records barred from each."""
    if linked is None:
        linked = [(r, d, link) for r, d, link in _council_records(session, council) if link]
    items = session.scalars(
        select(CanonicalItem).where(
            CanonicalItem.council.is_(None) if council is None else CanonicalItem.council == council
        )
    ).all()
    register = Register()
    for item in items:
        register.items[item.id] = Item(item.id, item.kind)
    members: dict[int, list[int]] = defaultdict(list)
    for record, document, link in linked:
        placed = link.state in MEMBER_STATES
        item_id = link.canonical_item_id if placed else link.suggested_item_id
        if item_id is None or item_id not in register.items:
            continue
        occurrence = occurrence_of(record, document)
        if not placed:
            if occurrence is not None:
                register.items[item_id].tentative.append(occurrence)
            continue
        members[item_id].append(record.id)
        if occurrence is not None:
            register.items[item_id].add(occurrence)
    judgements = Judgements.load(
        session,
        select(Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(_same_council(council)),
    )
    for item_id, held in register.items.items():
        held.forbidden |= judgements.barred_from(item_id, members[item_id])
    register.next_key = max(register.items, default=0) + 1
    return register


def _write(
    session: Session,
    council: str | None,
    run: MatchingRun,
    placements: list[Placement],
    records: dict[int, Record],
    undated: list[Record],
) -> None:
    """New items first (in occurrence order, so ids follow the documents), then the links."""
    real_id: dict[int, int] = {}
    for placement in placements:
        if placement.state == "new":
            real_id[placement.item] = _new_item(
                session, council, run, records[placement.occurrence.key]
            ).id
    for record in undated:
        item = _new_item(session, council, run, record)
        session.add(
            Link(record_id=record.id, canonical_item_id=item.id, state="new", run_id=run.id)
        )
    for placement in placements:
        item_id = real_id.get(placement.item, placement.item)
        session.add(
            Link(
                record_id=placement.occurrence.key,
                canonical_item_id=None if placement.state == "pending" else item_id,
                suggested_item_id=item_id if placement.state == "pending" else None,
                state=placement.state,
                score=placement.assessment.score if placement.assessment else None,
                breakdown=placement.breakdown(real_id),
                run_id=run.id,
            )
        )
    session.flush()


def _new_item(
    session: Session, council: str | None, run: MatchingRun, record: Record
) -> CanonicalItem:
    item = CanonicalItem(
        council=council, kind=record.kind, title=record.title, code=record.code, run_id=run.id
    )
    session.add(item)
    session.flush()
    return item


def members_by_item(session: Session, item_ids: Iterable[int]) -> dict[int, list[Record]]:
    """The records of each item, oldest period first."""
    ids = list(item_ids)
    found: dict[int, list[Record]] = defaultdict(list)
    if not ids:
        return found
    for link, record in session.execute(
        select(Link, Record)
        .join(Record, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(Link.canonical_item_id.in_(ids), Link.state.in_(MEMBER_STATES))
        .order_by(Document.period_start, Record.id)
    ):
        if link.canonical_item_id is not None:
            found[link.canonical_item_id].append(record)
    return found


def count_links(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Link.state, func.count()).group_by(Link.state)).all())


def _identity(record: Record) -> tuple[object, ...]:
    return (record.kind, record.code_key, " ".join(record.title.lower().split()))


def _position(record: Record) -> tuple[object, ...]:
    return (record.kind, record.table_index, record.row_index, record.paragraph_index)


def carry_over(session: Session, document: Document, fresh: list[Record]) -> None:
    """Move links and reviewer decisions from a document's old records to its re-parsed ones.

    A new parser version re-reads a stored document; the register must not lose what was
    matched and judged. An old record passes its link to the new record with the same
    kind, code and title, else to the one at the same place in the same table.
    """
    old = [record for record in document.records if record.link is not None]
    if not old:
        return
    for record in fresh:
        record.document_id = document.id
    session.add_all(fresh)
    session.flush()
    by_identity: dict[tuple[object, ...], list[Record]] = {}
    by_position: dict[tuple[object, ...], list[Record]] = {}
    for record in fresh:
        by_identity.setdefault(_identity(record), []).append(record)
        by_position.setdefault(_position(record), []).append(record)
    taken: set[int] = set()
    for record in old:
        candidates = by_identity.get(_identity(record), []) + by_position.get(_position(record), [])
        heir = next((c for c in candidates if c.id not in taken), None)
        if heir is None:
            continue
        taken.add(heir.id)
        session.execute(update(Link).where(Link.record_id == record.id).values(record_id=heir.id))
        session.execute(
            update(Decision).where(Decision.record_id == record.id).values(record_id=heir.id)
        )
        session.execute(
            update(Decision)
            .where(Decision.other_record_id == record.id)
            .values(other_record_id=heir.id)
        )
    session.expire_all()
