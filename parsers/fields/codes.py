"""Action codes and performance-indicator codes, as printed and as normalised keys.

``NI 14`` = ``NI014`` = ``NI-014`` (key ``NI014``); ``BV 12`` = ``BVPI 12`` (key ``BV012``);
suffix letters stay (``NI014a``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

# Prefixes of indicator sets: national (NI, BVPI/BV) and the local ones councils use.
INDICATOR_PREFIX = r"(?:NI|BVPI|BV|LPI|KPI|PI|[A-Z]{0,3}EHPI|[A-Z]{1,4}PI|SX|SF|PP|CP|HH|LI|Local)"
INDICATOR_CODE = re.compile(
    rf"(?<![\w.])(?:NEW\s+)?(?P<code>(?P<prefix>{INDICATOR_PREFIX})[\s\-]?(?P<number>\d{{1,4}}"
    r"(?:\.\d{1,3}[a-z]?)*)(?P<suffix>[a-z]{0,2}))(?![\w])"
)
ACTION_CODE = re.compile(
    r"^(?P<code>ACTION\s+\d+[a-z]?|\d{1,2}-[A-Z]{2,6}\d{1,3}[a-z]?|[A-Z]{1,4}\.\d{1,3}(?:\.\d+)*[a-z]?"
    r"|\d{1,2}(?:\.\d{1,2}){1,3}|[A-Z]{1,5}\d{1,4}(?:\.\d{1,3})?[a-z]{0,2}|\d{1,2}[a-z]"
    r"|Local\s+\d+[a-z]?|NEW\s+PI)\b"
)
CODE_AT_START = re.compile(
    r"^\s*(?P<code>(?:NEW\s+)?(?:(?:[A-Z]{2,4}\s+)?[A-Z]{1,6}[\s\-]?\d{1,4}(?:\.\d{1,3})*[a-z]{0,2}|ACTION\s+\d+[a-z]?|Local\s+\d+[a-z]?|NEW\s+PI|\d{1,2}(?:\.\d{1,2}){1,3}))"
    r"(?:\s*\([A-Z]{2,6}\))?(?:\s*[-–—:]\s+|\s+[-–—]\s*)(?P<title>\S.*)$",
    re.DOTALL,
)
NUMBERED_TITLE = re.compile(
    r"^\s*(?P<code>\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(?P<title>\S.*)$", re.DOTALL
)


@dataclass(frozen=True)
class IndicatorCode:
    text: str
    key: str


@lru_cache(maxsize=1 << 14)
def indicator_key(code: str) -> str:
    """A normalised key: upper-case prefix, number zero-padded to three digits, suffix kept."""
    compact = re.sub(r"^NEW\s+", "", code.strip(), flags=re.I)
    match = re.match(
        r"^(?P<prefix>[A-Za-z]+)[\s\-]*(?P<number>\d+)(?P<rest>(?:\.\d+)*)(?P<suffix>[A-Za-z]*)$",
        compact,
    )
    if not match:
        return re.sub(r"[\s\-]+", "", compact).upper()
    prefix = match.group("prefix").upper()
    if prefix == "BVPI":
        prefix = "BV"
    number = f"{int(match.group('number')):03d}"
    return f"{prefix}{number}{match.group('rest')}{match.group('suffix').lower()}"


def code_key(code: str | None) -> str | None:
    if not code:
        return None
    return indicator_key(code) if re.match(r"^[A-Za-z]", code) else code.strip()


def indicator_mentions(text: str) -> Iterator[tuple[int, int, IndicatorCode]]:
    """Each indicator code's first mention in the text, with where it is printed, in order."""
    seen: set[str] = set()
    for match in INDICATOR_CODE.finditer(text):
        code = match.group("code")
        key = indicator_key(code)
        if key not in seen:
            seen.add(key)
            yield match.start("code"), match.end("code"), IndicatorCode(code, key)


def find_indicator_codes(text: str) -> list[IndicatorCode]:
    """Indicator codes cited anywhere in the text, in order, each once."""
    return [code for _, _, code in indicator_mentions(text)]


def split_code(text: str) -> tuple[str | None, str]:
    """``'SX028a - % of Council PIs that are improving'`` → ``('SX028a', '% of …')``."""
    match = CODE_AT_START.match(text)
    if match:
        code = match.group("code")
        if code.upper().startswith("NEW ") and code.upper() != "NEW PI":
            code = code[4:]
        return (None if code.upper() == "NEW PI" else code), match.group("title").strip()
    return None, text.strip()


def split_numbered(text: str) -> tuple[str | None, str]:
    """``'1.2.1 Ensure that …'`` → ``('1.2.1', 'Ensure that …')``."""
    match = NUMBERED_TITLE.match(text)
    if match:
        return match.group("code"), match.group("title").strip()
    return None, text.strip()


def looks_like_code(text: str) -> bool:
    return bool(ACTION_CODE.match(text.strip())) and len(text.strip()) <= 16
