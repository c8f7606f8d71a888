"""File in, records out: pure parsers with no database and no settings from the environment.

>>> from parsers import parse_file
>>> parse_file(Path("plan.pdf")).records[0].code
'KA.1'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from parsers.fields import recognise
from parsers.legacy import parse_legacy
from parsers.model import (
    PARSER_VERSION,
    DocumentFacts,
    ParsedDocument,
    ParseError,
    Period,
    Problem,
    Record,
)
from parsers.pdf import parse_pdf
from parsers.periods import infer_period, text_sources
from parsers.sniff import MEDIA_TYPES, sniff
from parsers.word import parse_docx

Parser = Callable[[Path], ParsedDocument]

PARSERS: dict[str, Parser] = {
    "pdf": parse_pdf,
    "docx": parse_docx,
    "doc": parse_legacy,
    "odt": parse_legacy,
    "rtf": parse_legacy,
}

SUFFIXES = frozenset({".pdf", ".docx", ".doc", ".odt", ".rtf"})


def parse_file(path: Path, period: Period | None = None) -> ParsedDocument:
    """Parse one file, choosing the parser by what the file is, not what it is called.

    The format's parser finds the tables and records; the field pipeline then reads codes,
    deadlines (two-digit years against the document's period), officers and status.
    A `period` given by the caller (``ingest --period``) is used as is; otherwise it is
    inferred once, here, and travels on the result. Raises `ParseError` with a reason a
    person can act on when nothing can be read.
    """
    kind = sniff(path)
    parser = PARSERS.get(kind)
    if parser is None:
        raise ParseError(f"a {kind} file holds no plan; unpack it first")
    parsed = parser(path)
    if period is not None:
        parsed.period, parsed.period_source = period, "option"
    else:
        parsed.period, parsed.period_source = infer_period(text_sources(parsed.facts, path.name))
    recognise(parsed.records, parsed.period.start if parsed.period else None)
    return parsed


__all__ = [
    "MEDIA_TYPES",
    "PARSERS",
    "PARSER_VERSION",
    "SUFFIXES",
    "DocumentFacts",
    "ParseError",
    "ParsedDocument",
    "Problem",
    "Record",
    "parse_file",
    "sniff",
]
