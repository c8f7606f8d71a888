"""Table geometry from what a PDF page draws: rules, boxes and the alignment of its words.

pdfplumber finds a grid where rules cross. Many published tables draw only some of their
rules: an HTML or Word table printed to PDF has horizontal rules between rows and no
vertical ones (its header may have boxes). There the rows come from the rules and the
columns from the words: a column boundary is an x range that the words of most rows leave
empty (a "river" of white space), as in projection-profile readers.

    words of each row band → phrases → x coverage per band → rivers → column bounds
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Word = dict[str, Any]
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class ReadingSettings:
    """Every tolerance the PDF reader uses, named once (pdfplumber's ``TableSettings``)."""

    phrase_gap: float = 6.0
    """Words further apart than this on one line belong to different phrases."""
    river_min_width: float = 6.0
    """The narrowest white-space river that separates two columns."""
    river_share: float = 0.7
    """A river must be free of words in this share of the row bands (group rows cross it)."""
    rule_min_share: float = 0.4
    """A horizontal rule must span this share of the page width to bound table rows."""
    rule_snap: float = 2.0
    """Rules closer than this vertically are one rule."""
    min_bands: int = 2
    """Rows of two or more phrases needed before alignment is trusted to find columns."""
    continuation_band: float = 0.2
    """A table starting in this top share of a page may carry on the last page's table."""


SETTINGS = ReadingSettings()


@dataclass
class Line:
    words: list[Word]

    @property
    def top(self) -> float:
        return min(w["top"] for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w["bottom"] for w in self.words)

    @property
    def x0(self) -> float:
        return min(w["x0"] for w in self.words)

    @property
    def x1(self) -> float:
        return max(w["x1"] for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in self.words)


def group_lines(words: list[Word], tolerance: float = 2.5) -> list[Line]:
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1].words[0]["top"] - word["top"]) <= tolerance:
            lines[-1].words.append(word)
        else:
            lines.append(Line([word]))
    for line in lines:
        line.words.sort(key=lambda w: w["x0"])
    return sorted(lines, key=lambda ln: ln.top)


def line_phrases(line: Line, gap: float) -> list[list[Word]]:
    """A line's words in runs whose gaps are no wider than ``gap``: one run a cell."""
    runs: list[list[Word]] = [[line.words[0]]]
    for previous, word in itertools.pairwise(line.words):
        if word["x0"] - previous["x1"] > gap:
            runs.append([word])
        else:
            runs[-1].append(word)
    return runs


def phrases(words: Sequence[Word], gap: float) -> list[list[Word]]:
    """Words of one band grouped into lines, and each line into its runs."""
    return [run for line in group_lines(list(words)) for run in line_phrases(line, gap)]


def rivers(
    bands: Sequence[Sequence[Word]], left: float, right: float, settings: ReadingSettings = SETTINGS
) -> list[float]:
    """Column boundaries (x) between ``left`` and ``right``: the middle of each river of
    white space that the bands' phrases leave open in at least ``river_share`` of bands."""
    # A band of one phrase (a group row, a lone line) says nothing about columns.
    runs_by_band = [phrases(band, settings.phrase_gap) for band in bands]
    filled = [runs for runs in runs_by_band if len(runs) >= 2]
    if len(filled) < settings.min_bands:
        return []
    width = int(right - left) + 1
    covered = [0] * width
    for runs in filled:
        mask = [False] * width
        for run in runs:
            begin = max(0, int(min(w["x0"] for w in run) - left))
            end = min(width, int(max(w["x1"] for w in run) - left) + 1)
            for x in range(begin, end):
                mask[x] = True
        for x, on in enumerate(mask):
            covered[x] += on
    limit = len(filled) * (1 - settings.river_share)
    text_at = [x for x, count in enumerate(covered) if count > limit]
    if not text_at:
        return []
    first, last = text_at[0], text_at[-1]
    bounds: list[float] = []
    start: int | None = None
    for x in range(first, last + 1):
        open_ = covered[x] <= limit
        if open_ and start is None:
            start = x
        elif not open_ and start is not None:
            if x - start >= settings.river_min_width:
                bounds.append(left + (start + x) / 2)
            start = None
    return bounds


def column_of(x: float, bounds: Sequence[float]) -> int:
    return sum(x >= b for b in bounds)


def band_cells(
    band: Sequence[Word], bounds: Sequence[float], gap: float
) -> list[list[Word]] | None:
    """The band's words by column, or None for a group or section row written across the
    table: a phrase crosses a boundary and no phrase starts in another column."""
    runs = phrases(band, gap)
    crossing = any(
        column_of(run[0]["x0"], bounds) != column_of(run[-1]["x1"], bounds) for run in runs
    )
    if crossing and len({column_of(run[0]["x0"], bounds) for run in runs}) <= 1:
        return None
    cells: list[list[Word]] = [[] for _ in range(len(bounds) + 1)]
    for word in band:
        cells[column_of((word["x0"] + word["x1"]) / 2, bounds)].append(word)
    return cells


def horizontal_rules(
    edges: Sequence[dict[str, Any]], page_width: float, settings: ReadingSettings = SETTINGS
) -> list[tuple[float, float, float]]:
    """Long horizontal rules as ``(top, x0, x1)``, joined where a rule is drawn in pieces."""
    pieces = sorted(
        (float(e["top"]), float(e["x0"]), float(e["x1"]))
        for e in edges
        if e.get("orientation") == "h"
    )
    rules: list[list[float]] = []
    for top, x0, x1 in pieces:
        if rules and abs(rules[-1][0] - top) <= settings.rule_snap and x0 <= rules[-1][2] + 2:
            rules[-1][1] = min(rules[-1][1], x0)
            rules[-1][2] = max(rules[-1][2], x1)
        else:
            rules.append([top, x0, x1])
    long = [r for r in rules if r[2] - r[1] >= page_width * settings.rule_min_share]
    merged: list[tuple[float, float, float]] = []
    for top, x0, x1 in long:
        if merged and top - merged[-1][0] <= settings.rule_snap:
            continue
        merged.append((top, x0, x1))
    return merged


def rule_bands(
    rules: Sequence[tuple[float, float, float]],
) -> list[list[BBox]]:
    """Runs of rules with a shared extent: each run bounds the rows of one table."""
    tables: list[list[tuple[float, float, float]]] = []
    for rule in rules:
        if tables and abs(tables[-1][-1][1] - rule[1]) < 8 and abs(tables[-1][-1][2] - rule[2]) < 8:
            tables[-1].append(rule)
        else:
            tables.append([rule])
    out: list[list[BBox]] = []
    for run in tables:
        if len(run) < 3:
            continue
        x0 = min(r[1] for r in run)
        x1 = max(r[2] for r in run)
        out.append([(x0, a[0], x1, b[0]) for a, b in itertools.pairwise(run)])
    return out
