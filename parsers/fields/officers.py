"""Officer cells → officers: several names or posts split, role titles kept whole."""

from __future__ import annotations

import re

from parsers.model import Officer

ROLE_WORDS = re.compile(
    r"\b(head|manager|director|officer|officers|chief|executive|lead|team|service|services|"
    r"coordinator|co-ordinator|advisor|adviser|assistant|deputy|corporate|portfolio|holder|"
    r"member|members|cabinet|group|board|unit|partnership|partners|council|department|"
    r"section|specialist|consultant|analyst|administrator|supervisor|principal|senior|"
    r"strategic|all|staff|cmt|smt|ceo|hr|ict|it)\b",
    re.I,
)
PERSON = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Miss)\.?\s+)?[A-Z][a-z'’\-]+(?:\s+[A-Z][a-z'’\-]+){1,2}$")
CONNECTOR_END = re.compile(r"(?:\b(?:of|and|for|the|to|&|in|with)|[–\-,(/&])\s*$", re.I)
SEPARATORS = re.compile(r"\s*(?:/|;|\s+alongside\s+|\s+supported\s+by\s+)\s*", re.I)


def _is_person(text: str) -> bool:
    return bool(PERSON.match(text)) and not ROLE_WORDS.search(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;")
    return re.sub(r"\s*[–—]\s*", " – ", re.sub(r"(?<=\w)\s+-\s+(?=\w)", " – ", text))


def _balanced(text: str) -> bool:
    return text.count("(") <= text.count(")")


def _lines_to_units(lines: list[str]) -> list[str]:
    """Join lines that continue the one before (open bracket, trailing 'of', '–')."""
    units: list[str] = []
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if units and (
            CONNECTOR_END.search(units[-1]) or not _balanced(units[-1]) or line[0].islower()
        ):
            units[-1] = f"{units[-1]} {line}"
        else:
            units.append(line)
    return units


def _split_conjunction(unit: str, separator: str) -> list[str]:
    parts = [p.strip() for p in re.split(separator, unit) if p.strip()]
    if len(parts) > 1 and all(_is_person(p) for p in parts):
        return parts
    return [unit]


def split_officers(text: str | None) -> list[Officer]:
    """``'Richard May / Paul Knight'`` → two people; ``'Head of Housing and Health'`` → one post."""
    if not text or not text.strip():
        return []
    pieces: list[str] = []
    for unit in _lines_to_units(text.splitlines()):
        for part in SEPARATORS.split(unit):
            for piece in _split_conjunction(part, r"\s+and\s+|\s*,\s*|\s+&\s+"):
                if piece.strip():
                    pieces.append(_tidy(piece))
    seen: dict[str, Officer] = {}
    for piece in pieces:
        if piece.lower() in {"n/a", "-", "tbc", "none"}:
            continue
        seen.setdefault(piece.lower(), Officer(piece, is_role=not _is_person(piece)))
    return list(seen.values())
