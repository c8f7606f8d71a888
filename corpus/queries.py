"""Reading the register: search and filter items, one item's history, its audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from corpus.summary import ItemSummary
from models import AuditEvent, CanonicalItem, Decision, Document, Link, Record, User
from models.schema import MEMBER_STATES, DocumentStatus


def councils(session: Session) -> list[str | None]:
    """The councils with readable documents in the store, unknown (None) last."""
    rows = session.scalars(
        select(Document.council).where(Document.status == DocumentStatus.OK).distinct()
    ).all()
    return sorted(rows, key=lambda council: (council is None, council or ""))


@dataclass(frozen=True)
class ItemFilter:
    """What a register search asks for; empty fields do not filter."""

    text: str = ""
    council: str = ""
    period: str = ""
    status: str = ""
    officer: str = ""
    code: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


def matching_item_ids(wanted: ItemFilter) -> Select[Any]:
    """The ids of items any of whose placed occurrences match every given field."""
    matching = (
        select(Link.canonical_item_id)
        .distinct()
        .join(Record, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(Link.state.in_(MEMBER_STATES))
    )
    if wanted.text:
        like = f"%{_escape_like(wanted.text)}%"
        matching = matching.where(
            or_(Record.title.ilike(like, escape="\\"), Record.code.ilike(like, escape="\\"))
        )
    if wanted.council:
        matching = matching.where(Document.council == wanted.council)
    if wanted.period:
        matching = matching.where(Document.period_label == wanted.period)
    if wanted.status:
        matching = matching.where(Record.status == wanted.status)
    if wanted.officer:
        matching = matching.where(
            Record.officer_names.ilike(f"%{_escape_like(wanted.officer)}%", escape="\\")
        )
    if wanted.code:
        matching = matching.where(Record.code.ilike(f"%{_escape_like(wanted.code)}%", escape="\\"))
    return matching


def count_items(session: Session, wanted: ItemFilter) -> int:
    return (
        session.scalar(select(func.count()).select_from(matching_item_ids(wanted).subquery())) or 0
    )


def search_items(
    session: Session, wanted: ItemFilter, limit: int = 200, offset: int = 0
) -> list[ItemSummary]:
    """Items any of whose occurrences match every given field, by council then id."""
    matching = matching_item_ids(wanted)
    items = session.scalars(
        select(CanonicalItem)
        .where(CanonicalItem.id.in_(matching))
        .order_by(CanonicalItem.council, CanonicalItem.id)
        .limit(limit)
        .offset(offset)
    ).all()
    rows = {item.id: ItemSummary(item) for item in items}
    for record, document, item_id in session.execute(
        select(Record, Document, Link.canonical_item_id)
        .join(Link, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(Link.canonical_item_id.in_(list(rows)), Link.state.in_(MEMBER_STATES))
        .order_by(Document.period_start, Record.id)
    ):
        if item_id is not None:
            rows[item_id].add(record, document)
    return list(rows.values())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class ItemOccurrence:
    record: Record
    document: Document
    link: Link


@dataclass(frozen=True)
class ItemHistory:
    item: CanonicalItem
    occurrences: list[ItemOccurrence]
    pending: list[ItemOccurrence]
    audit: list[AuditEvent]
    decisions: list[tuple[Decision, User | None]]


def item_history(session: Session, item_id: int) -> ItemHistory | None:
    item = session.get(CanonicalItem, item_id)
    if item is None:
        return None
    rows = session.execute(
        select(Record, Document, Link)
        .join(Link, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .where(or_(Link.canonical_item_id == item_id, Link.suggested_item_id == item_id))
        .order_by(Document.period_start, Record.id)
    ).all()
    members = [
        ItemOccurrence(r, d, link) for r, d, link in rows if link.canonical_item_id == item_id
    ]
    pending = [ItemOccurrence(r, d, link) for r, d, link in rows if link.state == "pending"]
    record_ids = [o.record.id for o in members + pending]
    audit = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "record", AuditEvent.entity_id.in_(record_ids or [-1]))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    decisions = session.execute(
        select(Decision, User)
        .outerjoin(User, Decision.user_id == User.id)
        .where(
            or_(
                Decision.canonical_item_id == item_id,
                Decision.record_id.in_(record_ids or [-1]),
            )
        )
        .order_by(Decision.id)
    ).all()
    return ItemHistory(item, members, pending, list(audit), list(decisions))


def facets(session: Session) -> dict[str, list[str]]:
    """The councils, periods and statuses there are, for the register's filter menus."""
    councils = session.scalars(
        select(Document.council).distinct().where(Document.council.is_not(None))
    ).all()
    periods = session.scalars(
        select(Document.period_label).distinct().where(Document.period_label.is_not(None))
    ).all()
    statuses = session.scalars(
        select(Record.status).distinct().where(Record.status.is_not(None))
    ).all()
    return {
        "councils": sorted(c for c in councils if c),
        "periods": sorted(p for p in periods if p),
        "statuses": sorted(s for s in statuses if s),
    }
