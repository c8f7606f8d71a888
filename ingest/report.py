"""What the store holds, per council and period, and the files with problems."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Document, Record


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
