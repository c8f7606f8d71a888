"""What a parser hands back: a document's records with their provenance, and its problems.

These are plain dataclasses so they cross process boundaries (ingest parses in worker
processes) and serialise to the evaluation JSON without a database in sight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PARSER_VERSION = "0.5.0"
"""Bumped whenever parsing changes what comes out: ingest re-parses older documents."""

Kind = Literal["action", "indicator"]
Status = Literal["red", "amber", "green", "grey", "complete"]


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date

    @classmethod
    def financial_year(cls, first_year: int) -> Period:
        return cls(
            f"{first_year}/{(first_year + 1) % 100:02d}",
            dt.date(first_year, 4, 1),
            dt.date(first_year + 1, 3, 31),
        )

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        return cls.financial_year(day.year if day.month >= 4 else day.year - 1)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file or part of it, kept as data rather than raised.

    `fatal` problems mean the document yielded nothing trustworthy; others (a scanned
    page, a low-confidence table) travel with an otherwise good result.
    """

    reason: str
    page: int | None = None
    fatal: bool = False

    def describe(self) -> str:
        return f"page {self.page}: {self.reason}" if self.page else self.reason


@dataclass
class Officer:
    text: str
    is_role: bool


@dataclass
class Record:
    """One data row of an action or indicator table (or one prose indicator line)."""

    kind: Kind
    code: str | None
    title: str
    code_key: str | None = None
    cells: dict[str, str] = field(default_factory=dict)
    section: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    indicator_keys: list[str] = field(default_factory=list)
    deadline_text: str | None = None
    deadlines: list[dt.date] = field(default_factory=list)
    officers: list[Officer] = field(default_factory=list)
    status_text: str | None = None
    status: Status | None = None
    service_ref: str | None = None
    page: int | None = None
    table_index: int | None = None
    row_index: int | None = None
    paragraph_index: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    confidence: float = 1.0
    flagged: bool = False
    flag_reason: str | None = None
    """Why a person should check this row: what the reader was unsure of."""
    sources: dict[str, str] = field(default_factory=dict)
    """The texts the field recognisers read (indicators, deadline, officer, status)."""
    source: Literal["text", "ocr"] = "text"
    """Where the row's words came from: the file's text, or OCR of a page image."""
    ocr_confidence: float | None = None
    """Tesseract's mean confidence (0-100) in the row's words, when read by OCR."""

    def to_eval(self) -> dict[str, Any]:
        """The record in the shape ../shared/eval/README.md scores."""
        return {
            "kind": self.kind,
            "code": self.code,
            "title": self.title,
            "indicators": list(self.indicators),
            "deadlines": [d.isoformat() for d in self.deadlines],
            "deadline_text": self.deadline_text,
            "officers": [o.text for o in self.officers],
            "status": self.status,
            "status_text": self.status_text,
            "page": self.page,
            "table_index": self.table_index,
            "row_index": self.row_index,
            "paragraph_index": self.paragraph_index,
            "bbox": list(self.bbox) if self.bbox else None,
            "section": list(self.section),
            "confidence": round(self.confidence, 3),
            "flagged": self.flagged,
            "flag_reason": self.flag_reason,
            "source": self.source,
            "ocr_confidence": None
            if self.ocr_confidence is None
            else round(self.ocr_confidence, 1),
        }


@dataclass
class DocumentFacts:
    """What the document says about itself: used to infer council, committee and period."""

    title: str | None = None
    author: str | None = None
    first_text: str = ""
    page_count: int | None = None


@dataclass
class ParsedDocument:
    parser: str
    parser_version: str
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    facts: DocumentFacts = field(default_factory=DocumentFacts)
    tables_seen: int = 0
    period: Period | None = None
    """The financial year the document covers: the caller's hint, else what it says."""
    period_source: str | None = None

    @property
    def failed(self) -> bool:
        return any(p.fatal for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ParseError(Exception):
    """A file that cannot be parsed at all; the message names the reason for a person."""
