"""RAG status words and performance-system phrases → red, amber, green, grey or complete."""

from __future__ import annotations

import re

from parsers.model import Status

PHRASES: list[tuple[re.Pattern[str], Status]] = [
    (re.compile(r"\b(action\s+)?completed?\b", re.I), "complete"),
    (re.compile(r"\baction\s+off\s+target\b|\boff\s+track\b", re.I), "red"),
    (re.compile(r"\baction\s+on\s+target\b|\bon\s+track\b|\bon\s+target\b", re.I), "green"),
    (re.compile(r"^\W*red\b|\bred\W*$", re.I), "red"),
    (re.compile(r"^\W*amber\b|\bamber\W*$", re.I), "amber"),
    (re.compile(r"^\W*green\b|\bgreen\W*$", re.I), "green"),
    (re.compile(r"^\W*gr[ae]y\b|\bgr[ae]y\W*$", re.I), "grey"),
]
LETTERS: dict[str, Status] = {"R": "red", "A": "amber", "G": "green"}


def normalise_status(text: str | None) -> Status | None:
    """Only explicit words count: 'Revised Completion Date' or 'n/a' stay unknown."""
    if not text or not text.strip():
        return None
    cleaned = " ".join(text.split())
    if re.search(r"\brevised\b|\bnot\s+(yet\s+)?(started|actioned)\b", cleaned, re.I):
        return None
    if cleaned.upper() in LETTERS:
        return LETTERS[cleaned.upper()]
    for pattern, status in PHRASES:
        if pattern.search(cleaned):
            return status
    return None
