"""UK deadline text → dates: day-month order, month-year means the month's last day.

The grammar is ours (councils write ``31-Dec-12``, ``Sept 2010``, ``Mar 11``,
``(1) Apr 2010 (2) May 2010``, ``end June 2017``); dateutil does the calendar arithmetic.
Text that is not a date (``Ongoing``, ``TBC``, ``2016 - 2017``) gives no date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february", "febuary"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
MONTH = r"(?:jan(?:uary)?|feb(?:ruary|uary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
YEAR = r"(?:(?:19|20)\d\d|['‘’]?\d\d)"

TOKEN = re.compile(
    rf"""
    (?P<numeric>(?<![\d/.])(?P<nd>\d{{1,2}})[/.](?P<nm>\d{{1,2}})[/.](?P<ny>(?:19|20)?\d\d)(?![\d/]))
  | (?P<dmy>(?<!\d)(?P<d>\d{{1,2}})\s*(?:st|nd|rd|th)?[\s\-]*(?P<dm>{MONTH})\.?,?[\s\-]*(?P<dy>{YEAR})(?![\d/]))
  | (?P<range>(?P<rm1>{MONTH})\.?\s*(?:[\-–/]|to)\s*(?P<rm2>{MONTH})\.?[\s\-]*(?P<ry>{YEAR})(?![\d/]))
  | (?P<my>(?P<m>{MONTH})\.?[\s\-,]*(?P<y>{YEAR})(?![\d/]))
    """,
    re.IGNORECASE | re.VERBOSE,
)
QUARTER = re.compile(r"\bQ([1-4])\s*((?:19|20)\d\d)\s*/\s*(\d\d)\b", re.I)


def _year(text: str, pivot: int | None) -> int:
    """A two-digit year is the one nearest the document's period (``'99'`` in 2001 is 1999)."""
    digits = text.lstrip("'‘’")
    if len(digits) == 4:
        return int(digits)
    if pivot is None:
        return 2000 + int(digits)
    century = pivot // 100 * 100
    candidates = (century - 100 + int(digits), century + int(digits), century + 100 + int(digits))
    return min(candidates, key=lambda year: abs(year - pivot))


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class DeadlineParser:
    """Parse deadline cells; ``period_start`` lets two-digit years be read in context."""

    period_start: dt.date | None = None

    def parse(self, text: str | None) -> list[dt.date]:
        """Every date in the text, in order, each once. Never raises."""
        return list(dict.fromkeys(day for _, _, day in self.matches(text)))

    def matches(self, text: str | None) -> Iterator[tuple[int, int, dt.date]]:
        """Each date written in the text with where it is written, in reading order."""
        if not text:
            return
        pivot = self.period_start.year if self.period_start else None
        found: list[tuple[int, int, dt.date]] = []
        for match in TOKEN.finditer(text):
            try:
                day = self._date(match, pivot)
            except (ValueError, KeyError, OverflowError):
                continue
            if day:
                found.append((match.start(), match.end(), day))
        for match in QUARTER.finditer(text):
            start = dt.date(int(match.group(2)), 4, 1) + relativedelta(
                months=3 * int(match.group(1))
            )
            found.append((match.start(), match.end(), start - dt.timedelta(days=1)))
        yield from sorted(found, key=lambda m: m[0])

    def _date(self, match: re.Match[str], pivot: int | None) -> dt.date | None:
        if match.group("numeric"):
            return dt.date(
                _year(match.group("ny"), pivot), int(match.group("nm")), int(match.group("nd"))
            )
        if match.group("dmy"):
            month = _month(match.group("dm"))
            return dt.date(_year(match.group("dy"), pivot), month, int(match.group("d")))
        if match.group("range"):
            return _month_end(_year(match.group("ry"), pivot), _month(match.group("rm2")))
        if match.group("my"):
            return _month_end(_year(match.group("y"), pivot), _month(match.group("m")))
        return None


def _month(name: str) -> int:
    lowered = name.lower().rstrip(".")
    return MONTHS.get(lowered) or MONTHS[lowered[:3]]
