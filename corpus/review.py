"""The review queue: two calls, ``pending_reviews`` and ``apply_decision``, plus ``undo``.

The web UI, the console queue and the tests use only these. A pending link is claimed by
the reviewer it is shown to, so two reviewers never judge the same record at once; claims
expire, so an abandoned screen does not lock an item away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from corpus.judgements import Judgements
from corpus.register import (
    members_by_item,
    rematch_council,
    rematch_later_suggestions,
    reports_continue,
    unmake_run,
)
from models import AuditEvent, CanonicalItem, Decision, Document, Link, Record, User
from models.schema import DocumentStatus, Verdict
from parsers.fields.codes import code_key

VERDICTS: tuple[str, ...] = (Verdict.SAME, Verdict.DIFFERENT, Verdict.MOVE)
"""The verdicts on a pending match; dismiss and correct settle flagged extractions."""
CLAIM = dt.timedelta(minutes=15)


class ReviewError(Exception):
    """A decision that cannot be applied; the message says why, for the reviewer."""


@dataclass(frozen=True)
class PendingReview:
    link_id: int
    record: Record
    document: Document
    item: CanonicalItem
    item_record: Record | None
    item_document: Document | None
    score: float | None
    breakdown: dict[str, object]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


SelectQuery = TypeVar("SelectQuery", bound=Select)


@dataclass(frozen=True)
class QueueFilter:
    """The part of the queue a reviewer works through; empty fields do not filter."""

    council: str | None = None
    period: str | None = None
    kind: str | None = None

    def apply(self, query: SelectQuery) -> SelectQuery:
        """Narrow a query that joins the pending record and its document."""
        if self.council:
            query = query.where(Document.council == self.council)
        if self.period:
            query = query.where(Document.period_label == self.period)
        if self.kind:
            query = query.where(Record.kind == self.kind)
        return query


def pending_reviews(
    session: Session,
    reviewer: User | None = None,
    limit: int = 1,
    council: str | None = None,
    now: dt.datetime | None = None,
    skip: Collection[int] = (),
    wanted: QueueFilter = QueueFilter(),
) -> list[PendingReview]:
    """The next pending links for ``reviewer``, claimed for them; the surest first.

    ``skip`` holds links the reviewer passed over, so the queue moves on.
    """
    now = now or _now()
    query = (
        select(Link, Record, Document)
        .join(Record, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(
            Link.state == "pending",
            or_(
                Link.claimed_until.is_(None),
                Link.claimed_until < now,
                Link.claimed_by == (reviewer.id if reviewer else None),
            ),
        )
        .order_by(Link.score.desc(), Link.id)
        .limit(limit)
    )
    if council is not None:
        query = query.where(Document.council == council)
    query = wanted.apply(query)
    if skip:
        query = query.where(Link.id.not_in(list(skip)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Link, skip_locked=True)
    found = []
    for link, record, document in session.execute(query).all():
        claim(link, reviewer, now)
        found.append(_describe(session, link, record, document))
    session.flush()
    return found


def held_review(
    session: Session, reviewer: User, now: dt.datetime | None = None
) -> PendingReview | None:
    """The pending link ``reviewer`` holds now (the latest claimed), without claiming any:
    what a page shows on a GET, which must change nothing."""
    found = session.execute(
        select(Link, Record, Document)
        .join(Record, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(
            Link.state == "pending",
            Link.claimed_by == reviewer.id,
            Link.claimed_until > (now or _now()),
        )
        .order_by(Link.claimed_until.desc(), Link.id)
        .limit(1)
    ).first()
    return _describe(session, *found) if found else None


def claim(link: Link, reviewer: User | None, now: dt.datetime | None = None) -> None:
    """Hold ``link`` for ``reviewer`` for a while, so no one else is shown it meanwhile."""
    if reviewer is not None and link.state == "pending":
        link.claimed_by, link.claimed_until = reviewer.id, (now or _now()) + CLAIM


def release(session: Session, link_id: int, reviewer: User | None) -> None:
    """Give a claimed link back to the queue (the reviewer skipped it)."""
    link = session.get(Link, link_id)
    if (
        link is not None
        and link.state == "pending"
        and (reviewer is None or link.claimed_by == reviewer.id)
    ):
        link.claimed_by = link.claimed_until = None
        session.flush()


def pending_count(session: Session, wanted: QueueFilter = QueueFilter()) -> int:
    query = (
        select(func.count())
        .select_from(Link)
        .join(Record, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(Link.state == "pending")
    )
    return session.scalar(wanted.apply(query)) or 0


def _describe(session: Session, link: Link, record: Record, document: Document) -> PendingReview:
    item = session.get(CanonicalItem, link.suggested_item_id)
    if item is None:
        raise ReviewError(f"link {link.id} has no suggested item")
    members = members_by_item(session, [item.id]).get(item.id, [])
    latest = members[-1] if members else None
    return PendingReview(
        link_id=link.id,
        record=record,
        document=document,
        item=item,
        item_record=latest,
        item_document=session.get(Document, latest.document_id) if latest else None,
        score=link.score,
        breakdown=dict(link.breakdown),
    )


def apply_decision(
    session: Session,
    link_id: int,
    verdict: str,
    reviewer: User | None,
    target_item_id: int | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Judge a pending link: ``same`` item, ``different`` item, or ``move`` to another item.

    The judgement is stored with the reviewer and the time, the link as it was is kept
    for undo, and the record is never asked about again.
    """
    now = now or _now()
    if verdict not in VERDICTS:
        raise ReviewError(f"unknown verdict {verdict!r}; use one of {', '.join(VERDICTS)}")
    link = session.get(Link, link_id, with_for_update=True)
    if link is None:
        raise ReviewError(f"there is no link {link_id}")
    if link.state != "pending":
        raise ReviewError(f"link {link_id} was already decided ({link.state})")
    holder = link.claimed_by
    claimed_until = _aware(link.claimed_until)
    if holder and reviewer and holder != reviewer.id and claimed_until and claimed_until > now:
        raise ReviewError("another reviewer is looking at this match")
    record = session.get_one(Record, link.record_id)
    suggested = link.suggested_item_id
    previous = _snapshot(link)
    decision = Decision(
        record_id=record.id,
        verdict=verdict,
        user_id=reviewer.id if reviewer else None,
        note=note,
        previous=previous,
        canonical_item_id=suggested,
    )
    if verdict == Verdict.SAME:
        if suggested is None:
            raise ReviewError(f"link {link_id} has no suggested item")
        _join(session, link, record, suggested)
    elif verdict == Verdict.MOVE:
        if target_item_id is None:
            raise ReviewError("say which item to move the record to")
        _join(session, link, record, target_item_id)
        decision.canonical_item_id = target_item_id
    else:
        members = members_by_item(session, [suggested]).get(suggested, []) if suggested else []
        decision.other_record_id = members[-1].id if members else None
        document = session.get_one(Document, record.document_id)
        item = CanonicalItem(
            council=document.council, kind=record.kind, title=record.title, code=record.code
        )
        session.add(item)
        session.flush()
        link.canonical_item_id, link.state = item.id, "new"
        decision.previous = {**previous, "created_item_id": item.id}
    link.claimed_by = link.claimed_until = None
    session.add(decision)
    session.flush()
    rematched = rematch_later_suggestions(
        session, session.get_one(Document, record.document_id), now
    )
    if rematched is not None:
        decision.previous = {**decision.previous, "rematch_run": rematched.run_id}
        session.flush()
    _audit(
        session,
        reviewer,
        f"decision.{verdict}",
        link,
        {"decision": decision.id, "item": link.canonical_item_id},
    )
    return decision


def _join(session: Session, link: Link, record: Record, item_id: int) -> None:
    """Link ``record`` into ``item_id``, unless a decision or the rule matching keeps forbids
    it (one record per document; two of one year only from reports that follow each other)."""
    item = session.get(CanonicalItem, item_id)
    if item is None:
        raise ReviewError(f"there is no item {item_id}")
    if item.kind != record.kind:
        raise ReviewError(f"item {item_id} is an {item.kind}, the record is an {record.kind}")
    document = session.get_one(Document, record.document_id)
    if item.council != document.council:
        raise ReviewError(
            f"item {item_id} belongs to {item.council or 'no council'}; the record is of "
            f"{document.council or 'no council'}, and items never cross councils"
        )
    members = members_by_item(session, [item_id]).get(item_id, [])
    period = document.period_label
    for member in members:
        member_document = session.get_one(Document, member.document_id)
        if member_document.id == document.id:
            raise ReviewError(
                f"item {item_id} already has a record of {document.shown_name}; "
                "an item appears once in a document"
            )
        if (
            period is not None
            and member_document.period_label == period
            and not reports_continue(session, document, member_document)
        ):
            raise ReviewError(
                f"item {item_id} already has a record for {period} "
                f"({member_document.shown_name}), a document this one does not continue; "
                "an item appears once a year unless the reports of that year follow each other"
            )
    member_ids = [member.id for member in members]
    judgements = Judgements.load(session, [record.id, *member_ids])
    against = judgements.against(record.id, item_id, member_ids)
    if against is not None:
        raise ReviewError(
            f"a reviewer judged this record different from item {item_id} (decision {against})"
        )
    link.canonical_item_id, link.state = item_id, "confirmed"


def _snapshot(link: Link) -> dict[str, object]:
    return {
        "state": link.state,
        "canonical_item_id": link.canonical_item_id,
        "suggested_item_id": link.suggested_item_id,
    }


def undo(session: Session, decision_id: int, reviewer: User | None) -> Link | None:
    """Put things back as they were before ``decision_id``; the decision stays, marked undone.

    Returns the record's link (None for a flag settled on a record not yet matched).
    """
    decision = session.get(Decision, decision_id, with_for_update=True)
    if decision is None or decision.deleted_at is not None:
        raise ReviewError(f"decision {decision_id} does not exist or was already undone")
    link = session.scalars(select(Link).where(Link.record_id == decision.record_id)).one_or_none()
    later = session.scalars(
        select(Decision).where(
            Decision.record_id == decision.record_id,
            Decision.deleted_at.is_(None),
            Decision.id > decision.id,
        )
    ).first()
    if later is not None:
        raise ReviewError(f"undo decision {later.id} first; it was made after this one")
    previous = decision.previous
    decision.deleted_at = _now()
    if decision.verdict in {Verdict.DISMISS, Verdict.CORRECT}:
        record = session.get_one(Record, decision.record_id)
        record.title, record.code = str(previous["title"]), _str_or_none(previous.get("code"))
        record.code_key, record.flagged = code_key(record.code), True
        session.flush()
        return link
    if link is None:
        raise ReviewError(f"record {decision.record_id} has no link to put back")
    created = previous.get("created_item_id")
    rematch_run = previous.get("rematch_run")
    if isinstance(rematch_run, int):
        unmake_run(session, rematch_run)
    link.state = str(previous["state"])
    link.canonical_item_id = _int_or_none(previous.get("canonical_item_id"))
    link.suggested_item_id = _int_or_none(previous.get("suggested_item_id"))
    session.flush()
    if isinstance(created, int) and not members_by_item(session, [created]).get(created):
        holders = session.scalars(
            select(Link).where(
                or_(Link.canonical_item_id == created, Link.suggested_item_id == created)
            )
        ).first()
        if holders is None:
            session.delete(session.get_one(CanonicalItem, created))
    if isinstance(rematch_run, int):
        record = session.get_one(Record, decision.record_id)
        rematch_council(session, session.get_one(Document, record.document_id).council)
    _audit(session, reviewer, "decision.undo", link, {"decision": decision.id})
    session.flush()
    return link


def flagged_records(session: Session, limit: int = 50) -> list[tuple[Record, Document]]:
    """Records the parser was unsure of (a low-confidence table) that nobody has settled yet."""
    rows = session.execute(
        select(Record, Document)
        .join(Document, Record.document_id == Document.id)
        .where(Record.flagged.is_(True), Document.status == DocumentStatus.OK)
        .order_by(Document.id, Record.ordinal)
        .limit(limit)
    ).all()
    return [(record, document) for record, document in rows]


def settle_flag(
    session: Session,
    record_id: int,
    reviewer: User | None,
    title: str | None = None,
    code: str | None = None,
) -> Decision:
    """Dismiss a flagged record as read right, or correct its title and code."""
    record = session.get(Record, record_id, with_for_update=True)
    if record is None or not record.flagged:
        raise ReviewError(f"record {record_id} is not waiting for a check")
    previous: dict[str, object] = {"title": record.title, "code": record.code, "flagged": True}
    corrected = (title is not None and title.strip() != record.title) or (
        code is not None and (code.strip() or None) != record.code
    )
    if title is not None and not title.strip():
        raise ReviewError("a record needs a title")
    if corrected:
        record.title = title.strip() if title is not None else record.title
        record.code = (code.strip() or None) if code is not None else record.code
        record.code_key = code_key(record.code)
    record.flagged = False
    decision = Decision(
        record_id=record.id,
        verdict=Verdict.CORRECT if corrected else Verdict.DISMISS,
        user_id=reviewer.id if reviewer else None,
        previous=previous,
    )
    session.add(decision)
    session.flush()
    session.add(
        AuditEvent(
            actor=reviewer.name if reviewer else None,
            action=f"record.{decision.verdict}",
            entity_type="record",
            entity_id=record.id,
            detail={"decision": decision.id, "before": previous},
        )
    )
    return decision


def decided_since(session: Session, reviewer: User, since: dt.datetime) -> int:
    """How many decisions `reviewer` made since `since` that still stand."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Decision)
            .where(
                Decision.user_id == reviewer.id,
                Decision.created_at >= since,
                Decision.deleted_at.is_(None),
            )
        )
        or 0
    )


def last_decision(session: Session, reviewer: User | None) -> Decision | None:
    query = select(Decision).where(Decision.deleted_at.is_(None)).order_by(Decision.id.desc())
    if reviewer is not None:
        query = query.where(Decision.user_id == reviewer.id)
    return session.scalars(query.limit(1)).first()


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _audit(
    session: Session, reviewer: User | None, action: str, link: Link, detail: dict[str, object]
) -> None:
    session.add(
        AuditEvent(
            actor=reviewer.name if reviewer else None,
            action=action,
            entity_type="record",
            entity_id=link.record_id,
            detail={**detail, "state": link.state},
        )
    )


__all__ = [
    "PendingReview",
    "QueueFilter",
    "ReviewError",
    "apply_decision",
    "claim",
    "decided_since",
    "flagged_records",
    "held_review",
    "last_decision",
    "pending_count",
    "pending_reviews",
    "release",
    "settle_flag",
    "undo",
]
