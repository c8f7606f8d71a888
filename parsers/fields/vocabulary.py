"""The words councils use for status and for deadlines that are not dates.

Plain data with no spaCy import, shared by the field pipeline (which labels them) and
by table reading (which asks whether a column holds them).
"""

from __future__ import annotations

from parsers.model import Status

# Phrases are matched on lower-cased text; the id is the normalised status.
# "unknown" phrases say explicitly that no RAG rating was given.
STATUS_PHRASES: dict[str, list[str]] = {
    "unknown": [
        "revised completion date",
        "revised date",
        "revised",
        "not started",
        "not yet started",
        "not actioned",
        "not yet actioned",
    ],
    "complete": ["completed", "complete", "action completed", "action complete"],
    "red": ["action off target", "off track", "off target", "red"],
    "amber": ["amber"],
    "green": ["action on target", "on track", "on target", "green"],
    "grey": ["grey", "gray", "not updated"],
}
LETTERS: dict[str, Status] = {"R": "red", "A": "amber", "G": "green"}
"""A cell holding only one letter."""
STATUS_PRIORITY: list[str] = ["complete", "red", "green", "amber", "grey"]
COLOUR_WORDS = frozenset({"red", "amber", "green", "grey", "gray"})
"""RAG colours count only at either end of the cell: 'works at the Red Lion car park' is not a rating."""

NON_DATES = [
    "ongoing",
    "on-going",
    "on going",
    "tbc",
    "tba",
    "tbi",
    "ad-hoc",
    "ad hoc",
    "monthly",
    "quarterly",
    "annually",
    "each quarter",
    "every quarter",
    "throughout year",
    "throughout the year",
    "as required",
    "continuous",
]
