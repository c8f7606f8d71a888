"""Which council published a document, from its metadata and the words on its first pages."""

from __future__ import annotations

import re

COUNCIL_NAME = re.compile(
    r"\b((?:[A-Z][A-Za-z'’.\-]+|and|of|upon|on|in|the)"
    r"(?:[ \t]+(?:[A-Z][A-Za-z'’.\-]+|and|&|of|upon|on|in|the))*"
    r"[ \t]+(?:(?:Borough|District|County|City|Metropolitan Borough|Unitary|Parish|Town)?"
    r"[ \t]*Council|(?:Mayoral[ \t]+)?Combined[ \t]+Authority))\b"
    # "Council Tax", "Council Housing": the word names a thing, not who published.
    r"(?![ \t]+(?:Tax|Tenants?|Housing|Homes|Plan|Meeting)\b)"
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
    if words[-2].lower() == "the":  # "Leader of the Council": a role, not a name
        return None
    if cleaned.isupper():
        cleaned = cleaned.title().replace(" And ", " and ").replace(" Of ", " of ")
    return cleaned


# "We have worked with Bristol City Council": a partner named in a sentence, not the publisher.
PARTNER_BEFORE = re.compile(r"\b(?:with|alongside|and|to|from|between|across)\s+(?:the\s+)?$", re.I)


def council_from_text(text: str) -> str | None:
    """The first '… Council' or '… Combined Authority' that the text names as itself:
    heading lines first, then the rest. A partner in a sentence ('worked with Bristol City
    Council') and a name cut by a line wrap ('… North East' / 'Somerset Council') are not."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    headings = [i for i, ln in enumerate(lines) if len(ln.split()) <= 12 and not ln.endswith(".")]
    others = [i for i in range(len(lines)) if i not in set(headings)]
    for index in headings + others:
        line = lines[index]
        upper = line.upper()
        if "COUNCIL" not in upper and "AUTHORITY" not in upper:
            continue
        titled = line.title() if line.isupper() else line
        for match in COUNCIL_NAME.finditer(titled):
            before = titled[: match.start()]
            if PARTNER_BEFORE.search(before):
                continue
            # A name that starts its line after a capitalised word ends the line above is
            # a wrapped name's tail ("… Bath & North East" / "Somerset Council. A further
            # …"), unless it stands alone on its line as a heading does, or the line above
            # is a heading in capitals ("DRAFT").
            above = lines[index - 1] if index > 0 else ""
            last = above.split()[-1] if above else ""
            wrapped = (
                not before.strip()
                and last[:1].isupper()
                and last[-1:].isalpha()
                and not above.isupper()
            )
            alone = not titled[match.end() :].strip(" .,:;-")
            if wrapped and not alone:
                continue
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
