"""The register as CSV or Excel: one row per canonical item, or one row per occurrence.

Document text is untrusted: a cell that a spreadsheet would read as a formula (starting
with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'`` (OWASP's
advice for CSV injection), in both formats. Rows stream from the store (and openpyxl
writes in its write-only mode), so a large register does not have to fit in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from corpus.summary import ItemSummary
from models import CanonicalItem, Document, Link, Record
from models.schema import MEMBER_STATES, DocumentStatus

OCCURRENCE_COLUMNS = (
    "canonical_id",
    "source_file",
    "code",
    "title",
    "link_state",
    "suggested_canonical_id",
    "council",
    "period",
    "kind",
    "indicators",
    "deadline_text",
    "deadlines",
    "officers",
    "status",
    "link_score",
    "page",
    "table_index",
    "row_index",
    "sha256",
    "record_id",
)
REGISTER_COLUMNS = (
    "canonical_id",
    "council",
    "kind",
    "codes",
    "title",
    "first_period",
    "last_period",
    "periods",
    "latest_deadline",
    "latest_officers",
    "latest_status",
    "occurrences",
    "pending",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns that hold one ISO date (or text such as "Ongoing"); in Excel a date is a date.
DATE_COLUMNS = frozenset({"latest_deadline", "deadlines"})
NUMBER_COLUMNS = frozenset({"link_score"})


def canonical_id(item_id: int | None) -> str:
    return f"CR-{item_id:06d}" if item_id is not None else ""


def parse_canonical_id(text: str) -> int | None:
    """``CR-000042`` or ``42`` → 42; anything else → None."""
    digits = text.strip().upper().removeprefix("CR-")
    return int(digits) if digits.isdigit() else None


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _joined(values: list[Any]) -> str:
    return "; ".join(str(v) for v in values if v)


def _officers(record: Record) -> str:
    return _joined([officer["text"] for officer in record.officers])


def occurrence_rows(session: Session, council: str | None = None) -> Iterator[dict[str, Any]]:
    query = (
        select(Record, Document, Link)
        .join(Document, Record.document_id == Document.id)
        .outerjoin(Link, Link.record_id == Record.id)
        .where(Document.status == DocumentStatus.OK)
        .order_by(Document.council, Document.period_start, Document.id, Record.ordinal)
        .execution_options(yield_per=2000)
    )
    if council is not None:
        query = query.where(Document.council == council)
    for record, document, link in session.execute(query):
        pending = link is not None and link.state == "pending"
        item = (link.suggested_item_id if pending else link.canonical_item_id) if link else None
        yield {
            "canonical_id": canonical_id(item),
            "source_file": document.file_name,
            "code": record.code or "",
            "title": record.title,
            "link_state": link.state if link else "unmatched",
            "suggested_canonical_id": canonical_id(link.suggested_item_id)
            if pending and link
            else "",
            "council": document.council or "",
            "period": document.period_label or "",
            "kind": record.kind,
            "indicators": _joined(record.indicators),
            "deadline_text": record.deadline_text or "",
            "deadlines": _joined(record.deadlines),
            "officers": _officers(record),
            "status": record.status or "",
            "link_score": f"{link.score:.4f}" if link and link.score is not None else "",
            "page": record.page if record.page is not None else "",
            "table_index": record.table_index if record.table_index is not None else "",
            "row_index": record.row_index if record.row_index is not None else "",
            "sha256": document.sha256,
            "record_id": record.id,
        }


def register_rows(
    session: Session, council: str | None = None, only: Select[Any] | None = None
) -> Iterator[dict[str, Any]]:
    """One row per canonical item; the latest occurrence gives title, deadline, officers,
    status. `only` (a query of item ids, e.g. a register search) limits the items."""
    items_query = select(CanonicalItem).order_by(CanonicalItem.id)
    if council is not None:
        items_query = items_query.where(CanonicalItem.council == council)
    if only is not None:
        items_query = items_query.where(CanonicalItem.id.in_(only))
    summaries = {item.id: ItemSummary(item) for item in session.scalars(items_query)}
    members = (
        select(Link, Record, Document)
        .join(Record, Link.record_id == Record.id)
        .join(Document, Record.document_id == Document.id)
        .order_by(Document.period_start, Record.id)
        .execution_options(yield_per=2000)
    )
    for link, record, document in session.execute(members):
        if link.state == "pending":
            summary = summaries.get(link.suggested_item_id or 0)
            if summary:
                summary.pending = True
            continue
        summary = summaries.get(link.canonical_item_id or 0)
        if summary is not None and link.state in MEMBER_STATES:
            summary.add(record, document)
    for summary in summaries.values():
        latest = summary.latest
        yield {
            "canonical_id": canonical_id(summary.item.id),
            "council": summary.item.council or "",
            "kind": summary.item.kind,
            "codes": _joined(summary.codes),
            "title": latest.title if latest else summary.item.title,
            "first_period": summary.periods[0] if summary.periods else "",
            "last_period": summary.periods[-1] if summary.periods else "",
            "periods": _joined(summary.periods),
            "latest_deadline": max(latest.deadlines)
            if latest and latest.deadlines
            else (latest.deadline_text or "" if latest else ""),
            "latest_officers": _officers(latest) if latest else "",
            "latest_status": (latest.status or "") if latest else "",
            "occurrences": summary.count,
            "pending": "yes" if summary.pending else "no",
        }


def csv_chunks(
    rows: Iterator[dict[str, Any]], columns: tuple[str, ...], bom: bool = False
) -> Iterator[str]:
    """The CSV as text chunks, for streaming over HTTP."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for index, row in enumerate(rows, start=1):
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(rows: Iterator[dict[str, Any]], columns: tuple[str, ...], stream: IO[str]) -> int:
    writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
        count += 1
    return count


def _typed(column: str, value: Any) -> Any:
    """A cell as Excel should hold it: ISO dates as dates, scores as numbers."""
    if isinstance(value, str) and value:
        if column in DATE_COLUMNS:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
        if column in NUMBER_COLUMNS:
            return float(value)
    return value


Sheet = tuple[str, tuple[str, ...], Iterator[dict[str, Any]]]


def write_xlsx(sheets: list[Sheet], target: Path) -> list[int]:
    """A workbook with one sheet per (title, columns, rows): a frozen header row, filters on,
    dates typed. Returns the number of rows written to each sheet."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    counts = []
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(
                60, max(10, len(column) + 2)
            )
        sheet.append(list(columns))
        count = 0
        for row in rows:
            sheet.append([_typed(column, safe_cell(row.get(column, ""))) for column in columns])
            count += 1
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
        counts.append(count)
    workbook.save(target)
    return counts
