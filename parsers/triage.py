"""Page triage: which pages of a PDF are worth a table search, from cheap evidence.

A committee pack has hundreds of pages and a few dozen hold plan tables. pypdfium2 gives
each page's text and drawn objects in milliseconds; pdfplumber's full reading costs a
hundred times more, so it is spent only on pages that show a table's evidence:

* a **header line**: one short line naming two or more column roles of the one header
  vocabulary (``parsers.roles``), one of them a title, code, deadline, owner or status;
* **ruling** (drawn lines or filled boxes) with a short line that names the plan's rows
  ("What we will do", "… be measured?"), or with **row anchors**: three or more
  lines that are a code alone (a code cell, not a numbered paragraph);
* **continuation**: the page after a table page with anchors or ruling, one hop only, so a
  budget appendix after a plan does not ride along.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pypdfium2 as pdfium

from parsers.model import DocumentFacts, ParseError
from parsers.roles import PLAN_ROLES, PLAN_TITLE, TITLE_ROLES, header_line_roles

# A code cell: a line that is only a code ("T1", "KA.12"), or a lettered code that starts
# a row ("P1 Open the new …"); unlike a numbered paragraph ("7.3.5 Appropriate …").
CODE_ALONE = re.compile(
    r"^\s*(?:(?:[A-Z]{1,6}[\s.\-]?\d{1,4}[a-z]?|\d{1,2}-[A-Z]{2,6}\d{1,3}|"
    r"\d{1,2}(?:\.\d{1,2}){1,3})\s*$|[A-Z]{1,6}[.\-]?\d{1,4}[a-z]?\s+[A-Z][a-z])",
    re.M,
)
CODE_LINE = re.compile(r"^\s*(?:[A-Z]{1,6}[\s.\-]?\d{1,4}|\d{1,2}-[A-Z]{2,6}\d|\d{1,2}\.\d)", re.M)
ANCHOR_ROLES = PLAN_ROLES | {"title", "code"}
"""A header line names one of these: what the rows are, their code, deadline, owner or status."""
RULED_PATHS = 8
"""Drawn path objects (lines, filled boxes) that make a page ruled."""
PATH = pdfium.raw.FPDF_PAGEOBJ_PATH


@dataclass(frozen=True)
class PageEvidence:
    """What the fast pass saw on one page, kept so a benchmark can explain its choice."""

    header_line: bool
    title_word: bool
    code_lines: int
    code_cells: int
    ruled: bool

    def holds_table(self) -> bool:
        return self.header_line or (self.ruled and (self.title_word or self.code_cells >= 3))

    def continues_table(self) -> bool:
        """After a table page: rows with codes carry the table on (and on again); ruling
        alone carries it one page."""
        return self.code_lines >= 1 or self.ruled


def page_evidence(text: str, ruled: Callable[[], bool]) -> PageEvidence:
    """The page's evidence from its lines of text; `ruled` (the slow part: counting drawn
    objects, or rules OCR found) is asked only when the text hints."""
    header_line = title_word = False
    for line in text.splitlines():
        roles = header_line_roles(line)
        if roles & TITLE_ROLES and PLAN_TITLE.search(line):
            title_word = True
        if len(roles) >= 2 and roles & ANCHOR_ROLES:
            header_line = True
            break
    code_lines = len(CODE_LINE.findall(text))
    code_cells = len(CODE_ALONE.findall(text))
    return PageEvidence(
        header_line, title_word, code_lines, code_cells, not header_line and ruled()
    )


def keep_pages(
    evidence: Iterable[tuple[int, PageEvidence]], kept: Collection[int] = ()
) -> set[int]:
    """Pages worth a table search, from each page's evidence in page order: a page that holds
    a table, and the page after a table page when it carries the table on. `kept` are
    pages already chosen (by the text layer) that a following page may carry on from."""
    keep = set(kept)
    for number, seen in evidence:
        if seen.holds_table() or (number - 1 in keep and seen.continues_table()):
            keep.add(number)
    return keep


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise ParseError("password-protected PDF; save an unprotected copy") from error
        raise ParseError(f"damaged or truncated PDF ({error})") from error


def _metadata(pdf: pdfium.PdfDocument) -> dict[str, str]:
    """Title, author and the rest, or nothing when they cannot be decoded: they only help
    to name the document, and a damaged entry must not stop it being read."""
    try:
        return pdf.get_metadata_dict()
    except (UnicodeDecodeError, pdfium.PdfiumError):
        return {}


def _is_ruled(page: pdfium.PdfPage) -> bool:
    return _count_objects(page, PATH) >= RULED_PATHS


def _count_objects(page: pdfium.PdfPage, kind: int) -> int:
    return sum(obj.type == kind for obj in page.get_objects())


@dataclass
class Survey:
    """The fast pass over a PDF: pages worth a table search, pages whose text cannot be
    read from the text layer (none, or garbage), and what the document says about itself."""

    candidates: list[int]
    unreadable: list[int]
    facts: DocumentFacts
    damaged: dict[int, str] = field(default_factory=dict)
    """Pages that cannot be loaded at all, with the reason."""


def scan_pages(path: Path) -> Survey:
    """Which pages can hold a plan table, and which have no usable text layer: no text
    over an image, or text that is not text (`parsers.ocr.garbage_share`)."""
    from parsers.ocr import GARBAGE, garbage_share

    pdf = _open(path)
    candidates: list[int] = []
    unreadable: list[int] = []
    damaged: dict[int, str] = {}
    first_text: list[str] = []
    try:
        metadata = _metadata(pdf)
        previous_was_table = False
        for number in range(len(pdf)):
            try:
                page = pdf[number]
            except pdfium.PdfiumError as error:
                damaged[number] = str(error)
                previous_was_table = False
                continue
            try:
                text = page.get_textpage().get_text_range()
                if not text.strip() or garbage_share(text) > GARBAGE:
                    if text.strip() or _count_objects(page, pdfium.raw.FPDF_PAGEOBJ_IMAGE):
                        unreadable.append(number)
                    previous_was_table = False
                    continue
                if number < 3:
                    first_text.append(text)
                evidence = page_evidence(text, partial(_is_ruled, page))
                holds = evidence.holds_table()
                carried = previous_was_table and evidence.continues_table()
                if holds or carried:
                    candidates.append(number)
                previous_was_table = holds or (carried and evidence.code_lines >= 1)
            finally:
                page.close()
        facts = DocumentFacts(
            title=metadata.get("Title") or None,
            author=metadata.get("Author") or None,
            first_text="\n".join(first_text)[:6000],
            page_count=len(pdf),
        )
    finally:
        pdf.close()
    return Survey(candidates, unreadable, facts, damaged)
