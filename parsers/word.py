"""Word .docx service plans → records (python-docx).

Body paragraphs and tables are read in document order so headings give the rows below
them their context. Merged cells are resolved into a logical grid by walking the real
``w:tc`` elements: python-docx's ``row.cells`` repeats a merged cell once per grid
position it covers (python-docx issue 344).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl, CT_Tc
from docx.oxml.text.paragraph import CT_P
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph
from lxml import etree

from parsers.model import PARSER_VERSION, DocumentFacts, ParsedDocument, ParseError, Problem
from parsers.tables import Block, GridRow, GridTable, Paragraph, records_from_blocks

MAX_PART_BYTES = 50 * 1024 * 1024
DAMAGED_ZIP = (zlib.error, EOFError, OSError)
"""What reading a part of a damaged zip raises besides `BadZipFile` (a bad CRC, a cut
deflate stream, an offset past the end)."""
MAX_PARTS = 2000


def _check_package(path: Path) -> None:
    """Refuse zip bombs and DTDs before any XML parser sees the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_PARTS:
                raise ParseError(f"Word package has {len(members)} parts; not a normal document")
            for member in members:
                if member.file_size > MAX_PART_BYTES:
                    raise ParseError(
                        f"Word part {member.filename} expands to {member.file_size // 2**20} MB; "
                        "refusing a possible zip bomb"
                    )
            for name in ("word/document.xml", "[Content_Types].xml"):
                if name in archive.namelist():
                    with archive.open(name) as handle:
                        head = handle.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise ParseError("Word document declares XML entities; refusing it")
    except (zipfile.BadZipFile, *DAMAGED_ZIP) as error:
        raise ParseError(f"damaged zip container ({error})") from error


def _open(path: Path) -> DocxDocument:
    _check_package(path)
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ParseError(f"not a readable Word document ({error})") from error
    except DAMAGED_ZIP as error:
        raise ParseError(f"damaged zip container ({error})") from error
    except etree.XMLSyntaxError as error:
        raise ParseError(f"damaged Word document XML ({error})") from error


def _cell_text(tc: CT_Tc, parent: Table) -> str:
    """Paragraphs (and nested tables' rows) of one real cell, one line each."""
    lines: list[str] = []
    for child in tc.iterchildren():
        if isinstance(child, CT_P):
            text = DocxParagraph(child, parent).text.strip()
            if text:
                lines.append(text)
        elif isinstance(child, CT_Tbl):
            for row in _grid(Table(child, parent)):
                lines.append(" | ".join(row.filled))
    return "\n".join(lines)


def _grid(table: Table) -> list[GridRow]:
    """The table as a grid: a horizontal merge leaves ``None`` to its right, a vertical
    merge repeats the text of the cell it continues (and the row says which)."""
    grid: list[GridRow] = []
    for tr in table._tbl.tr_lst:
        row: list[str | None] = []
        above: set[int] = set()
        grid_before = tr.trPr.find(qn("w:gridBefore")) if tr.trPr is not None else None
        if grid_before is not None:
            row.extend([""] * int(grid_before.get(qn("w:val"), "0")))
        for tc in tr.tc_lst:
            column = len(row)
            if tc.vMerge == "continue":
                merged = grid[-1].cells[column] if grid and column < len(grid[-1].cells) else ""
                text: str | None = merged if merged is not None else ""
                above.add(column)
            else:
                text = _cell_text(tc, table)
            row.append(text)
            row.extend([None] * (tc.grid_span - 1))
        grid.append(GridRow(row, index=len(grid), above=frozenset(above)))
    return grid


def iter_blocks(document: DocxDocument) -> Iterator[Block]:
    table_index = 0
    for index, element in enumerate(document.element.body.iterchildren()):
        if isinstance(element, CT_P):
            yield Paragraph(DocxParagraph(element, document).text, index=index)
        elif isinstance(element, CT_Tbl):
            rows = _grid(Table(element, document))
            yield GridTable(rows, index=table_index, continues_previous=True)
            table_index += 1


def _lines(blocks: list[Block]) -> Iterator[str]:
    """The paragraphs, and each table's header row as a line: a plan that is only a table
    says what it is ("Update: March 2024") in its header. Its body rows say what is due
    and when, not what the document is, so dates there would mislead."""
    for block in blocks:
        if isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, GridTable) and block.rows:
            yield " ".join(cell for cell in block.rows[0].cells if cell)


def parse_docx(path: Path) -> ParsedDocument:
    document = _open(path)
    core = document.core_properties
    blocks = list(iter_blocks(document))
    first_text = "\n".join(_lines(blocks[:60]))
    facts = DocumentFacts(
        title=core.title or None, author=core.author or None, first_text=first_text[:6000]
    )
    parsed = ParsedDocument(parser="docx", parser_version=PARSER_VERSION, facts=facts)
    parsed.tables_seen = sum(isinstance(b, GridTable) for b in blocks)
    parsed.records = records_from_blocks(blocks, problems=parsed.problems)
    if not parsed.records:
        parsed.problems.append(Problem("no action or indicator tables found"))
    return parsed
