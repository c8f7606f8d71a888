"""Read-only summaries for the CLI: extraction JSON and store status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.unit import IngestOptions, describe_document, display_name
from models import Document, Record
from parsers import ParsedDocument


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


def store_status(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        rows = session.execute(
            select(
                Document.council,
                Document.period_label,
                func.count(func.distinct(Document.id)),
                func.count(Record.id),
            )
            .outerjoin(Record)
            .group_by(Document.council, Document.period_label)
            .order_by(Document.council, Document.period_label)
        ).all()
        problems = session.scalars(
            select(Document).where(Document.status != "ok").order_by(Document.file_name)
        ).all()
        return {
            "periods": [
                {"council": c, "period": p, "documents": d, "records": r} for c, p, d, r in rows
            ],
            "problems": [
                {"file": d.file_name, "status": d.status, "problems": list(d.problems)}
                for d in problems
            ],
        }
