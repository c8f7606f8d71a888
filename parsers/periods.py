"""UK financial years (1 April – 31 March) and working out which one a document covers."""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateparser
from dateutil.relativedelta import relativedelta

from parsers.model import DocumentFacts, Period

# "2017/18", "2017-18", "2017/2018", "2017 – 18"; the second year must follow the first.
FY_PATTERN = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[/\-–_]\s*((?:19|20)?\d\d)(?!\d)")
ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d\d)-(\d\d)(?!\d)")
MONTH_YEAR = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*[\s\-_]+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)
DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(january|february|march|april|may|june|july|august|"
    r"september|october|november|december)\s+((?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def parse_period_label(text: str) -> Period | None:
    """``2017/18`` → FY 2017/18; a range of years (``2010-13``) gives its first year."""
    match = FY_PATTERN.search(text)
    if not match:
        return None
    first, second = int(match.group(1)), match.group(2)
    second_year = int(second) if len(second) == 4 else first // 100 * 100 + int(second)
    if len(second) == 2 and second_year < first:
        second_year += 100  # 1999/00
    if not 0 < second_year - first <= 4:
        return None
    return Period.financial_year(first)


def find_date(text: str) -> dt.date | None:
    """The first full date in the text (ISO or '11 March 2010'), read day-first."""
    match = ISO_DATE.search(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    match = DAY_MONTH_YEAR.search(text)
    if match:
        try:
            return dateparser.parse(match.group(0), dayfirst=True).date()
        except (ValueError, OverflowError):
            pass
    return None


def text_sources(facts: DocumentFacts | None, file_name: str) -> list[tuple[str, str]]:
    """Where a document says what it is, most trusted first, each named for the report."""
    return [
        ("metadata title", (facts.title or "") if facts else ""),
        ("document text", facts.first_text if facts else ""),
        ("file name", file_name),
    ]


MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
STATED_AS_AT = re.compile(
    r"\b(?:update|updated|as at|position at|progress (?:at|to)|quarter end(?:ing)?|"
    r"period end(?:ing)?|to the end of)\s*:?\s*"
    r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+"
    r"(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
# "By 2028/29, the proportion …": a target year in a sentence, not the document's period.
TARGET_YEAR = re.compile(r"\b(?:by|until|to|from|before|after|beyond|in)\s+$", re.IGNORECASE)


def _heading_lines(text: str, limit: int = 40) -> list[str]:
    """The short lines near the start that name a document: titles, not sentences."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:limit]
    return [
        line
        for line in lines
        if len(line.split()) <= 12 and not line[:1].islower() and not line.endswith(".")
    ]


def _stated_label(text: str) -> Period | None:
    """The first financial-year label that is not a target year inside a sentence."""
    for match in FY_PATTERN.finditer(text):
        if TARGET_YEAR.search(text[max(0, match.start() - 12) : match.start()]):
            continue
        period = parse_period_label(match.group(0))
        if period:
            return period
    return None


def infer_period(sources: list[tuple[str, str]]) -> tuple[Period | None, str | None]:
    """What the document says of itself first, then the first year found anywhere.

    In order: a financial-year label in the metadata title or a heading line; a position
    stated as at a month ("Update: March 2024"); a label in the file name; a label in the
    text that is not a target year ("By 2028/29, …"); then a dated meeting or a month.
    Each (how, text) source is tried at each level, most trusted first.
    """
    texts = dict(sources)
    levels: list[tuple[str, str]] = []
    for how, text in sources:
        if how == "document text":
            levels.append((f"{how} (heading)", "\n".join(_heading_lines(text))))
        elif how != "file name":
            levels.append((how, text))
    for how, text in levels:
        period = _stated_label(text)
        if period:
            return period, how
    for how, text in sources:
        match = STATED_AS_AT.search(text)
        if match:
            stated = dt.date(int(match.group("year")), MONTHS[match.group("month")[:3].lower()], 1)
            return Period.containing(stated), f"{how} (as at)"
    for how in ("file name", "document text"):
        period = _stated_label(texts.get(how, ""))
        if period:
            return period, how
    for how, text in sources:
        day = find_date(text)
        if day:
            return Period.containing(day), f"{how} (date)"
        match = MONTH_YEAR.search(text)
        if match:
            day = dateparser.parse(f"1 {match.group(1)[:3]} {match.group(2)}").date()
            return Period.containing(day), f"{how} (month)"
    return None, None


QUARTER = re.compile(
    r"\b(?:q(?P<short>[1-4])|quarter\s+(?P<word>[1-4]|one|two|three|four)|"
    r"(?P<ordinal>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\b",
    re.IGNORECASE,
)
QUARTER_NUMBER = {
    "one": 1, "two": 2, "three": 3, "four": 4,
    "first": 1, "second": 2, "third": 3, "fourth": 4,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
}  # fmt: skip


def find_reporting_point(
    sources: list[tuple[str, str]], period: Period | None
) -> tuple[dt.date | None, str | None]:
    """Where in its year a report stands: the last day of the month it states a position
    at ("Update: March 2024"), else of the quarter it names ("Q2", "Quarter 3", "third
    quarter") within its financial year. Only what the document says of itself counts:
    the metadata title, heading lines and the file name, never a table's cells, where
    "Q3" is a target. Reports of one year are then read in this order."""
    places = [
        (how, "\n".join(_heading_lines(text)) if how == "document text" else text)
        for how, text in sources
    ]
    for how, text in places:
        match = STATED_AS_AT.search(text)
        if match:
            month = dt.date(int(match.group("year")), MONTHS[match.group("month")[:3].lower()], 1)
            return month + relativedelta(months=1, days=-1), f"{how} (as at)"
    if period is None:
        return None, None
    for how, text in places:
        match = QUARTER.search(text.replace("_", " "))
        if match:
            found = match.group("short") or match.group("word") or match.group("ordinal")
            quarter = int(found) if found.isdigit() else QUARTER_NUMBER[found.lower()]
            return period.start + relativedelta(months=3 * quarter, days=-1), f"{how} (quarter)"
    return None, None
