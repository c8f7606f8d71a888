"""PDF plans and committee packs → records.

pypdfium2 makes a fast text pass that picks the pages worth a table search; pdfplumber
then finds ruled tables (line strategy) or, without rules, a header-anchored borderless
reading. Cell text keeps real line breaks and joins lines the renderer merely wrapped.
A page without a usable text layer is read from its image (``parsers.ocr``): its words
and rules take the place of the text layer's, and the same reading follows.
"""

from __future__ import annotations

import itertools
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfparser import PDFSyntaxError
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from parsers.fields.codes import looks_like_code
from parsers.geometry import (
    SETTINGS,
    Line,
    ReadingSettings,
    band_cells,
    group_lines,
    horizontal_rules,
    line_phrases,
    rivers,
    rule_bands,
)
from parsers.model import PARSER_VERSION, ParsedDocument, ParseError, Problem, Record
from parsers.ocr import (
    MISSING_TESSERACT,
    OCR,
    OcrError,
    OcrMode,
    OcrPage,
    OcrSettings,
    read_page,
    repair_codes,
)
from parsers.roles import column_role
from parsers.tables import Block, GridRow, GridTable, Paragraph, records_from_blocks
from parsers.triage import keep_pages, page_evidence, scan_pages

Word = dict[str, Any]
BBox = tuple[float, float, float, float]


def cell_text(words: list[Word], right: float, left: float) -> str:
    """Lines of a cell, joined by a space where the renderer wrapped, by a newline where not."""
    lines = group_lines(words)
    if not lines:
        return ""
    padding = max(0.0, min(ln.x0 for ln in lines) - left)
    limit = right - padding
    out = lines[0].text
    for previous, line in itertools.pairwise(lines):
        first = line.words[0]
        space = (first["bottom"] - first["top"]) * 0.28
        wrapped = previous.x1 + space + (first["x1"] - first["x0"]) > limit - 1.0
        out += (" " if wrapped else "\n") + line.text
    return out


def _bbox(box: tuple[float, ...]) -> BBox:
    x0, top, x1, bottom = box
    return (float(x0), float(top), float(x1), float(bottom))


def _words_in(words: list[Word], bbox: BBox) -> list[Word]:
    x0, top, x1, bottom = bbox
    return [
        w
        for w in words
        if x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and top <= (w["top"] + w["bottom"]) / 2 <= bottom
    ]


def _grids(page: pdfplumber.page.Page, ocr: OcrPage | None) -> list[Any]:
    """pdfplumber's tables from the page's drawn lines, or from the rules seen in its image."""
    if ocr is None:
        return page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"})
    vertical = [e for e in ocr.edges if e["orientation"] == "v"]
    horizontal = [e for e in ocr.edges if e["orientation"] == "h"]
    if len(vertical) < 2 or len(horizontal) < 2:
        return []
    return page.find_tables(
        {
            "vertical_strategy": "explicit",
            "horizontal_strategy": "explicit",
            "explicit_vertical_lines": vertical,
            "explicit_horizontal_lines": horizontal,
        }
    )


def ruled_tables(
    page: pdfplumber.page.Page,
    words: list[Word],
    settings: ReadingSettings = SETTINGS,
    ocr: OcrPage | None = None,
) -> list[tuple[BBox, list[GridRow], float]]:
    """Tables drawn with lines: pdfplumber's grid where rules cross, rows between
    horizontal rules where they do not, and columns from word alignment wherever the
    grid leaves a row as one cell."""
    found = []
    for table in _grids(page, ocr):
        rows = without_phantom_columns(_grid_rows(page, table, words))
        if _under_split(rows):
            bands = [_bbox(r.bbox) for r in table.rows]
            rows = aligned_rows(page, bands, words, settings) or rows
        if not rows or max(len(r.cells) for r in rows) < 2:
            continue
        if len(rows) < 2 and not _tops_page(table.bbox, page, settings):
            continue
        found.append((_bbox(table.bbox), rows, _grid_confidence(rows, words, table.bbox)))
    covered = [bbox for bbox, _, _ in found]
    rules = horizontal_rules(ocr.edges if ocr else page.edges, float(page.width), settings)
    for bands in rule_bands(rules):
        box = (bands[0][0], bands[0][1], bands[0][2], bands[-1][3])
        if any(_overlaps(box, other) for other in covered):
            continue
        rows = aligned_rows(page, bands, words, settings)
        if rows and len(rows) >= 2:
            found.append((box, rows, _grid_confidence(rows, words, box) * 0.9))
    return sorted(found, key=lambda item: item[0][1])


def _tops_page(bbox: Any, page: pdfplumber.page.Page, settings: ReadingSettings) -> bool:
    """A grid in the top band of the page: one row there can finish the last page's table."""
    return float(bbox[1]) < float(page.height) * settings.continuation_band


def _grid_rows(page: pdfplumber.page.Page, table: Any, words: list[Word]) -> list[GridRow]:
    """pdfplumber's rows as cell texts. A position covered by a cell that starts in an
    earlier row (merged down) repeats that cell's text, as Word's vMerge does; one covered
    from the left stays ``None``."""
    starts = {
        _bbox(c): cell_text(_words_in(words, _bbox(c)), right=c[2], left=c[0]) for c in table.cells
    }
    rows: list[GridRow] = []
    xs = sorted({c[0] for c in table.cells})
    for index, row in enumerate(table.rows):
        cells: list[str | None] = []
        above: set[int] = set()
        top, bottom = row.bbox[1], row.bbox[3]
        for column, bbox in enumerate(row.cells):
            if bbox is not None:
                cells.append(starts[_bbox(bbox)])
                continue
            x = xs[column] + 1 if column < len(xs) else 0.0
            merged = next(
                (
                    text
                    for box, text in starts.items()
                    if box[1] < top - 1 and box[3] >= bottom - 1 and box[0] <= x <= box[2]
                ),
                None,
            )
            if merged is not None:
                above.add(column)
            cells.append(merged)
        rows.append(
            GridRow(
                cells,
                page=page.page_number,
                bbox=_bbox(row.bbox),
                index=index,
                above=frozenset(above),
            )
        )
    return rows


def without_phantom_columns(rows: list[GridRow]) -> list[GridRow]:
    """The rows without grid columns that a short stray line (a fill's edge in one banner
    row, a rule's stub) made: no text in any row, and merged over from the left in most
    rows that have cells of their own. The table would no longer be the width of its
    next page's part. An empty column with cells of its own (an icon column) is real."""
    width = max((len(r.cells) for r in rows), default=0)
    divided = [r for r in rows if sum(c is not None for c in r.cells) >= 2]

    def cell(row: GridRow, column: int) -> str | None:
        return row.cells[column] if column < len(row.cells) else None

    kept = [
        column
        for column in range(width)
        if any((cell(r, column) or "").strip() for r in rows)
        or sum(cell(r, column) is None for r in divided) * 2 < len(divided)
    ]
    if len(kept) == width or not kept:
        return rows
    return [
        GridRow(
            [r.cells[c] if c < len(r.cells) else None for c in kept],
            page=r.page,
            bbox=r.bbox,
            index=r.index,
            above=frozenset(kept.index(c) for c in r.above if c in kept),
        )
        for r in rows
    ]


def _under_split(rows: list[GridRow]) -> bool:
    """Most rows read as one cell although the grid has columns: rules run between rows
    only, so the columns must come from the words."""
    if len(rows) < 3:
        return False
    if max(len(r.cells) for r in rows) < 2:
        return True
    single = sum(sum(c is not None for c in r.cells) <= 1 for r in rows[1:])
    return single >= 0.6 * (len(rows) - 1)


def aligned_rows(
    page: pdfplumber.page.Page,
    bands: list[BBox],
    words: list[Word],
    settings: ReadingSettings = SETTINGS,
) -> list[GridRow]:
    """Rows between rules, columns where the words of most rows leave a river of white."""
    band_words = [_words_in(words, band) for band in bands]
    left = min(b[0] for b in bands)
    right = max(b[2] for b in bands)
    bounds = rivers(band_words, left, right, settings)
    if not bounds:
        return []
    edges = [left, *bounds, right]
    rows: list[GridRow] = []
    for band, inside in zip(bands, band_words, strict=True):
        if not inside:
            continue
        split = band_cells(inside, bounds, settings.phrase_gap)
        if split is None:
            cells: list[str | None] = [cell_text(inside, right=right, left=left)]
            cells += [None] * len(bounds)
        else:
            cells = [
                cell_text(column, right=edges[i + 1] - 3, left=edges[i])
                for i, column in enumerate(split)
            ]
        rows.append(GridRow(cells, page=page.page_number, bbox=band, index=len(rows)))
    return rows


def _grid_confidence(rows: list[GridRow], words: list[Word], bbox: tuple[float, ...]) -> float:
    """Camelot-like evidence: the share of the table's words inside a cell, and cell fill."""
    inside = len(_words_in(words, _bbox(bbox)))
    in_rows = sum(len(_words_in(words, r.bbox)) for r in rows if r.bbox)
    cells = [c for r in rows for c in r.cells if c is not None]
    fill = sum(bool(c.strip()) for c in cells) / len(cells) if cells else 0.0
    accuracy = min(1.0, in_rows / inside) if inside else 0.0
    return round(0.7 * accuracy + 0.3 * fill, 3)


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _reads_as_heading(text: str) -> bool:
    """'Due Date', 'Lead Officer': short and capitalised, not a sentence ('is the first milestone.')."""
    return len(text.split()) <= 6 and not text.endswith(".") and not text[:1].islower()


def find_borderless_header(lines: list[Line]) -> tuple[int, int, list[float]] | None:
    """The first line that reads as a header (three or more column roles), its extent, columns."""
    for start, line in enumerate(lines):
        phrases = line_phrases(line, gap=6.0)
        texts = [" ".join(w["text"] for w in p) for p in phrases]
        if sum(column_role(t) is not None and _reads_as_heading(t) for t in texts) < 3:
            continue
        header_end = start + 1
        while header_end < len(lines) and lines[header_end].top - lines[header_end - 1].bottom < 3:
            header_end += 1
        return start, header_end, [p[0]["x0"] for p in phrases]
    return None


def borderless_rows(
    page: pdfplumber.page.Page, lines: list[Line], lefts: list[float]
) -> list[GridRow]:
    """Rows of a table without rules: a new row where the gap between lines opens up, and
    lines whose phrases cross column boundaries (section rows) as single spanning cells."""
    bounds = [*lefts[1:], page.width]
    # Lines closer than a line of text is tall are one line read as two (words an OCR
    # box set a little lower): they are not the line spacing.
    height = min((ln.bottom - ln.top for ln in lines), default=0.0) * 0.8
    pitches = [b.top - a.top for a, b in itertools.pairwise(lines) if height < b.top - a.top < 40]
    step = min(pitches) if pitches else 12.0
    groups: list[list[Line]] = []
    spanning: set[int] = set()
    group_has_code = False
    for line in lines:
        phrases = line_phrases(line, 4.0)
        spans = len(phrases) <= 2 and any(
            _column(p[0]["x0"], lefts) != _column(p[-1]["x1"] - 1, lefts) for p in phrases
        )
        leading_code = _leading_code(phrases[0], lefts)
        if (
            not groups
            or spans
            or id(groups[-1][0]) in spanning
            or line.top - groups[-1][-1].top > step * 1.35
            or (leading_code and group_has_code)
        ):
            groups.append([line])
            group_has_code = leading_code
            if spans:
                spanning.add(id(line))
        else:
            groups[-1].append(line)
            group_has_code = group_has_code or leading_code
    rows: list[GridRow] = []
    for group in groups:
        words = [w for ln in group for w in ln.words]
        bbox = (
            min(w["x0"] for w in words),
            group[0].top,
            max(w["x1"] for w in words),
            group[-1].bottom,
        )
        if id(group[0]) in spanning:
            cells: list[str | None] = [" ".join(ln.text for ln in group)]
            cells += [None] * (len(lefts) - 1)
        else:
            columns: list[list[Word]] = [[] for _ in lefts]
            for word in words:
                columns[_column(word["x0"], lefts)].append(word)
            cells = [
                cell_text(c, right=bounds[i] - 4, left=lefts[i]) for i, c in enumerate(columns)
            ]
        rows.append(GridRow(cells, page=page.page_number, bbox=bbox, index=len(rows)))
    return rows


def widen_columns(lefts: list[float], carried: list[float] | None, body: list[Line]) -> list[float]:
    """A header that lost its first column ('Key Action No' left blank on a later page).

    The previous page's columns are kept when this header's columns are among them;
    otherwise body lines that start left of the first header column get a column there.
    """
    if (
        carried
        and len(carried) > len(lefts)
        and all(any(abs(left - c) < 3 for c in carried) for left in lefts)
    ):
        return carried
    starts = [line.words[0]["x0"] for line in body if line.words[0]["x0"] < lefts[0] - 6]
    if len(starts) >= 2:
        return [min(starts), *lefts]
    return lefts


def _starts_a_row(line: Line, lefts: list[float]) -> bool:
    """A line that fills two or more columns, its first phrase flush with a column's left edge."""
    phrases = line_phrases(line, 4.0)
    aligned = any(abs(phrases[0][0]["x0"] - left) < 3 for left in lefts)
    return aligned and len({_column(p[0]["x0"], lefts) for p in phrases}) >= 2


def _continuation(
    page: pdfplumber.page.Page, lines: list[Line], lefts: list[float], table_index: int
) -> list[tuple[float, Block]]:
    """Lines at the top of a page that carry on the previous page's table under no header.

    The running head above the first row (council name, page title) stays a paragraph.
    """
    first = next((i for i, line in enumerate(lines) if _starts_a_row(line, lefts)), None)
    if first is None:
        return [(line.top, _paragraph(line, page)) for line in lines]
    blocks: list[tuple[float, Block]] = [
        (line.top, _paragraph(line, page)) for line in lines[:first]
    ]
    table = GridTable(
        borderless_rows(page, lines[first:], lefts), index=table_index, continues_previous=True
    )
    table.confidence = borderless_confidence(table, lefts) * 0.9
    blocks.append((lines[first].top, table))
    return blocks


def borderless_confidence(table: GridTable, lefts: list[float]) -> float:
    """How well the rows fill the columns: a table read from alignment alone earns its score.

    Like Camelot's accuracy and whitespace figures: the share of data rows that fill two
    or more columns, and how evenly each column is used.
    """
    body = [r for r in table.rows if None not in r.cells]
    if not body:
        return 0.3
    spread = sum(len(r.filled) >= 2 for r in body) / len(body)
    used = sum(any((r.cells[i] or "").strip() for r in body) for i in range(len(lefts)))
    return round(min(0.9, 0.5 * spread + 0.4 * used / len(lefts)) + 0.05, 3)


def _leading_code(first: list[Word], lefts: list[float]) -> bool:
    """A line's first phrase is a code in the first column: a row of its own, however close
    to the row above."""
    text = " ".join(w["text"] for w in first)
    return _column(first[0]["x0"], lefts) == 0 and looks_like_code(text)


def _column(x: float, lefts: list[float]) -> int:
    index = 0
    for i, left in enumerate(lefts):
        if x >= left - 3:
            index = i
    return index


def _paragraph(line: Line, page: pdfplumber.page.Page) -> Paragraph:
    """Text outside any table, kept with its place on the page."""
    return Paragraph(
        line.text, page=page.page_number, bbox=(line.x0, line.top, line.x1, line.bottom)
    )


def rows_merge(rows: list[GridRow]) -> list[str]:
    """Several header lines read as one header row."""
    width = max(len(r.cells) for r in rows)
    return [" ".join((r.cells[i] or "") for r in rows if i < len(r.cells)) for i in range(width)]


def _placed(word: Word) -> bool:
    """A word a damaged text matrix put nowhere (NaN or infinite coordinates) has no place
    in a row or column; the page's other words are read without it."""
    return all(math.isfinite(word[key]) for key in ("x0", "x1", "top", "bottom"))


def page_blocks(
    page: pdfplumber.page.Page,
    table_index: int,
    carried_columns: list[float] | None = None,
    ocr: OcrPage | None = None,
) -> tuple[list[Block], list[float] | None]:
    """A page's tables and the text lines around them, top to bottom: from its text layer,
    or from what OCR read in its image."""
    if ocr is not None:
        words = ocr.words
    else:
        words = [
            word
            for word in page.extract_words(keep_blank_chars=False, x_tolerance=1.5, y_tolerance=2)
            if _placed(word)
        ]
    blocks: list[tuple[float, Block]] = []
    columns: list[float] | None = None
    ruled = ruled_tables(page, words, ocr=ocr)
    if ruled:
        covered = [bbox for bbox, _, _ in ruled]
        for bbox, rows, confidence in ruled:
            blocks.append(
                (
                    bbox[1],
                    GridTable(
                        rows,
                        index=table_index,
                        confidence=confidence,
                        continues_previous=_tops_page(bbox, page, SETTINGS),
                    ),
                )
            )
            table_index += 1
        loose = [w for w in words if not any(_words_in([w], b) for b in covered)]
        for line in group_lines(loose):
            blocks.append(
                (
                    line.top,
                    _paragraph(line, page),
                )
            )
    else:
        lines = group_lines(words)
        found = find_borderless_header(lines)
        if found:
            start, header_end, columns = found
            columns = widen_columns(columns, carried_columns, lines[header_end:])
            before = lines[:start]
            if carried_columns:
                blocks += _continuation(page, before, carried_columns, table_index)
                table_index += any(isinstance(b, GridTable) for _, b in blocks)
            else:
                blocks += [(line.top, _paragraph(line, page)) for line in before]
            rows = borderless_rows(page, lines[start:header_end], columns)
            rows = (
                [
                    GridRow(
                        [" ".join((c or "").split()) for c in rows_merge(rows)],
                        page=page.page_number,
                        bbox=rows[0].bbox,
                    )
                ]
                if rows
                else []
            )
            rows += borderless_rows(page, lines[header_end:], columns)
            for index, row in enumerate(rows):
                row.index = index
            table = GridTable(rows, index=table_index, continues_previous=True)
            table.confidence = borderless_confidence(table, columns)
            blocks.append((lines[start].top, table))
        elif carried_columns and lines:
            columns = carried_columns
            blocks += _continuation(page, lines, columns, table_index)
        else:
            for line in lines:
                blocks.append((line.top, _paragraph(line, page)))
    return [block for _, block in sorted(blocks, key=lambda item: item[0])], columns


def iter_blocks(
    path: Path,
    pages: list[int],
    read: dict[int, OcrPage] | None = None,
    problems: list[Problem] | None = None,
) -> Iterator[Block]:
    """The blocks of the given pages in order; pages in `read` from what OCR saw there.
    A page the layout reader cannot take apart is a problem, and the rest are still read."""
    read = read or {}
    problems = problems if problems is not None else []
    try:
        pdf = pdfplumber.open(path)
    except (PdfminerException, PDFSyntaxError) as error:
        raise ParseError(f"damaged PDF ({error})") from error
    try:
        # The layout reader loads the whole page tree at once; a page box that is not
        # numbers (or missing) fails it there.
        all_pages = pdf.pages
    except (
        PdfminerException,
        MalformedPDFException,
        PDFSyntaxError,
        TypeError,
        IndexError,
    ) as error:
        pdf.stream.close()
        raise ParseError(f"damaged PDF page tree ({error})") from error
    table_index = 0
    columns: list[float] | None = None
    previous = -2
    with pdf:
        for number in pages:
            if number >= len(all_pages):
                problems.append(Problem("damaged page; it cannot be read", page=number + 1))
                continue
            page = all_pages[number]
            try:
                carried = columns if number == previous + 1 else None
                blocks, columns = page_blocks(page, table_index, carried, read.get(number))
            except (PdfminerException, PDFSyntaxError) as error:
                problems.append(Problem(f"damaged page; it cannot be read ({error})", number + 1))
                continue
            finally:
                page.close()
            previous = number
            table_index += sum(isinstance(b, GridTable) for b in blocks)
            yield from blocks


def parse_pdf(path: Path, ocr: OcrMode = "auto", settings: OcrSettings = OCR) -> ParsedDocument:
    """Records of a PDF. `ocr`: ``auto`` reads pages without a usable text layer from their
    image, ``always`` reads every page so, ``never`` reports such pages and reads none."""
    survey = scan_pages(path)
    document = ParsedDocument(parser="pdf", parser_version=PARSER_VERSION, facts=survey.facts)
    document.problems += [
        Problem(f"damaged page; it cannot be read ({reason})", page=number + 1)
        for number, reason in survey.damaged.items()
    ]
    to_read = {
        "auto": survey.unreadable,
        "always": list(range(survey.facts.page_count or 0)),
        "never": [],
    }[ocr]
    read = read_pages(path, to_read, settings, document.problems)
    if ocr == "never":
        document.problems += [
            Problem("no usable text layer; not read (--ocr never)", page=number + 1)
            for number in survey.unreadable
        ]
    text_pages = set(survey.candidates) - set(to_read)
    evidence = ((n, page_evidence(read[n].text, read[n].is_ruled)) for n in sorted(read))
    pages = sorted(keep_pages(evidence, text_pages))
    blocks = list(iter_blocks(path, pages, read, document.problems))
    document.tables_seen = sum(isinstance(b, GridTable) for b in blocks)
    document.records = records_from_blocks(blocks, problems=document.problems)
    mark_ocr_records(document.records, read, settings)
    if not document.records:
        document.problems.append(Problem("no action or indicator tables found"))
    return document


def read_pages(
    path: Path, numbers: list[int], settings: OcrSettings, problems: list[Problem]
) -> dict[int, OcrPage]:
    """OCR of the given pages, one at a time; a page that cannot be read is a problem."""
    if not numbers:
        return {}
    if shutil.which(settings.tesseract) is None:
        pages = ", ".join(str(n + 1) for n in numbers)
        problems.append(Problem(f"pages {pages} have no usable text layer; {MISSING_TESSERACT}"))
        return {}
    read = {}
    for number in numbers:
        try:
            read[number] = read_page(path, number, settings)
        except OcrError as error:
            problems.append(Problem(f"OCR failed: {error}", page=number + 1))
    return read


def mark_ocr_records(
    records: list[Record], read: dict[int, OcrPage], settings: OcrSettings
) -> None:
    """Records read by OCR say so, with their words' mean confidence; a doubtful one is
    flagged, so a reviewer compares what the machine read with the page. Their codes are
    checked against the document's own (`parsers.ocr.repair_codes`)."""
    read_so = [r for r in records if (r.page or 0) - 1 in read]
    entries = repair_codes([(r.code, r.title) for r in read_so], [r.code for r in records])
    for record, (code, title) in zip(read_so, entries, strict=True):
        record.code, record.title = code, title
    for record in records:
        page = read.get((record.page or 0) - 1)
        if page is None:
            continue
        record.source = "ocr"
        record.ocr_confidence = page.confidence_in(record.bbox) if record.bbox else None
        if record.ocr_confidence is not None and record.ocr_confidence < settings.low_confidence:
            record.flagged = True
            reason = f"read by OCR, {record.ocr_confidence:.0f}% sure of its words"
            record.flag_reason = f"{record.flag_reason}; {reason}" if record.flag_reason else reason
