"""Reviewers' "different" judgements: the one rule every link must pass.

A reviewer who judges record A different from an item X (whose latest record was B) says
two things, and both hold for ever, until the judgement is undone:

* A never joins X;
* A and B never share an item, whichever of them moves, is re-matched or re-parsed.

Matching (``corpus.register``) and every review action (``corpus.review``) ask the same
question here: ``Judgements.against(record, item, members)``. Re-parse carry-over moves a
judgement to the record's heir, so it keeps holding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models import Decision
from models.schema import Verdict


@dataclass
class Judgements:
    """The "different" judgements in force, loaded once and asked many times."""

    apart_from_item: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    """item → {record judged different from it → decision}"""
    apart_from_record: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    """record → {record judged different from it → decision}, both ways round"""

    @classmethod
    def load(cls, session: Session, records: Collection[int] | Select[Any]) -> Judgements:
        """The judgements in force about any of ``records`` (ids, or a query giving them)."""
        judgements = cls()
        for decision in session.scalars(
            select(Decision).where(
                Decision.verdict == Verdict.DIFFERENT,
                Decision.deleted_at.is_(None),
                or_(Decision.record_id.in_(records), Decision.other_record_id.in_(records)),
            )
        ):
            judgements.add(
                decision.id,
                decision.record_id,
                decision.canonical_item_id,
                decision.other_record_id,
            )
        return judgements

    def add(self, decision: int, record: int, item: int | None, other_record: int | None) -> None:
        if item is not None:
            self.apart_from_item[item][record] = decision
        if other_record is not None:
            self.apart_from_record[record][other_record] = decision
            self.apart_from_record[other_record][record] = decision

    def against(self, record: int, item: int, members: Iterable[int]) -> int | None:
        """The decision that forbids ``record`` joining ``item`` with these members, if any."""
        if record in self.apart_from_item.get(item, {}):
            return self.apart_from_item[item][record]
        apart = self.apart_from_record.get(record, {})
        for member in members:
            if member in apart:
                return apart[member]
        return None

    def barred_from(self, item: int, members: Iterable[int]) -> set[int]:
        """Every record that may not join ``item`` while it holds ``members``."""
        barred = set(self.apart_from_item.get(item, {}))
        for member in members:
            barred.update(self.apart_from_record.get(member, {}))
        return barred
