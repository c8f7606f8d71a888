"""Which council published a document, from its metadata and the words on its first pages."""

from __future__ import annotations

import re

COUNCIL_NAME = re.compile(
    r"\b((?:[A-Z][A-Za-z'’.\-]+|and|of|upon|on|in|the)"
    r"(?:[ \t]+(?:[A-Z][A-Za-z'’.\-]+|and|of|upon|on|in|the))*"
    r"[ \t]+(?:Borough|District|County|City|Metropolitan Borough|Unitary|Parish|Town)?"
    r"[ \t]*Council)\b"
)
NOT_A_NAME = re.compile(
    r"^(?:the|of|and|to|on|in|for|a|our|this|with|by)\b|\b(?:whole|full|parish|town)$", re.I
)


def _clean(name: str) -> str | None:
    words = name.split()
    while words and NOT_A_NAME.match(words[0]):
        words = words[1:]
    cleaned = " ".join(words)
    if len(words) < 2 or cleaned.lower() in {"county council", "district council", "city council"}:
        return None
    if cleaned.isupper():
        cleaned = cleaned.title().replace(" And ", " and ").replace(" Of ", " of ")
    return cleaned


def council_from_text(text: str) -> str | None:
    """The first '… Council' name in the text, with a leading 'the' and shouting removed."""
    for line in text.splitlines():
        candidate = line.strip()
        upper = candidate.upper()
        if "COUNCIL" not in upper:
            continue
        titled = candidate.title() if candidate.isupper() else candidate
        for match in COUNCIL_NAME.finditer(titled):
            name = _clean(match.group(1))
            if name:
                return name
    return None


def infer_council(sources: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    for how, text in sources:
        name = council_from_text(text)
        if name:
            return name, how
    return None, None
