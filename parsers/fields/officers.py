"""Officer cells → officers: several names or posts split, role titles kept whole."""

from __future__ import annotations

import re

from parsers.model import Officer

ROLE_WORDS = re.compile(
    r"\b(head|manager|director|officer|officers|chief|executive|lead|team|service|services|"
    r"coordinator|co-ordinator|advisor|adviser|assistant|deputy|corporate|portfolio|holder|"
    r"member|members|cabinet|group|board|unit|partnership|partners|council|department|"
    r"section|specialist|consultant|analyst|administrator|supervisor|principal|senior|"
    r"strategic|all|staff|cmt|smt|ceo|hr|ict|it|"
    # the subjects posts are named after: "Economic Development" is a team, not a person
    r"development|economic|housing|health|planning|finance|financial|policy|performance|"
    r"customer|community|communities|environmental|environment|legal|democratic|estates|"
    r"property|revenues|benefits|leisure|waste|licensing|communications|partnerships|"
    r"strategy|regeneration|elections|electoral|democracy|safety|business|projects?|"
    r"operations|resources|support|transformation|digital|parking|enforcement)\b",
    re.I,
)
PERSON = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Miss)\.?\s+)?[A-Z][a-z'’\-]+(?:\s+[A-Z][a-z'’\-]+){1,2}$")
CONNECTOR_END = re.compile(r"(?:\b(?:of|and|for|the|to|&|in|with)|[–\-,(/&])\s*$", re.I)
SEPARATORS = re.compile(r"\s*(?:/|;|\s+alongside\s+|\s+supported\s+by\s+)\s*", re.I)


def _is_person(text: str) -> bool:
    return bool(PERSON.match(text)) and not ROLE_WORDS.search(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;").lstrip("–—- ")
    return re.sub(r"\s*[–—]\s*", " – ", re.sub(r"(?<=\w)\s+-\s+(?=\w)", " – ", text))


def _undouble(text: str) -> str:
    """``'Procurement Officer Procurement Officer'`` (a cell repeated by a merge) → one."""
    words = text.split()
    for size in range(1, len(words) // 2 + 1):
        if len(words) % size == 0 and words == words[:size] * (len(words) // size):
            return " ".join(words[:size])
    return text


def _balanced(text: str) -> bool:
    return text.count("(") <= text.count(")")


def _lines_to_units(lines: list[str]) -> list[str]:
    """Join lines that continue the one before (open bracket, trailing 'of', '–')."""
    units: list[str] = []
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        wrapped_name = units and _is_person(f"{units[-1]} {line}") and " " not in units[-1] + line
        wrapped_post = (
            units
            and POST_START.match(line)
            and not POST_END.search(units[-1])
            and not HEAD_END.search(units[-1])
        )
        if units and (
            wrapped_post
            or CONNECTOR_END.search(units[-1])
            or not _balanced(units[-1])
            or line[0].islower()
            or wrapped_name
        ):
            units[-1] = f"{units[-1]} {line}"
        else:
            units.append(line)
    return units


# A post ends in its head noun ("… Manager", "… Officer"); a department name may end a "Head of …".
POST_END = re.compile(
    r"\b(manager|officer|officers|team|leader|director|lead|coordinator|co-ordinator|adviser|"
    r"advisor|assistant|accountant|surveyor|solicitor|engineer)\.?$",
    re.I,
)
POST_START = re.compile(
    r"^(?:team\s+)?(?:manager|officer|leader|director|lead|coordinator)\b", re.I
)
HEAD_END = re.compile(r"\b(services|service|control|manager|officer|team|leader|director)$", re.I)
SENTENCE = re.compile(r"^[A-Z]?[a-z]+(?:\s+[a-z]+){4,}")
"""Five or more lower-case words: a note ('Specific roles and responsibilities to be …'),
not a post; 'Various dependant on project' is what the plan says and is kept."""


def _split_conjunction(unit: str, separator: str) -> list[str]:
    parts = [p.strip() for p in re.split(separator, unit) if p.strip()]
    if len(parts) > 1 and all(_is_person(p) for p in parts):
        return parts
    words = unit.split()
    if len(words) == 4 and all(_is_person(" ".join(pair)) for pair in (words[:2], words[2:])):
        return [" ".join(words[:2]), " ".join(words[2:])]  # two names on one line
    return _split_posts(unit)


def _split_posts(unit: str) -> list[str]:
    """``'Facilities Manager and Procurement Officer'`` → two posts, split where both halves are posts.

    ``'Head of Housing and Health'`` stays whole: its left half does not end like a post.
    """
    items = [p.strip() for p in re.split(r"\s*,\s*", unit) if p.strip()]
    out: list[str] = []
    for item in items:
        pieces = re.split(r"\s+and\s+", item)
        for cut in range(1, len(pieces)):
            left, right = " and ".join(pieces[:cut]), " and ".join(pieces[cut:])
            if HEAD_END.search(left) and POST_END.search(right) and right[:1].isupper():
                out.extend([left, *_split_posts(right)])
                break
        else:
            out.append(item)
    if len(out) > 1 and not all(
        POST_END.search(p) or HEAD_END.search(p) or _is_person(p) for p in out
    ):
        return [unit]
    return out


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
        piece = _undouble(piece.rstrip("."))
        if piece.lower() in {"n/a", "-", "tbc", "none"} or SENTENCE.match(piece):
            continue
        seen.setdefault(piece.lower(), Officer(piece, is_role=not _is_person(piece)))
    return list(seen.values())
