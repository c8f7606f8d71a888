"""Word .docx service plans → records (python-docx)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError

from parsers.model import PARSER_VERSION, DocumentFacts, ParsedDocument, ParseError, Problem


def _open(path: Path) -> docx.document.Document:
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ParseError(f"not a readable Word document ({error})") from error


def parse_docx(path: Path) -> ParsedDocument:
    document = _open(path)
    core = document.core_properties
    text = "\n".join(p.text for p in document.paragraphs[:60])
    facts = DocumentFacts(title=core.title or None, author=core.author or None, first_text=text)
    parsed = ParsedDocument(parser="docx", parser_version=PARSER_VERSION, facts=facts)
    parsed.problems.append(Problem("no action or indicator tables found"))
    return parsed
