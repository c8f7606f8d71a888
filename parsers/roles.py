"""What a table column holds: one header vocabulary, and the evidence of its cells.

A header is one vote among several: a column's cells say as much about it as its header
does, and a header outside the vocabulary still gets a role from what it holds.
"""

from __future__ import annotations

import re

from parsers.fields.vocabulary import LETTERS, STATUS_PHRASES
from parsers.periods import FY_PATTERN

# Column roles by header text, most specific first. The first pattern to match a header wins.
ROLE_VOCABULARY: list[tuple[str, str]] = [
    (
        "ignore",
        r"icon|council source|data source|^source$|unit of measure|frequency|^unit$|best 25",
    ),
    ("service_ref", r"service\s*ref"),
    (
        "deadline",
        r"deadline|due date|completion (by|date)|timescale|target date|by when|"
        r"completion by month|^when$|date due",
    ),
    ("officer", r"officer|led by|^lead\b|owner|responsib|accountable|^who$"),
    ("status", r"red\s*/\s*amber|\brag\b|^status|expected outcome$|progress status|^traffic"),
    ("comments", r"comment|notes|progress|update|commentary|supporting information"),
    (
        "code",
        r"key action\s*no|action code|ref(erence)?\.?\s*(no|number)?\.?$|^code$|^no\.?$|"
        r"^pi\s*(code|ref)|^id$",
    ),
    (
        "title",
        r"^(key\s+)?action( title)?$|commitment|committed to|indicator|^measure name|"
        r"we will achieve|be measured|pi or smart milestone|what we (have|will)|^performance indicator|^objective|"
        r"^improvement or change objective|^milestone|^priority action|^activity|^task|\bkpis$",
    ),
    ("fallback_title", r"supporting objective|action description|^description"),
    ("measure", r"measure|milestone|kpi|success criteria|outcome"),
    ("target", r"target|actual|outturn|estimate|ytd|\b(19|20)\d\d\s*[/\-–]\s*\d\d|performance"),
    ("context", r"service objective|^aim|high priorit|^theme|^priority"),
]
ROLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (role, re.compile(pattern, re.I)) for role, pattern in ROLE_VOCABULARY
]
# The same words found inside a line of page text, for page triage: ``^id$`` → ``\bid\b``.
LINE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (role, re.compile(pattern.replace("^", r"\b").replace("$", r"\b"), re.I))
    for role, pattern in ROLE_VOCABULARY
    if role not in {"ignore", "context"}
]
TITLE_ROLES = frozenset({"title", "measure"})
# Headers that name what a plan's rows are, strongly enough to make a table one by
# themselves: "What we will do", "Key indicators", "How will progress be measured?".
PLAN_TITLE = re.compile(
    r"indicator|commit|be measured|\bactions?\b|what we (have|will)|\bkpis?\b|milestone", re.I
)
FINANCE_HEADER = re.compile(
    r"£|budget|cost|spend|revenue|capital|salary|fte|grade|variance|"
    r"forecast|income|expenditure|savings|likelihood|impact|risk|"
    # a ledger of payments or contracts, as councils publish them for transparency
    r"payee|supplier|vendor|invoice|\binv\b|\bvat\b|contract value",
    re.I,
)


def column_role(header: str) -> str | None:
    """The role a header names; punctuation around it ("Action:", "– Deadline –") is not
    part of the name."""
    text = " ".join(header.split()).strip(" :;,-–—_*'‘’\"“”|")
    if not text:
        return None
    for role, pattern in ROLE_PATTERNS:
        if pattern.search(text):
            return role
    return None


PROSE_WORDS = re.compile(
    r"\b(?:the|is|are|was|were|will|be|been|this|that|when|which|has|its|their|than|"
    r"again|however)\b",
    re.I,
)
"""Words a sentence is made of and a row of column headings is not."""


def header_line_roles(line: str) -> set[str]:
    """Roles a short line of page text names, as a header line would: ``'ID Action Update:
    March 2024 Impact Control'`` → ``{'code', 'title', 'comments'}``. Sentences name none,
    nor does a budget's header (costs, spend, or a run of financial years as columns)."""
    text = " ".join(line.split())
    sentence = (
        text.endswith(".")
        or ". " in text
        or text[:1].islower()
        or len(PROSE_WORDS.findall(text)) >= 2
    )
    if not text or len(text.split()) > 24 or sentence:
        return set()
    money = {m.group(0).lower() for m in FINANCE_HEADER.finditer(text)}
    if len(money) >= 2 or len(FY_PATTERN.findall(text)) >= 3:
        return set()
    return {role for role, pattern in LINE_PATTERNS if pattern.search(text)}


AMOUNT = re.compile(r"^[\s£$€%()<>=~+\-–]*\d[\d,.\s]*(?:k|m|bn)?\s*%?\)?$", re.I)
PLAN_ROLES = frozenset({"deadline", "officer", "status"})


def numeric_share(values: list[str]) -> float:
    """The share of a column's filled cells that are amounts or plain numbers."""
    filled = [v for v in values if v.strip()]
    if not filled:
        return 0.0
    return sum(bool(AMOUNT.match(v)) for v in filled) / len(filled)


def is_money_table(roles: list[str | None], columns: list[list[str]]) -> bool:
    """Most columns beside the title hold numbers, and nothing names a plan's deadline,
    owner or status: a budget, capital programme or payments table, whatever its header
    says. Indicator tables have numbers too, so a strong title column keeps them."""
    if set(roles) & PLAN_ROLES or "title" in roles:
        return False
    others = [
        values
        for role, values in zip(roles, columns, strict=False)
        if role not in {"fallback_title", "measure", "code"} and any(v.strip() for v in values)
    ]
    numeric = sum(numeric_share(values) >= 0.6 for values in others)
    return numeric >= 2 and numeric * 2 >= len(others)


def reads_as_heading(text: str) -> bool:
    """Short and not a sentence: 'Due Date', 'How will the policy be implemented?'."""
    flat = " ".join(text.split())
    words = len(flat.split())
    sentence = flat.endswith(".") and words > 3
    return 0 < words <= 16 and not sentence and not flat[:1].islower()


STATUS_WORDS = re.compile(
    r"\b(?:"
    + "|".join(re.escape(p) for phrases in STATUS_PHRASES.values() for p in phrases)
    + r")\b",
    re.I,
)


def holds_statuses(values: list[str]) -> bool:
    """Half or more of the filled cells are status words or single RAG letters: a 'RAG'
    column of thresholds ('>800m', '400-800m') holds criteria, not statuses."""
    filled = [v.strip() for v in values if v.strip()]
    rated = sum(bool(STATUS_WORDS.search(v)) or v.upper() in LETTERS for v in filled)
    return rated * 2 >= len(filled)


OWNER_SEPARATOR = re.compile(r"\s*[/;]\s*")


def holds_owners(values: list[str]) -> bool:
    """Owners are named in short units: people, posts, teams, split at '/' or ';'.
    Units of eight words and more on average are strategies, programmes or narrative,
    whatever the header says."""
    units = [
        unit
        for v in values
        for line in v.splitlines()
        for unit in OWNER_SEPARATOR.split(line)
        if unit.strip()
    ]
    return not units or sum(len(unit.split()) for unit in units) / len(units) < 8


def checked_roles(roles: list[str | None], columns: list[list[str]]) -> list[str | None]:
    """Header roles that the column's cells contradict become comments; a header is
    trusted over fewer than three filled cells."""
    checks = {"status": holds_statuses, "officer": holds_owners}
    return [
        "comments"
        if role in checks and sum(bool(v.strip()) for v in values) >= 3 and not checks[role](values)
        else role
        for role, values in zip(roles, columns, strict=False)
    ]


CODE_CELL = re.compile(
    r"^\s*(?:[A-Z]{1,6}[\s.\-]?\d{1,4}(?:\.\d{1,3})*[a-z]?|\d{1,2}(?:\.\d{1,2}){1,3})\s*$"
)
DATE_CELL = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*'?\d{2,4}\b|"
    r"\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}-[a-z]{3}-\d{2}\b|\bQ[1-4]\b|"
    r"\b(?:ongoing|on-going|tbc|annually|quarterly|monthly)\b",
    re.I,
)
PERSON_CELL = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Miss)\.?\s+)?[A-Z][a-z'’\-]+\s+[A-Z][a-z'’\-]+$")
POST_CELL = re.compile(
    r"\b(?:head|manager|officer|director|lead|team|coordinator|co-ordinator|adviser|advisor|"
    r"portfolio holder|chief executive)\b",
    re.I,
)


def _share(values: list[str], test: re.Pattern[str]) -> float:
    filled = [v.strip() for v in values if v.strip()]
    return sum(bool(test.search(v)) for v in filled) / len(filled) if filled else 0.0


def _owners(filled: list[str]) -> bool:
    """People and posts: half the cells, and posts among them (two capitalised words
    alone are as often a place as a person)."""
    posts = _share(filled, POST_CELL)
    return posts >= 0.3 and posts + _share(filled, PERSON_CELL) >= 0.5


def roles_from_cells(columns: list[list[str]]) -> list[str | None]:
    """Each column's role from what its cells hold, for a header outside the vocabulary.

    Codes, statuses, dates and owners by the share of cells that look like them; the
    leftmost column of prose (four words a cell and more) is the title, later prose is
    comments. Columns of amounts or short labels get no role.
    """
    roles: list[str | None] = []
    for values in columns:
        filled = [v.strip() for v in values if v.strip()]
        words = sum(len(v.split()) for v in filled) / len(filled) if filled else 0.0
        role: str | None = None
        if not filled:
            role = None
        elif _share(filled, CODE_CELL) >= 0.6:
            role = "code"
        elif words <= 4 and holds_statuses(filled) and _share(filled, STATUS_WORDS) >= 0.5:
            role = "status"
        elif words <= 6 and _share(filled, DATE_CELL) >= 0.5:
            role = "deadline"
        elif words <= 8 and _owners(filled):
            role = "officer"
        elif words >= 4:
            role = "comments" if "title" in roles else "title"
        roles.append(role if role not in roles or role == "comments" else None)
    return roles
