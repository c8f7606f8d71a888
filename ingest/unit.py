"""The per-document unit: hash → parse → store, idempotent by content hash.

Each step is a function of its own so the batch can hash and store in the main process
while parsing runs in workers, and a task engine can run `ingest_document` whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from corpus.register import carry_over
from models import AuditEvent, Document, Record
from models.schema import DocumentStatus
from parsers import MEDIA_TYPES, PARSER_VERSION, ParsedDocument, ParseError, parse_file, sniff
from parsers.councils import infer_council
from parsers.ocr import OcrMode
from parsers.periods import (
    Period,
    find_date,
    find_reporting_point,
    infer_period,
    text_sources,
)

OutcomeStatus = Literal["new", "updated", "unchanged", "skipped", "failed"]


@dataclass(frozen=True)
class IngestOptions:
    """What the person said about the files; anything left out is inferred per document."""

    council: str | None = None
    committee: str | None = None
    period: Period | None = None
    meeting_date: dt.date | None = None
    ocr: OcrMode = "auto"
    max_file_bytes: int = 200 * 1024 * 1024


@dataclass
class Outcome:
    file: str
    status: OutcomeStatus
    reason: str | None = None
    records: int = 0
    sha256: str | None = None
    document_id: int | None = None
    notes: list[str] = field(default_factory=list)


def display_name(path: Path) -> str:
    """A printable, storable name even when the file name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", errors="replace")


def file_digest(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return digest.hexdigest(), path.stat().st_size


def read_error(path: Path, error: OSError) -> str:
    return f"cannot read the file ({error.strerror or error})"


def already_stored(session: Session, sha256: str) -> Document | None:
    return session.scalars(select(Document).where(Document.sha256 == sha256)).one_or_none()


def is_current(document: Document | None) -> bool:
    return (
        document is not None
        and document.parser_version == PARSER_VERSION
        and document.status != DocumentStatus.FAILED
    )


def _media_type(path: Path) -> str:
    try:
        return MEDIA_TYPES.get(sniff(path), "application/octet-stream")
    except (ParseError, OSError):
        return "application/octet-stream"


def describe_document(
    path: Path, parsed: ParsedDocument | None, options: IngestOptions
) -> dict[str, object]:
    """Council, committee, meeting date and period: from the options, else from the document."""
    facts = parsed.facts if parsed else None
    sources = text_sources(facts, display_name(Path(path.name)))
    period: Period | None
    period_source: str | None
    council: str | None
    council_source: str | None
    if options.period:
        period, period_source = options.period, "option"
    elif parsed is not None:
        period, period_source = parsed.period, parsed.period_source
    else:
        period, period_source = infer_period(sources)
    if options.council:
        council, council_source = options.council, "option"
    else:
        author = [("metadata author", (facts.author or "") if facts else "")]
        council, council_source = infer_council(author + sources[:2])
    meeting = options.meeting_date or find_date(display_name(Path(path.name)))
    point, point_source = find_reporting_point(sources, period)
    return {
        "council": council,
        "council_source": council_source,
        "committee": options.committee,
        "meeting_date": meeting,
        "reporting_point": point,
        "reporting_point_source": point_source,
        "period_label": period.label if period else None,
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "period_source": period_source,
    }


def _records(parsed: ParsedDocument) -> list[Record]:
    return [
        Record(
            ordinal=ordinal,
            page=r.page,
            table_index=r.table_index,
            row_index=r.row_index,
            paragraph_index=r.paragraph_index,
            bbox=list(r.bbox) if r.bbox else None,
            section=list(r.section),
            kind=r.kind,
            code=r.code,
            code_key=r.code_key,
            title=r.title,
            cells=dict(r.cells),
            indicators=list(r.indicators),
            indicator_keys=list(r.indicator_keys),
            deadline_text=r.deadline_text,
            deadlines=[d.isoformat() for d in r.deadlines],
            officers=[{"text": o.text, "is_role": o.is_role} for o in r.officers],
            officer_names="\n".join(o.text for o in r.officers),
            status_text=r.status_text,
            status=r.status,
            service_ref=r.service_ref,
            confidence=r.confidence,
            flagged=r.flagged,
            flag_reason=r.flag_reason,
            source=r.source,
            ocr_confidence=r.ocr_confidence,
        )
        for ordinal, r in enumerate(parsed.records)
    ]


def store_parsed(
    sessions: sessionmaker[Session],
    path: Path,
    sha256: str,
    size: int,
    parsed: ParsedDocument | None,
    failure: str | None,
    options: IngestOptions,
) -> Outcome:
    """Store one document and all its records in one transaction, or nothing at all.

    A failure is stored as a document with status ``failed`` so ``status`` can list it,
    but never over a document that was stored successfully before.
    """
    name = display_name(path)
    with sessions.begin() as session:
        existing = already_stored(session, sha256)
        if (
            failure is not None
            and existing is not None
            and existing.status != DocumentStatus.FAILED
        ):
            return Outcome(name, "failed", failure, sha256=sha256, document_id=existing.id)
        document = existing or Document(sha256=sha256)
        if existing is None:
            session.add(document)
        document.file_name = name
        document.source_path = display_name(path.resolve())
        document.media_type = _media_type(path)
        document.size = size
        for key, value in describe_document(path, parsed, options).items():
            setattr(document, key, value)
        document.parser = parsed.parser if parsed else "none"
        document.parser_version = PARSER_VERSION
        document.page_count = parsed.facts.page_count if parsed else None
        problems = [p.describe() for p in parsed.problems] if parsed else []
        if failure:
            problems.insert(0, failure)
        document.problems = problems
        fresh = _records(parsed) if parsed and failure is None else []
        if existing is not None and fresh:
            carry_over(session, existing, fresh)
        document.records = fresh
        if failure:
            document.status = DocumentStatus.FAILED
        else:
            document.status = DocumentStatus.OK if document.records else DocumentStatus.EMPTY
        session.flush()
        session.add(
            AuditEvent(
                actor=None,
                action="ingest",
                entity_type="document",
                entity_id=document.id,
                detail={"file": name, "status": document.status, "records": len(document.records)},
            )
        )
        status: OutcomeStatus = "failed" if failure else ("updated" if existing else "new")
        return Outcome(
            name,
            status,
            failure,
            records=len(document.records),
            sha256=sha256,
            document_id=document.id,
            notes=problems if not failure else [],
        )


def unexpected_error(error: BaseException) -> str:
    """A reason for a failure no parser foresaw, as plain text (a worker's exception may not
    survive the trip back to the batch), naming the kind of error for a bug report."""
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    return f"could not read the file ({type(error).__name__}{': ' + detail if detail else ''})"


def parse_job(
    path: Path,
    period: Period | None = None,
    ocr: OcrMode = "auto",
    interrupts: tuple[type[BaseException], ...] = (),
    time_limit: float | None = None,
) -> tuple[ParsedDocument | None, str | None]:
    """Parse in a worker, with the caller's period hint and OCR choice; every failure
    comes back as a reason instead of an exception, except the `interrupts` the runner
    raises into the parse itself (a task engine's time limit). A parse that outran
    `time_limit` fails even when it finished: a library may catch the interrupt and carry
    on (pdfplumber wraps whatever a page raises), and then the page it hit is missing."""
    started = time.monotonic()
    try:
        parsed = parse_file(path, period, ocr)
    except ParseError as error:
        return None, str(error)
    except OSError as error:
        return None, read_error(path, error)
    except MemoryError:
        return None, "ran out of memory while parsing; the file is too large or malformed"
    except Exception as error:
        if isinstance(error, interrupts):
            raise
        return None, unexpected_error(error)
    if time_limit is not None and time.monotonic() - started > time_limit:
        return None, over_time_limit(time_limit)
    if parsed.failed:
        return None, "; ".join(p.describe() for p in parsed.problems if p.fatal)
    return parsed, None


def over_time_limit(time_limit: float) -> str:
    return f"parsing took longer than the {time_limit:g} s time limit"


def ingest_document(
    sessions: sessionmaker[Session],
    path: Path,
    options: IngestOptions | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
    time_limit: float | None = None,
) -> Outcome:
    """The whole unit in one call: what a distributed worker runs for one file."""
    options = options or IngestOptions()
    name = display_name(path)
    try:
        sha256, size = file_digest(path)
    except OSError as error:
        return Outcome(name, "failed", read_error(path, error))
    if size > options.max_file_bytes:
        limit = options.max_file_bytes // (1024 * 1024)
        return Outcome(name, "failed", f"file is larger than the {limit} MB limit", sha256=sha256)
    with sessions() as session:
        if is_current(already_stored(session, sha256)):
            return Outcome(name, "unchanged", sha256=sha256)
    parsed, failure = parse_job(path, options.period, options.ocr, interrupts, time_limit)
    try:
        return store_parsed(sessions, path, sha256, size, parsed, failure, options)
    except IntegrityError:
        return Outcome(name, "unchanged", "stored meanwhile by another worker", sha256=sha256)


def describe_parsed(path: Path, parsed: ParsedDocument) -> dict[str, Any]:
    """The evaluation format of ../shared/eval/README.md, plus what was inferred and problems."""
    about = describe_document(path, parsed, IngestOptions())
    period = None
    if about["period_label"]:
        period = {
            "label": about["period_label"],
            "start": str(about["period_start"]),
            "end": str(about["period_end"]),
        }
    return {
        "file": display_name(Path(path.name)),
        "council": about["council"],
        "period": period,
        "parser": parsed.parser,
        "parser_version": parsed.parser_version,
        "records": [record.to_eval() for record in parsed.records],
        "problems": [problem.describe() for problem in parsed.problems],
    }
