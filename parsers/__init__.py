"""File in, records out: pure parsers with no database and no settings from the environment.

>>> from parsers import parse_file
>>> parse_file(Path("plan.pdf")).records[0].code
'KA.1'
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from parsers.model import (
    PARSER_VERSION,
    DocumentFacts,
    ParsedDocument,
    ParseError,
    Period,
    Problem,
    Record,
)
from parsers.ocr import OcrMode
from parsers.periods import infer_period, text_sources
from parsers.sniff import MEDIA_TYPES, sniff

Parser = Callable[..., ParsedDocument]

# Each kind's parser as "module:function", imported on first use: pdfplumber, python-docx
# and spaCy cost a second at start-up that commands which parse nothing should not pay.
PARSERS: dict[str, str] = {
    "pdf": "parsers.pdf:parse_pdf",
    "docx": "parsers.word:parse_docx",
    "doc": "parsers.legacy:parse_legacy",
    "odt": "parsers.legacy:parse_legacy",
    "rtf": "parsers.legacy:parse_legacy",
}

SUFFIXES = frozenset({".pdf", ".docx", ".doc", ".odt", ".rtf"})


def parse_file(path: Path, period: Period | None = None, ocr: OcrMode = "auto") -> ParsedDocument:
    """Parse one file, choosing the parser by what the file is, not what it is called.

    The format's parser finds the tables and records; the field pipeline then reads codes,
    deadlines (two-digit years against the document's period), officers and status.
    A `period` given by the caller (``ingest --period``) is used as is; otherwise it is
    inferred once, here, and travels on the result. `ocr` says which PDF pages are read
    from their image (``parsers.ocr``): ``auto``, those without a usable text layer. Raises `ParseError` with a reason a
    person can act on when nothing can be read.
    """
    from parsers.fields.pipeline import recognise

    kind = sniff(path)
    if kind not in PARSERS:
        raise ParseError(f"a {kind} file holds no plan; unpack it first")
    module, function = PARSERS[kind].split(":")
    parser: Parser = getattr(import_module(module), function)
    parsed = parser(path, ocr=ocr) if kind == "pdf" else parser(path)
    if period is not None:
        parsed.period, parsed.period_source = period, "option"
    else:
        parsed.period, parsed.period_source = infer_period(text_sources(parsed.facts, path.name))
    recognise(parsed.records, parsed.period.start if parsed.period else None)
    return parsed


def warm_up() -> None:
    """Import every parser and build the field pipeline now: a long-lived worker pays the
    second this takes once, at start, instead of inside its first document."""
    from parsers.fields.pipeline import load_pipeline

    for target in set(PARSERS.values()):
        import_module(target.split(":")[0])
    load_pipeline()


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
    "warm_up",
]
