"""Table understanding shared by the PDF and Word parsers: grids in, records out.

A front end (PDF or Word) turns its file into `Block`s in reading order: `GridTable`s
of cell texts and `Paragraph`s. From here on nothing depends on the file format:

    blocks → join continuations → header roles → section rows → records
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from parsers.fields.codes import (
    INDICATOR_CODE,
    code_key,
    looks_like_code,
    split_code,
    split_numbered,
)
from parsers.fields.deadlines import DeadlineParser
from parsers.lists import cell_list, split_target
from parsers.model import Kind, Problem, Record
from parsers.roles import (
    FINANCE_HEADER,
    PLAN_TITLE,
    checked_roles,
    column_role,
    is_money_table,
    reads_as_heading,
    roles_from_cells,
)


@dataclass
class GridRow:
    """One row of a table; ``None`` marks a grid position covered by a cell to its left,
    and ``above`` the positions whose text repeats a cell merged down from a row above."""

    cells: list[str | None]
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    index: int = 0
    above: frozenset[int] = frozenset()

    @property
    def texts(self) -> list[str]:
        return [c or "" for c in self.cells]

    @property
    def filled(self) -> list[str]:
        return [c.strip() for c in self.cells if c and c.strip()]


@dataclass
class GridTable:
    rows: list[GridRow]
    index: int = 0
    confidence: float = 1.0
    continues_previous: bool = False

    @property
    def width(self) -> int:
        return max((len(r.cells) for r in self.rows), default=0)


@dataclass
class Paragraph:
    text: str
    index: int = 0
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None


Block = GridTable | Paragraph

SECTION_PREFIX = re.compile(
    r"^\s*(corporate priority|priority|outcome|aim|approach|scorecard|theme|objective|"
    r"service objectives?|relevant council|improvement plan|operational plan)\s*:",
    re.I,
)
OTHER_INDICATORS = re.compile(r"other performance indicators", re.I)
UNSURE_TABLE = 0.6
"""Below this table confidence every row is flagged for a person to check."""
PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?\s*$", re.I)
"""Page furniture ("Page 13", "13 of 20"): it neither ends a list nor starts a section."""
INDICATOR_TAIL = re.compile(
    r"\s*(?:[.\-–]\s*)?(?:\[[^\]]*\]|\{[^}]*\}?|\(?collected\s+\w+\)?\.?)\s*$", re.I
)
# "NEW PI - Average time waiting …": an indicator with no code yet.
NEW_INDICATOR = re.compile(r"^\s*NEW\s+PI\b", re.I)
INDICATOR_TITLE = re.compile(r"^\s*(%|percentage|number|no\.|average|rate|proportion)\b", re.I)
NUMBER = re.compile(r"^[\s£$%<>=~+\-]*\d[\d,.]*\s*%?\s*$")


@dataclass
class Header:
    """Where a table's header is and what each column holds."""

    rows: int
    roles: list[str | None]
    texts: list[str]
    start: int = 0

    def columns(self, role: str) -> list[int]:
        return [i for i, r in enumerate(self.roles) if r == role]

    def first(self, role: str) -> int | None:
        found = self.columns(role)
        return found[0] if found else None

    @property
    def is_record_table(self) -> bool:
        """An action or indicator table: a title column and one more thing a plan row has."""
        roles = set(self.roles)
        has_title = bool(roles & {"title", "fallback_title"}) or (
            "measure" in roles and "code" in roles
        )
        evidence = roles & {"code", "deadline", "officer", "status", "target", "measure"}
        title = self.first("title")
        named = title is not None and bool(PLAN_TITLE.search(self.texts[title]))
        finance = sum(bool(FINANCE_HEADER.search(t)) for t in self.texts)
        return has_title and (bool(evidence) or named) and finance <= len(self.texts) // 3


def _header_from_row(texts: list[str]) -> Header:
    roles = [column_role(t) for t in texts]
    return Header(rows=1, roles=roles, texts=texts)


def _is_header_row(texts: list[str], first: bool = False) -> bool:
    """Two or more known column roles; or, in a table's first row, headings only, one of
    which names the plan's rows ('What we will do | How we will do it')."""
    filled = [t for t in texts if t.strip()]
    roles = [column_role(t) for t in filled]
    known = [r for r in roles if r]
    if any(looks_like_code(t) and column_role(t) is None for t in texts):
        return False
    if any(len(t.split()) > 16 for t in filled):
        return False
    if len(known) >= 2 and len(known) >= len(roles) * 0.6:
        return True
    return (
        first
        and len(set(filled)) >= 2
        and all(reads_as_heading(t) for t in filled)
        and any(r == "title" and PLAN_TITLE.search(t) for r, t in zip(roles, filled, strict=True))
    )


def find_header(table: GridTable) -> tuple[int, Header] | None:
    """The header's first row and roles, merging a second header row into the first.

    Looked for in the first eight rows that have more than one cell: any number of
    title and section rows (aims, approaches, objectives) may sit above it.
    """
    looked = 0
    for start, row in enumerate(table.rows):
        if len(set(row.filled)) < 2:
            continue
        looked += 1
        if looked > 8:
            break
        texts = _spread(row)
        if not _is_header_row(texts, first=looked == 1):
            continue
        header = _header_from_row(texts)
        if start + 1 < len(table.rows):
            below = _spread(table.rows[start + 1])
            below_roles = [column_role(t) for t in below if t.strip()]
            if (
                below_roles
                and all(below_roles)
                and not any(looks_like_code(t) for t in below)
                and all(len(t.split()) <= 16 for t in below)
            ):
                merged = [f"{a} {b}".strip() for a, b in zip(header.texts, below, strict=False)]
                roles = [
                    header.roles[i]
                    if header.roles[i] not in {None, "target"} or not below[i].strip()
                    else column_role(below[i]) or header.roles[i]
                    for i in range(len(header.roles))
                ]
                header = Header(rows=2, roles=roles, texts=merged)
        header.start = start
        return start, header
    return _header_from_cells(table)


def _header_from_cells(table: GridTable) -> tuple[int, Header] | None:
    """A first row of headings that no vocabulary knows ('Ref | Commitment made | When |
    Who'): the roles come from the cells below it, and the table must show a title column
    of prose beside a date, owner or status column (codes beside prose are as often sites,
    policies or glossary entries)."""
    starts = [i for i, row in enumerate(table.rows) if len(set(row.filled)) >= 2]
    if not starts or len(table.rows) - starts[0] < 3:
        return None
    start = starts[0]
    texts = _spread(table.rows[start])
    filled = [t for t in texts if t.strip()]
    if not all(reads_as_heading(t) and len(t.split()) <= 6 for t in filled) or any(
        looks_like_code(t) or NUMBER.match(t) for t in filled
    ):
        return None
    body = table.rows[start + 1 :]
    columns = _column_texts(body, table.width)
    roles = roles_from_cells(columns)
    if "title" not in roles or not set(roles) & {"deadline", "officer", "status"}:
        return None
    return start, Header(rows=1, roles=roles, texts=texts, start=start)


def _column_texts(rows: list[GridRow], width: int) -> list[list[str]]:
    """The rows' cell texts column by column, for a column's role to be read from them."""
    return [[r.texts[i] if i < len(r.texts) else "" for r in rows] for i in range(width)]


def _spread(row: GridRow) -> list[str]:
    """Cell texts with a merged header cell's text repeated over the columns it covers."""
    out: list[str] = []
    for cell in row.cells:
        out.append(cell if cell is not None else (out[-1] if out else ""))
    return [" ".join(t.split()) for t in out]


@dataclass
class Context:
    """Section rows and headings seen so far: what a record sits under."""

    sections: list[str] = field(default_factory=list)
    in_other_indicators: bool = False

    def push(self, text: str) -> None:
        label = " ".join(text.split())
        prefix = SECTION_PREFIX.match(label)
        if prefix:
            key = prefix.group(1).lower()
            for i, existing in enumerate(self.sections):
                match = SECTION_PREFIX.match(existing)
                if match and match.group(1).lower() == key:
                    del self.sections[i:]
                    break
        self.sections.append(label)
        del self.sections[:-4]


@dataclass
class RecordBuilder:
    """Turns understood rows and indicator lines into records with their fields."""

    deadlines: DeadlineParser = field(default_factory=DeadlineParser)

    def records_from_row(
        self, row: GridRow, header: Header, table: GridTable, context: Context
    ) -> list[Record]:
        """The row's record, or one per item when its title cell holds a list."""
        index = header.first("title")
        listed = (
            cell_list(row.texts[index]) if index is not None and index < len(row.cells) else None
        )
        if index is None or listed is None or not listed.items:
            record = self.from_row(row, header, table, context)
            return [record] if record is not None else []
        records = []
        for item in listed.items:
            title, target = split_target(item)
            cells = list(row.cells)
            cells[index] = title
            part = GridRow(cells, page=row.page, bbox=row.bbox, index=row.index, above=row.above)
            record = self.from_row(part, header, table, context)
            if record is None:
                continue
            if target:
                record.cells["target"] = target
            if listed.lead_in:
                record.cells["lead-in"] = listed.lead_in
            records.append(record)
        return records

    def from_row(
        self, row: GridRow, header: Header, table: GridTable, context: Context
    ) -> Record | None:
        texts = [t.strip() for t in row.texts]

        def cell(role: str) -> str:
            index = header.first(role)
            return texts[index] if index is not None and index < len(texts) else ""

        title_text = cell("title")
        fallback = cell("fallback_title")
        code_text = cell("code")
        measure = " ".join(texts[i] for i in header.columns("measure") if i < len(texts))
        if not title_text and not fallback and not (measure and code_text):
            return None
        title_source = title_text or fallback or measure
        code: str | None = code_text.split("\n")[0].strip() or None
        title = title_source
        if code is None:
            code, title = split_code(_flat(title_source))
            if code is None:
                code, title = split_numbered(title)
                title = re.sub(r"\s*\((?:[A-Z]\d+(?:,\s*)?)+\)\s*$", "", title)
        title = _flat(title)
        if not title and code and fallback:
            title = _flat(fallback)
        deadline_text = cell("deadline")
        if not header.columns("deadline"):
            targets = [texts[i] for i in header.columns("target") if i < len(texts) and texts[i]]
            if any(self.deadlines.parse(t) for t in targets):
                deadline_text = " ".join(targets)
        status_text = cell("status") or None
        everything = " ".join(
            texts[i]
            for i, r in enumerate(header.roles)
            if r in {"title", "measure", "fallback_title"} and i < len(texts)
        )
        unsure = (
            f"cells found with low confidence ({table.confidence:.2f}): check the row "
            "against the page"
            if table.confidence < UNSURE_TABLE
            else None
        )
        kind = (
            "indicator"
            if NEW_INDICATOR.match(title_source)
            else self._kind(header, code, title, texts)
        )
        return Record(
            kind=kind,
            code=code,
            code_key=code_key(code),
            title=title,
            cells={
                header.texts[i] or f"column {i + 1}": t
                for i, t in enumerate(texts)
                if t and i < len(header.texts)
            },
            section=list(context.sections),
            deadline_text=_flat(deadline_text) or None,
            status_text=_flat(status_text) if status_text else None,
            sources={
                "indicators": everything,
                "deadline": deadline_text,
                "officer": cell("officer"),
                "status": _flat(status_text or ""),
            },
            service_ref=cell("service_ref") or None,
            page=row.page,
            table_index=table.index,
            row_index=row.index,
            bbox=row.bbox,
            confidence=table.confidence,
            flagged=unsure is not None,
            flag_reason=unsure,
        )

    @staticmethod
    def _kind(header: Header, code: str | None, title: str, texts: list[str]) -> Kind:
        title_index = header.first("title")
        title_header = header.texts[title_index] if title_index is not None else ""
        if code and code.upper().startswith("ACTION"):
            return "action"
        if re.search(
            r"indicator|measure name|measured|\bk?pis?\b", title_header, re.I
        ) and not re.search(r"milestone", title_header, re.I):
            return "indicator"
        if re.search(r"milestone", title_header, re.I):
            targets = [texts[i] for i in header.columns("target") if i < len(texts)]
            numeric = any(NUMBER.match(t) for t in targets if t)
            if code or INDICATOR_TITLE.match(title) or numeric:
                return "indicator"
        return "action"

    def indicator_lines(
        self,
        text: str,
        paragraph: Paragraph | None = None,
        row: GridRow | None = None,
        table: GridTable | None = None,
        context: Context | None = None,
    ) -> list[Record]:
        """'Other Performance Indicators …' lists: one indicator record per coded line."""
        records = []
        for line in _indicator_line_split(text):
            match = INDICATOR_CODE.match(line)
            if match is None:
                continue
            code = match.group("code")
            title = line[match.end() :].lstrip(" -–—:")
            title = INDICATOR_TAIL.sub("", title).strip()
            title = INDICATOR_TAIL.sub("", title).strip()
            records.append(
                Record(
                    kind="indicator",
                    code=code,
                    code_key=code_key(code),
                    title=title,
                    cells={"text": line},
                    section=list(context.sections) if context else [],
                    page=(row.page if row else paragraph.page if paragraph else None),
                    table_index=table.index if table else None,
                    row_index=row.index if row else None,
                    paragraph_index=paragraph.index if paragraph else None,
                    bbox=(row.bbox if row else paragraph.bbox if paragraph else None),
                )
            )
        return records


def _indicator_line_split(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.strip(" •\t-–")
        if line:
            yield line


def _flat(text: str) -> str:
    return " ".join(text.split())


def is_section_row(row: GridRow, width: int) -> bool:
    filled = row.filled
    if not filled:
        return False
    if len(set(filled)) == 1:
        covered = sum(1 for c in row.cells if c is None) + 1
        return covered >= max(2, width // 2) or (
            len(filled) == 1 and bool(SECTION_PREFIX.match(filled[0]))
        )
    return bool(SECTION_PREFIX.match(filled[0])) and len(filled) == 1


@dataclass
class LogicalTable:
    """The table being read: its header survives page breaks and restarted Word tables."""

    header: Header
    width: int
    index: int
    rows_seen: int = 0
    last_row: GridRow | None = None
    last_at: int | None = None
    """Where the last row's record sits in the document's records: a cut row rejoins it."""
    last_block: int | None = None
    """Which grid the last row came from: a row merged down from it must share that grid."""
    group: str | None = None
    """The last group row read inside the table: the next one takes its place."""


def records_from_blocks(
    blocks: Iterable[Block],
    builder: RecordBuilder | None = None,
    problems: list[Problem] | None = None,
) -> list[Record]:
    """Every action and indicator record in the blocks, with section context attached.

    A table of coded rows that is left unread is reported in `problems`, so no plan is
    lost without a word."""
    builder = builder or RecordBuilder()
    context = Context()
    records: list[Record] = []
    current: LogicalTable | None = None
    for block in blocks:
        if isinstance(block, GridTable):
            current = _read_table(block, current, builder, context, records)
            if current is None and problems is not None:
                problems.extend(_unread(block))
            continue
        text = block.text.strip()
        if not text or PAGE_NUMBER.match(text):
            continue
        if OTHER_INDICATORS.search(text):
            context.in_other_indicators = True
            records.extend(
                builder.indicator_lines(text.split(":", 1)[-1], paragraph=block, context=context)
            )
            continue
        if context.in_other_indicators:
            found = builder.indicator_lines(text, paragraph=block, context=context)
            if found:
                records.extend(found)
                continue
            context.in_other_indicators = False
        if SECTION_PREFIX.match(text) and len(text) < 300:
            context.push(text)
    return records


def _read_table(
    table: GridTable,
    current: LogicalTable | None,
    builder: RecordBuilder,
    context: Context,
    records: list[Record],
) -> LogicalTable | None:
    found = find_header(table)
    carries_on = current is not None and current.width == table.width
    if found is not None:
        header = found[1]
        above = table.rows[: header.start]
        body = table.rows[header.start + header.rows :]
        columns = _column_texts(body, table.width)
        header = _with_roles(header, checked_roles(header.roles, columns))
        if not header.is_record_table or is_money_table(header.roles, columns):
            _push_sections(table.rows, table.width, context)
            return None
        header = roles_from_content(header, body)
        if current is not None and carries_on and above:
            # Rows above a repeated header finish the table the last page started.
            _read_body(table, above, current, builder, context, records)
        else:
            _push_sections(above, table.width, context)
        if current is None or current.header.roles != header.roles or current.width != table.width:
            current = LogicalTable(header, table.width, table.index)
    elif current is not None and carries_on:
        body = table.rows
    else:
        _push_sections(table.rows, table.width, context)
        return None
    return _read_body(table, body, current, builder, context, records)


def _read_body(
    table: GridTable,
    body: list[GridRow],
    current: LogicalTable,
    builder: RecordBuilder,
    context: Context,
    records: list[Record],
) -> LogicalTable:
    """The records of a table's body rows under the logical table's header."""
    header = current.header
    header_keys = [t.lower() for t in header.texts]
    logical = GridTable([], index=current.index, confidence=table.confidence)
    for row in body:
        texts = _spread(row)
        repeated_header = len(set(row.filled)) >= 2 and (
            [t.lower() for t in texts] == header_keys
            or (_is_header_row(texts) and all(column_role(t) is not None for t in row.filled))
        )
        if repeated_header:
            continue
        label = _group_label(texts, header)
        if label is not None:
            context.push(label)
            continue
        current.rows_seen += 1
        row.index = current.rows_seen - 1
        if is_section_row(row, table.width):
            text = row.filled[0]
            if OTHER_INDICATORS.search(text):
                context.in_other_indicators = True
                text = text.split(":", 1)[-1]
            lines = builder.indicator_lines(text, row=row, table=logical, context=context)
            if context.in_other_indicators and lines:
                records.extend(lines)
            elif not OTHER_INDICATORS.search(row.filled[0]):
                context.in_other_indicators = False
                # Labelled sections ("Aim:", "Approach:") nest by their labels in push;
                # an unlabelled group row takes the place of the group row before it.
                unlabelled = not SECTION_PREFIX.match(text)
                if unlabelled and current.group and context.sections[-1:] == [current.group]:
                    context.sections.pop()
                context.push(text)
                current.group = context.sections[-1] if unlabelled else None
            continue
        context.in_other_indicators = False
        previous, at = current.last_row, current.last_at
        # One item over several rows: a row whose title cell is merged down from the item
        # above, or the top of a page that finishes the row the page break cut.
        merged_title = _continues_merged_title(row, header)
        if (
            previous is not None
            and at is not None
            and (
                current.last_block == id(table)
                if merged_title
                else row is body[0] and row.page != previous.page and _is_broken_row(texts, header)
            )
        ):
            joined = _join_rows(previous, row)
            earlier = Context(list(records[at].section))
            record = builder.from_row(joined, header, logical, earlier)
            if record is not None:
                records[at] = record
                current.last_row = joined
            current.rows_seen -= 1
            continue
        if merged_title:
            # Under a header, a row merged down from it is part of the header.
            current.rows_seen -= 1
            continue
        made = builder.records_from_row(row, header, logical, context)
        if made:
            records.extend(made)
            current.last_row, current.last_at = row, len(records) - 1
            current.last_block = id(table)
    return current


def _continues_merged_title(row: GridRow, header: Header) -> bool:
    title = header.first("title")
    if title is None:
        title = header.first("fallback_title")
    return title is not None and title in row.above


def _is_broken_row(texts: list[str], header: Header) -> bool:
    """The top of a page that finishes the row the last page cut off: no code of its own
    where the table has a code column, or a title that carries on mid-sentence."""
    code = header.first("code")
    if code is not None:
        return code < len(texts) and not texts[code] and any(texts)
    title = header.first("title")
    return title is not None and title < len(texts) and texts[title][:1].islower()


def _join_rows(first: GridRow, rest: GridRow) -> GridRow:
    """One row again, starting where it started (its page and row index)."""
    cells = [
        a
        if i in rest.above
        else "\n".join(t for t in (a or "", b or "") if t.strip()) or (None if a is None else "")
        for i, (a, b) in enumerate(zip(first.cells, rest.cells, strict=False))
    ]
    return GridRow(cells, page=first.page, bbox=first.bbox, index=first.index)


def _group_label(texts: list[str], header: Header) -> str | None:
    """A header repeated with a new label over the title column starts a group of rows.

    ``'Integrated Children's Services | RAG rating | DoT'`` under ``'… KPIs | RAG rating |
    DoT'``: the label is context for the rows below, not a record.
    """
    title = header.first("title")
    if title is None or title >= len(texts) or not texts[title]:
        return None
    others = [
        i
        for i, text in enumerate(texts)
        if i != title and text and i < len(header.texts) and header.texts[i]
    ]
    repeated = [i for i in others if texts[i].lower() == header.texts[i].lower()]
    if len(repeated) >= 2 and len(repeated) == len(others):
        return texts[title]
    return None


def _with_roles(header: Header, roles: list[str | None]) -> Header:
    if roles == header.roles:
        return header
    return Header(rows=header.rows, roles=roles, texts=header.texts, start=header.start)


def roles_from_content(header: Header, body: list[GridRow]) -> Header:
    """A column whose header cell is blank but whose cells are mostly codes holds the codes."""
    if "code" in header.roles:
        return header
    roles = list(header.roles)
    for column, role in enumerate(roles):
        if role is not None:
            continue
        values = [
            r.texts[column].strip()
            for r in body
            if column < len(r.texts) and r.texts[column].strip()
        ]
        if len(values) >= 2 and sum(looks_like_code(v) for v in values) >= 0.6 * len(values):
            roles[column] = "code"
            break
    if roles == header.roles:
        return header
    return Header(rows=header.rows, roles=roles, texts=header.texts, start=header.start)


def _unread(table: GridTable) -> list[Problem]:
    """A table left unread whose rows look like a plan's: a code leading each row beside
    a sentence. Sites, policies and glossaries look the same, so it is reported for a
    person to judge rather than read as records."""
    coded = [
        row
        for row in table.rows
        if len(row.filled) >= 2
        and looks_like_code(row.filled[0])
        and any(len(t.split()) >= 4 for t in row.filled[1:])
    ]
    if len(coded) < 3:
        return []
    return [
        Problem(
            f"table {table.index + 1}: {len(coded)} rows with codes were not read, because no "
            "column names a plan's title beside a deadline, owner or status",
            page=coded[0].page,
        )
    ]


def _push_sections(rows: list[GridRow], width: int, context: Context) -> None:
    """Rows of a table that is not a record table which read as headings over what follows.

    A single cell counts only at the row's start: ``'| Performance is improving'`` in a key
    to symbols is not a heading.
    """
    for row in rows:
        leads = bool((row.cells[0] or "").strip()) if row.cells else False
        if row.filled and (is_section_row(row, width) or (len(row.filled) == 1 and leads)):
            context.push(row.filled[0])
