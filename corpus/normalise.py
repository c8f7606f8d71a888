"""Explicit normalisation for matching: rapidfuzz 3 compares strings exactly as given.

Every function here is idempotent (normalising twice changes nothing), which the tests check.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from parsers.fields.codes import code_key

# Years and financial years in titles change every year ("by the end of 2021/22").
_YEAR = re.compile(r"\b(?:19|20)\d{2}(?:\s*[/\-–]\s*(?:19|20)?\d{2})?\b")
_NOT_WORD = re.compile(r"[^a-z0-9%]+")
# Words that carry no identity of their own; "on"/"off" and numbers stay, they tell items apart.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "and",
        "in",
        "with",
        "by",
        "at",
        "be",
        "is",
        "are",
        "our",
        "we",
        "will",
        "its",
        "it",
        "that",
        "this",
        "from",
        "as",
        "all",
        "any",
        "within",
        "into",
        "via",
        "per",
    ]
)
# Year prefixes on service-plan codes: 14-HH02 in 2014/15 is 15-HH02 in 2015/16.
_YEAR_PREFIX = re.compile(r"^\d{1,2}-(?=[A-Z])")
# Codes that only number rows ("KA.12", "1.3.2", "ACTION 22"): plans renumber them every year.
_SEQUENCE_CODE = re.compile(
    r"^(?:[A-Z]{1,2}\.|ACTION\s*)?\d{1,3}(?:\.\d{1,3})*[a-z]?$", re.IGNORECASE
)

# Plans reword the same commitment with the verbs and nouns of the year: one word for each
# family, applied to whole words after lower-casing. Kept small and domain-specific.
SYNONYMS: dict[str, str] = {
    "make sure": "ensure",
    "roll out": "deliver",
    "implement": "deliver",
    "implementation": "deliver",
    "implementations": "deliver",
    "delivery": "deliver",
    "engage with": "work with",
    "collaborate with": "work with",
    "launch": "introduce",
    "publicise": "promote",
    "undertake": "carry out",
    "prepare": "develop",
    "produce": "develop",
    "development": "develop",
    "maximise": "improve",
    "increase": "improve",
    "assist": "support",
    "consider": "investigate",
    "explore": "investigate",
    "scheme": "programme",
    "service users": "customers",
    "residents": "customers",
    "partner organisations": "partners",
    "partner agencies": "partners",
    "viability": "feasibility",
    "utilise": "use",
    "keep under review": "monitor",
    "provision of": "provide",
    "set up": "establish",
}
_SYNONYM = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, SYNONYMS), key=len, reverse=True)) + r")\b"
)


@lru_cache(maxsize=1 << 16)
def normalise_text(text: str) -> str:
    """Lower case, ASCII, ``&`` as ``and``, years as ``year``, one word per synonym family."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    lowered = ascii_text.lower().replace("&", " and ")
    lowered = _YEAR.sub(" year ", lowered)
    words = " ".join(_NOT_WORD.sub(" ", lowered).split())
    return _SYNONYM.sub(lambda match: SYNONYMS[match.group(1)], words)


def content_stems(text: str) -> frozenset[str]:
    """Crude stems of the words that say what an item is about (first five letters)."""
    return stems_of_normalised(normalise_text(text))


def stems_of_normalised(normalised: str) -> frozenset[str]:
    return frozenset(word[:5] for word in normalised.split() if word not in STOPWORDS)


def code_stem(code: str | None) -> str | None:
    """The code without the year prefix some councils put on it, as a normalised key."""
    if not code:
        return None
    return code_key(_YEAR_PREFIX.sub("", code.strip()))


def is_sequence_code(code: str | None) -> bool:
    return code is not None and _SEQUENCE_CODE.match(code.strip()) is not None


def normalise_officer(name: str) -> str:
    return normalise_text(name)
