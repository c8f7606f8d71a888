"""Lists inside one table cell: indicators given as bullets or numbered items.

    By using the following indicators:          lead-in (kept as context, not a record)
    • Net additional dwellings … completed      item 1
      by location (as per LP4 and LP5).         (a wrapped line carries on item 1)
    • S.106 data to monitor the provision …     item 2

Each item becomes a record of its own, sharing the row's other cells, when nothing or an
introduction ending in a colon comes before the list. A lead-in that names a thing of its
own ("Family Hubs Workforce Development • Trauma Informed … • MECC …") is the row's
title, and the list only details it. A trailing target
clause ("… Target to minimise") is the item's target, not part of its title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BULLET_MARK = "•●▪■◦‣⁃\uf0b7\uf0a7\uf0d8\uf076"
BULLET = re.compile(rf"^\s*[{BULLET_MARK}]\s*")
# A bullet the renderer ran onto the line before: "… plan period. • Number of …".
INLINE_BULLET = re.compile(rf"\s+(?=[{BULLET_MARK}]\s)")
NUMBERED = re.compile(r"^\s*(?:\(?\d{1,2}\)|\d{1,2}\.(?!\d)|\(?[a-h]\))\s+")
TARGET_CLAUSE = re.compile(
    r"(?:[.;,]\s+|\s*[–—]\s*|\s+-\s+)(?P<target>(?:targets?\b|at least\b|as per\b).*)$",
    re.I | re.DOTALL,
)


@dataclass(frozen=True)
class CellList:
    lead_in: str
    items: list[str]


def cell_list(text: str) -> CellList | None:
    """The cell's list, when it has one: any bulleted item, or two or more numbered ones.

    Lines without a marker carry on the item above (a wrapped line); lines before the
    first item are the lead-in.
    """
    lead: list[str] = []
    items: list[list[str]] = []
    bullets = numbers = 0
    for line in INLINE_BULLET.sub("\n", text).splitlines():
        if not line.strip():
            continue
        bullet, number = BULLET.match(line), NUMBERED.match(line)
        if bullet or number:
            marker = bullet or number
            assert marker is not None
            bullets += bool(bullet)
            numbers += bool(number)
            items.append([line[marker.end() :].strip()])
        elif items:
            items[-1].append(line.strip())
        else:
            lead.append(line.strip())
    if not bullets and numbers < 2:
        return None
    introduction = " ".join(lead)
    if introduction and not introduction.rstrip().endswith(":"):
        return None
    joined = [" ".join(" ".join(parts).split()) for parts in items]
    return CellList(introduction, [item for item in joined if item])


def split_target(title: str) -> tuple[str, str | None]:
    """``'Proportion of applications refused. Target to minimise'`` → title and target."""
    match = TARGET_CLAUSE.search(title)
    if match is None or match.start() < 12:
        return title.rstrip(" ."), None
    return title[: match.start()].rstrip(" .;,–—-"), match.group("target").strip()
