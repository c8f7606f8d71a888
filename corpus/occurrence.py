"""An extracted record as matching sees it: its identity, its period and its prepared fields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from corpus.normalise import (
    code_stem,
    is_sequence_code,
    normalise_officer,
    normalise_text,
    stems_of_normalised,
)
from parsers.fields.codes import code_key


@dataclass(frozen=True)
class Occurrence:
    """``period`` is an ordinal (the financial year's first calendar year). ``document``
    says which document of the period the record came from (None: the period's only
    one) and ``point`` orders the documents of one period (a quarter's meeting date, a
    later version): several reports of one year follow each other like years do."""

    key: int
    period: int
    kind: str
    title: str
    title_norm: str
    stems: frozenset[str]
    code_key: str | None
    code_stem: str | None
    sequence_code: bool
    indicators: frozenset[str]
    officers: frozenset[str]
    section: str
    document: int | None = None
    point: int = 0

    @property
    def source(self) -> tuple[int, int | None]:
        """The document, as matching tells documents apart."""
        return (self.period, self.document)

    @classmethod
    def build(
        cls,
        key: int,
        period: int,
        kind: str,
        title: str,
        code: str | None = None,
        indicators: Iterable[str] = (),
        officers: Iterable[str] = (),
        section: Iterable[str] = (),
        document: int | None = None,
        point: int = 0,
    ) -> Occurrence:
        own = code_key(code)
        title_norm = normalise_text(title)
        return cls(
            key=key,
            period=period,
            kind=kind,
            title=title,
            title_norm=title_norm,
            stems=stems_of_normalised(title_norm),
            code_key=own,
            code_stem=code_stem(code),
            sequence_code=is_sequence_code(code),
            indicators=frozenset(code_key(i) or i for i in indicators) - {own},
            officers=frozenset(normalise_officer(o) for o in officers if o.strip()),
            section=normalise_text(" ".join(section)),
            document=document,
            point=point,
        )
