"""The register's tables.

Documents own records; records are linked to canonical items by links; reviewers'
decisions and every change are kept (decisions are soft-deleted for undo, audit
events are append-only). JSON columns hold lists whose shape the parsers define.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class LinkState(StrEnum):
    """Where a record sits in the register."""

    NEW = "new"  # the first record of its own item
    AUTO = "auto"  # linked by matching, sure enough to need no review
    PENDING = "pending"  # queued for review; `suggested_item_id` is the machine's guess
    CONFIRMED = "confirmed"  # placed by a reviewer


class Verdict(StrEnum):
    """A reviewer's judgement of a record (`Decision.verdict`)."""

    SAME = "same"  # the suggested item is right
    DIFFERENT = "different"  # it is not: the record starts an item of its own
    MOVE = "move"  # it belongs to another item, named by the reviewer
    DISMISS = "dismiss"  # a flagged extraction is fine as read
    CORRECT = "correct"  # a flagged extraction, corrected


class DocumentStatus(StrEnum):
    """What reading a stored document gave (`Document.status`)."""

    OK = "ok"  # records found
    EMPTY = "empty"  # read, but no action or indicator table in it
    FAILED = "failed"  # could not be read; `problems` says why


# The states whose record belongs to its item; a pending record belongs to none yet.
MEMBER_STATES = (LinkState.NEW.value, LinkState.AUTO.value, LinkState.CONFIRMED.value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


class Document(Timestamped, Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(1024))
    source_path: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    council: Mapped[str | None] = mapped_column(String(200), index=True)
    council_source: Mapped[str | None] = mapped_column(String(50))
    committee: Mapped[str | None] = mapped_column(String(200))
    meeting_date: Mapped[dt.date | None] = mapped_column(Date)
    reporting_point: Mapped[dt.date | None] = mapped_column(Date)
    """Where in its year the report stands (a quarter's or a stated month's last day)."""
    reporting_point_source: Mapped[str | None] = mapped_column(String(50))
    period_label: Mapped[str | None] = mapped_column(String(20), index=True)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    period_source: Mapped[str | None] = mapped_column(String(50))
    parser: Mapped[str] = mapped_column(String(50))
    parser_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # ok | empty | failed
    problems: Mapped[list[Any]] = mapped_column(default=list)
    page_count: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now, server_default=func.now()
    )

    records: Mapped[list[Record]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Record.id"
    )

    @property
    def shown_name(self) -> str:
        """The file's own name: the folders it was read from are the server's business."""
        return self.file_name.replace("\\", "/").rsplit("/", 1)[-1]


class Record(Timestamped, Base):
    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_document_position", "document_id", "table_index", "row_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    table_index: Mapped[int | None] = mapped_column(Integer)
    row_index: Mapped[int | None] = mapped_column(Integer)
    paragraph_index: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list[Any] | None] = mapped_column()
    section: Mapped[list[Any]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(100))
    code_key: Mapped[str | None] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(Text)
    cells: Mapped[dict[str, Any]] = mapped_column(default=dict)
    indicators: Mapped[list[Any]] = mapped_column(default=list)
    indicator_keys: Mapped[list[Any]] = mapped_column(default=list)
    deadline_text: Mapped[str | None] = mapped_column(Text)
    deadlines: Mapped[list[Any]] = mapped_column(default=list)
    officers: Mapped[list[Any]] = mapped_column(default=list)
    status_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))
    service_ref: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="text", server_default="text")
    """``text`` (the file's own text) or ``ocr`` (read from a page image)."""
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    officer_names: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The officers' names and roles, one per line, for search (the JSON keeps the rest)."""

    document: Mapped[Document] = relationship(back_populates="records")
    link: Mapped[Link | None] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        uselist=False,
        foreign_keys="Link.record_id",
    )


class CanonicalItem(Timestamped, Base):
    """One action or indicator as it persists across years. Its id never changes."""

    __tablename__ = "canonical_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    council: Mapped[str | None] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(100))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id", ondelete="SET NULL"))


class MatchingRun(Timestamped, Base):
    """A run of the matcher; its settings are kept so any link can be explained later."""

    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    council: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Link(Base):
    """Where a record sits in the register (a `LinkState`)."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), unique=True
    )
    canonical_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("canonical_items.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    suggested_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("canonical_items.id", ondelete="SET NULL")
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id", ondelete="SET NULL"))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now, server_default=func.now()
    )

    record: Mapped[Record] = relationship(back_populates="link", foreign_keys=[record_id])


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # reviewer | admin
    disabled: Mapped[bool] = mapped_column(default=False)


class SignIn(Base):
    """One signed-in browser. The cookie holds a random token; only its hash is kept, and
    signing out (or disabling the user, or a new password or role) ends the row, so a
    copied cookie dies with it. It also ends after 12 hours, or 1 hour unused."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))


class Decision(Timestamped, Base):
    """A reviewer's judgement: a constraint every later matching run respects.

    verdict is `same`, `different` or `move` (record → canonical item), or `dismiss`
    for a flagged extraction. `previous` is the link as it was, so undo can put it back;
    undo sets `deleted_at`, nothing is erased.
    """

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_pair", "record_id", "other_record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    other_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE")
    )
    canonical_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("canonical_items.id", ondelete="SET NULL")
    )
    verdict: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    previous: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now(), index=True
    )
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


__all__ = [
    "AuditEvent",
    "Base",
    "CanonicalItem",
    "Decision",
    "Document",
    "Link",
    "MatchingRun",
    "Record",
    "SignIn",
    "User",
]


class IngestJob(Base):
    """A batch of files to ingest (an upload, or ``ingest --queue``), kept in the store so
    its progress and history outlive the process that submitted it. `options` holds what
    the person said about the files (council, committee, period, meeting date, OCR)."""

    __tablename__ = "ingest_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # upload | batch
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now(), index=True
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    """queued | running | matching | done"""
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    matched: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    files: Mapped[list[JobFile]] = relationship(
        back_populates="job", order_by="JobFile.id", cascade="all, delete-orphan"
    )


class JobFile(Base):
    """One file of a job, its state written as the work goes."""

    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("ingest_jobs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    """waiting | ingesting | new | updated | unchanged | failed"""
    reason: Mapped[str | None] = mapped_column(Text)
    records: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    job: Mapped[IngestJob] = relationship(back_populates="files")
