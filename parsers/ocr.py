"""Pages without a usable text layer, read from their image.

The page is rendered (pypdfium2), straightened and binarised; the ruling lines come from
the image by morphology (OpenCV) and the words, with their boxes and confidences, from
Tesseract run on the image with the rules taken out. Both are handed back in PDF points,
shaped as pdfplumber shapes its words and edges, so a scanned page enters the same table
reading as a born-digital one. One page at a time: memory stays bounded by one image.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import statistics
import subprocess
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

OcrMode = Literal["auto", "never", "always"]
RULED_EDGES = 6
"""Ruling lines found in a page image (each side of a box is one) that make it ruled."""
CELL_GAP = 6.0
"""Points between two words on a line that part two cells rather than two words."""
OCR_MODES: tuple[OcrMode, ...] = ("auto", "never", "always")
Word = dict[str, Any]

MISSING_TESSERACT = (
    "Tesseract is not installed, so pages without a text layer cannot be read; install "
    "Debian's tesseract-ocr and tesseract-ocr-eng (scripts/setup.sh does)"
)


class OcrError(Exception):
    """A page that could not be read from its image; the message says why."""


@dataclass(frozen=True)
class OcrSettings:
    dpi: int = 300
    language: str = "eng"
    tesseract: str = "tesseract"
    max_skew: float = 4.0
    """Degrees either way that a scanned page may lean and still be straightened."""
    low_confidence: float = 75.0
    """A record whose words Tesseract read with a lower mean confidence (0-100) is flagged."""
    rule_share: float = 1 / 25
    """The shortest ruling line, as a share of the page's width (horizontal) or height."""
    page_seconds: float = 120.0


OCR = OcrSettings()


def tesseract_available(settings: OcrSettings = OCR) -> bool:
    return shutil.which(settings.tesseract) is not None


GARBAGE = 0.3
"""A text layer with more than this share of `garbage_share` is read from the image."""
_VOWELS = re.compile(r"[aeiouyAEIOUY]")
_WORD = re.compile(r"[^\W\d_]{4,}")


def garbage_share(text: str) -> float:
    """How much of a text layer is not text: characters that no UK council plan is written
    in (private use, control, replacement, letters of scripts other than Latin, as a file
    decoded with the wrong encoding gives) and lower-case words with no vowel, the mark of
    a font whose glyphs map to the wrong letters."""
    characters = [c for c in text if not c.isspace()]
    if not characters:
        return 0.0
    odd = sum(
        unicodedata.category(c) in {"Co", "Cc", "Cn", "Cs"}
        or c == "\ufffd"
        or (c.isalpha() and not _latin(c))
        for c in characters
    )
    words = [w for w in _WORD.findall(text) if not w.isupper()]
    voiceless = sum(not _VOWELS.search(w) for w in words)
    return max(odd / len(characters), voiceless / len(words) if len(words) >= 5 else 0.0)


def _latin(letter: str) -> bool:
    point = ord(letter)
    return point <= 0x024F or 0x1E00 <= point <= 0x1EFF or 0xFB00 <= point <= 0xFB06


@dataclass
class OcrPage:
    """What a page's image says, in PDF points: words (with ``conf``, 0-100) and rules."""

    words: list[Word] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    skew: float = 0.0

    @property
    def text(self) -> str:
        """The words in lines, top to bottom, as a text layer would give them. A text
        layer may write a row's cells on one line or each apart, so both are given: each
        line, then its cells (runs parted by more than a word space) when it has several."""
        from parsers.geometry import group_lines, line_phrases

        lines = []
        for line in group_lines(self.words):
            lines.append(line.text)
            cells = line_phrases(line, CELL_GAP)
            if len(cells) > 1:
                lines += [" ".join(word["text"] for word in cell) for cell in cells]
        return "\n".join(lines)

    def is_ruled(self) -> bool:
        """Enough ruling lines in the image to count as a ruled page (as page triage asks)."""
        return len(self.edges) >= RULED_EDGES

    def confidence_in(self, bbox: tuple[float, float, float, float]) -> float | None:
        """The mean word confidence inside a box (a record's row), None when no word is."""
        x0, top, x1, bottom = bbox
        inside = [
            w["conf"]
            for w in self.words
            if x0 - 1 <= (w["x0"] + w["x1"]) / 2 <= x1 + 1
            and top - 1 <= (w["top"] + w["bottom"]) / 2 <= bottom + 1
        ]
        return statistics.fmean(inside) if inside else None


def read_page(path: Path, index: int, settings: OcrSettings = OCR) -> OcrPage:
    """OCR page `index` (0-based) of the PDF at `path`."""
    gray = render_gray(path, index, settings.dpi)
    gray, skew = straighten(denoise(gray), settings.max_skew)
    gray = reverse_dark_ground(gray)
    ground = page_ground(gray)
    ink = binarise(gray, ground)
    horizontal, vertical = rule_masks(ink | faint_ink(gray, ground, ink), settings.rule_share)
    scale = 72.0 / settings.dpi
    edges = rule_edges(horizontal, "h", scale) + rule_edges(vertical, "v", scale)
    edges += fill_edges(ground, settings.rule_share, scale)
    rules = horizontal | vertical
    text_image = without_rules(flatten_background(gray, ground), rules)
    words = tesseract_words(text_image, scale, settings)
    letters = ink & ~rules
    words += second_look(text_image, letters, words, scale, settings)
    words += unread_bullets(letters, words, scale)
    return OcrPage(words=distinct_words(words), edges=edges, skew=skew)


BULLET_READINGS = frozenset("•·eoO°*«»¢©®")
"""What Tesseract writes for a bullet it does read."""


def unread_bullets(ink: np.ndarray, words: list[Word], scale: float) -> list[Word]:
    """List bullets Tesseract left out: its page layout often takes a bullet for a speck,
    and a list in a cell then reads as one run-on paragraph. A solid round or square blob
    smaller than a letter (`is_bullet`), with a word starting just to its right on the same
    line, none just to its left and no word over it, is a bullet; it takes that word's
    line. A one-character word over such a blob is made the bullet it is."""
    import cv2

    if not words:
        return []
    height = statistics.median(w["bottom"] - w["top"] for w in words)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    found = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label][:4])
        size = max(w, h) * scale
        if not 0.15 * height <= size <= 0.6 * height:
            continue
        if not is_bullet(255 - ink[y : y + h, x : x + w]):
            continue
        x0, x1, top, bottom = x * scale, (x + w) * scale, y * scale, (y + h) * scale
        middle = (top + bottom) / 2
        beside = [
            word
            for word in words
            if word["top"] <= middle <= word["bottom"] and 0 < word["x0"] - x1 < 2.5 * height
        ]
        if any(
            word["top"] <= middle <= word["bottom"] and 0 <= x0 - word["x1"] < height
            for word in words
        ):
            continue  # a word just before it: a letter split from its word, not a bullet
        covered = [
            word
            for word in words
            if word["x0"] <= (x0 + x1) / 2 <= word["x1"] and word["top"] <= middle <= word["bottom"]
        ]
        for word in covered:
            if word["text"] in BULLET_READINGS:
                word["text"] = "•"
        if beside and not covered:
            line = min(beside, key=lambda word: word["x0"])
            found.append(
                {**line, "text": "•", "x0": x0, "x1": x1, "conf": float(line.get("conf", 0))}
            )
    return found


def distinct_words(words: list[Word]) -> list[Word]:
    """One word per place: Tesseract sometimes reads one word twice, from two overlapping
    layout blocks, and a doubled header word shifts every column the header defines. Of
    words that mostly cover each other, the surer one stays. Words are compared only with
    those in the same horizontal bands, so a page costs about its word count, not its
    square."""
    kept: list[Word] = []
    by_band: dict[int, list[Word]] = defaultdict(list)
    for word in sorted(words, key=lambda w: -float(w.get("conf", 0))):
        bands = _bands(word)
        if not any(_overlap(word, other) > 0.5 for band in bands for other in by_band[band]):
            kept.append(word)
            for band in bands:
                by_band[band].append(word)
    return sorted(kept, key=lambda w: (w["top"], w["x0"]))


BAND = 10.0
"""Points of page height per band: two boxes that overlap at all share a band."""


def _bands(word: Word) -> range:
    return range(int(word["top"] // BAND), int(word["bottom"] // BAND) + 1)


def _overlap(a: Word, b: Word) -> float:
    """Intersection over the smaller box."""
    width = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    height = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min(
        (a["x1"] - a["x0"]) * (a["bottom"] - a["top"]),
        (b["x1"] - b["x0"]) * (b["bottom"] - b["top"]),
    )
    return width * height / smaller if smaller > 0 else 0.0


def render_gray(path: Path, index: int, dpi: int) -> np.ndarray:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        page = pdf[index]
        try:
            image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        finally:
            page.close()
    finally:
        pdf.close()
    return np.asarray(image)


def denoise(gray: np.ndarray) -> np.ndarray:
    """A 3-pixel median takes out a scanner's speckle and keeps letters' edges: on noisy
    scans of the corpus Tesseract finds 4-5 % more words in it than in the raw page or a
    binarised one."""
    import cv2

    return cv2.medianBlur(gray, 3)


STROKE = 31
"""Pixels (at the default 300 dpi) wider than any letter's stroke, bold included: a window
this wide around a letter always reaches its ground."""
INK_LEVEL = 140
"""The lightest grey that is still ink. Otsu's threshold alone lands above the grey of a
shaded header row on a page full of them, and the row would read as one black bar."""


DARK_GROUND = 0.55
"""A fill darker than this share of the page's paper carries light letters, not dark ones."""


def reverse_dark_ground(gray: np.ndarray) -> np.ndarray:
    """Light letters on a dark fill (a header band printed white on navy, a RAG cell in red)
    turned dark on light, as Tesseract and the ink mask expect. A fill is what stays dark
    when the page's dark letters are closed away (`STROKE`), with the light letters it
    holds; it is turned only when its letters are lighter than it, so black letters on
    a mid-grey fill (a green or amber RAG cell) stay as they are."""
    import cv2

    # Half a stroke window: the light letters, grown by it, must stay holes in the fill
    # even near its side (a header band's words sit close to its top).
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (STROKE // 2, STROKE // 2))
    ground = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel)
    dark = (ground < DARK_GROUND * float(np.median(ground))).astype(np.uint8)
    if not dark.any():
        return gray
    outlines, _ = cv2.findContours(dark, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    reversed_gray = gray.copy()
    for outline in outlines:
        x, y, w, h = cv2.boundingRect(outline)
        if w < STROKE or h < STROKE:
            continue
        area = np.zeros(gray.shape, dtype=np.uint8)
        if cv2.contourArea(outline) >= BOXED * w * h:
            area[y : y + h, x : x + w] = 1  # a cell or band: letters near its side are in it
        else:
            cv2.drawContours(area, [outline], -1, 1, thickness=cv2.FILLED)
        area = area.astype(bool)
        levels = gray[area].astype(np.int16)
        level = float(np.median(levels))
        lighter = int((levels > level + LETTER_CONTRAST).sum())
        darker = int((levels < level - LETTER_CONTRAST).sum())
        if lighter > darker:
            reversed_gray[area] = 255 - gray[area]
    return reversed_gray


BOXED = 0.8
"""A fill covering this share of its bounding box is a box: a cell or a band."""
LETTER_CONTRAST = 50
"""Grey levels between a fill and the letters printed on it."""


def page_ground(gray: np.ndarray) -> np.ndarray:
    """The page with its letters and rules closed away (`STROKE`): paper, and each shaded
    cell at its own level out to its sides."""
    import cv2

    return cv2.morphologyEx(
        gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (STROKE, STROKE))
    )


FAINT_INK = 25
"""Grey levels below its ground (several times a scanner's noise) that a pale rule keeps."""


def faint_ink(gray: np.ndarray, ground: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Ink too pale to be a letter's but darker than its ground, away from any ink: the
    light grey rules a printed-to-PDF web table draws between its rows. Only rules are
    looked for in it. A letter's pale rim is left out, or a line of bold capitals would
    join into a rule along their tops."""
    import cv2

    faint = gray.astype(np.int16) < ground.astype(np.int16) - FAINT_INK
    near_ink = cv2.dilate(ink, np.ones((7, 7), np.uint8)) > 0
    return (faint & ~near_ink).astype(np.uint8) * 255


def flatten_background(gray: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """The page divided by its ground (`page_ground`), so a shaded cell becomes paper and
    its letters keep their contrast, out to the cell's sides: on noisy scans of the corpus
    Tesseract finds 2-7 % more words, shaded headers most of them."""
    flat = gray.astype(np.float32) / np.maximum(ground, 1).astype(np.float32) * 255
    return np.clip(flat, 0, 255).astype(np.uint8)


def binarise(gray: np.ndarray, ground: np.ndarray | None = None) -> np.ndarray:
    """Ink as 255 on 0: darker than Otsu's split of the page and than `INK_LEVEL`, so
    paper and shaded cells are both background. A fill dark enough to pass for ink (a
    green RAG cell) is not ink either: ink is clearly darker (`LETTER_CONTRAST`) than its
    ground (`page_ground`); a fill's sides are `fill_edges`'."""
    import cv2

    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    level = min(otsu, INK_LEVEL)
    _, ink = cv2.threshold(gray, level, 255, cv2.THRESH_BINARY_INV)
    ground = page_ground(gray) if ground is None else ground
    ink[gray.astype(np.int16) > ground.astype(np.int16) - LETTER_CONTRAST] = 0
    return ink


def straighten(gray: np.ndarray, max_skew: float) -> tuple[np.ndarray, float]:
    """The page turned level: the angle whose ink rows are most sharply separated
    (the projection-profile method), searched on a quarter-size copy."""
    import cv2

    small = cv2.resize(binarise(gray), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    centre = (small.shape[1] / 2, small.shape[0] / 2)

    def sharpness(angle: float) -> float:
        turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(small, turn, small.shape[::-1], flags=cv2.INTER_NEAREST)
        return float(np.var(rotated.sum(axis=1, dtype=np.float64)))

    coarse = max(np.arange(-max_skew, max_skew + 0.01, 0.5), key=sharpness)
    best = float(max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=sharpness))
    if abs(best) < 0.05:
        return gray, 0.0
    turn = cv2.getRotationMatrix2D((gray.shape[1] / 2, gray.shape[0] / 2), best, 1.0)
    level = cv2.warpAffine(gray, turn, gray.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=(255,))
    return level, best


def rule_masks(ink: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling lines: ink that survives opening with a long, thin
    kernel (letters are shorter than a rule), closed first across breaks of a pixel or two
    that noise leaves in a rule (wider, and it would join letters into bars)."""
    import cv2

    height, width = ink.shape
    masks = []
    for length, shape in ((int(width * share), (1, 0)), (int(height * share / 1.4), (0, 1))):
        length = max(length, 15)
        long_kernel = cv2.getStructuringElement(
            cv2.MORPH_RECT, (length, 1) if shape == (1, 0) else (1, length)
        )
        bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1) if shape == (1, 0) else (1, 3))
        closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, bridge)
        masks.append(cv2.morphologyEx(closed, cv2.MORPH_OPEN, long_kernel))
    return masks[0], masks[1]


FILL_STEP = 6
"""Grey levels between two fills (or a fill and the paper) that make a cell's side."""
GAP_LIFT = 4
"""Grey levels a thin light gap between two fills stands above both: the gap parts cells."""


def fill_edges(ground: np.ndarray, share: float, scale: float) -> list[dict[str, Any]]:
    """The sides of shaded cells, for tables drawn with fills and no rules (rows of
    alternating grey, cells parted by thin white gaps): where the page's ground
    (`page_ground`) steps, or rises in a thin gap, along a line as long as a rule. Each
    side is given as one edge along its middle."""
    import cv2

    level = ground.astype(np.int16)
    height, width = ground.shape
    reach = 4

    def sides(level: np.ndarray) -> np.ndarray:
        """Along axis 0: a step across `reach` pixels, or a gap lighter than both sides."""
        before, here, after = level[: -2 * reach], level[reach:-reach], level[2 * reach :]
        found = np.zeros(level.shape, dtype=np.uint8)
        found[reach:-reach] = (np.abs(after - before) >= FILL_STEP) | (
            here - np.maximum(before, after) >= GAP_LIFT
        )
        return found * 255

    steps, across = sides(level), sides(level.T).T
    edges = []
    horizontal, vertical = max(int(width * share), 15), max(int(height * share / 1.4), 15)
    # The side is found as a ragged band a few pixels wide: thickened across (7 px) and
    # bridged along (9 px) before it must run a rule's length. Kernels are (width, height).
    for mask, orientation, thick, bridge, long in (
        (steps, "h", (1, 7), (9, 1), (horizontal, 1)),
        (across, "v", (7, 1), (1, 9), (1, vertical)),
    ):
        rect = cv2.MORPH_RECT
        band = cv2.dilate(np.ascontiguousarray(mask), cv2.getStructuringElement(rect, thick))
        band = cv2.morphologyEx(band, cv2.MORPH_CLOSE, cv2.getStructuringElement(rect, bridge))
        lines = cv2.morphologyEx(band, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, long))
        count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for label in range(1, count):
            x, y, w, h = (int(v) for v in stats[label][:4])
            if orientation == "h":
                middle = (y + h / 2) * scale
                edges.append(_edge(x * scale, middle, (x + w) * scale, middle))
            else:
                middle = (x + w / 2) * scale
                edges.append(_edge(middle, y * scale, middle, (y + h) * scale))
    return edges


def second_look(
    image: np.ndarray, ink: np.ndarray, words: list[Word], scale: float, settings: OcrSettings
) -> list[Word]:
    """Words Tesseract's page layout passed over: a short code alone in a narrow column
    ("KA.2" beside a wide cell) is often taken for noise. Ink the size of a word that no
    word covers is cut out, stacked into one strip and read again as lines of text."""
    import cv2

    if not words:
        return []
    height = statistics.median(w["bottom"] - w["top"] for w in words) / scale
    joined = cv2.dilate(
        ink, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(height * 0.6)), 1))
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    pad = int(height * 0.4)
    read = np.zeros(ink.shape, dtype=bool)
    for word in words:
        x0, y0 = int(word["x0"] / scale) - pad, int(word["top"] / scale) - pad
        y1, x1 = int(word["bottom"] / scale) + pad, int(word["x1"] / scale) + pad
        read[max(0, y0) : y1, max(0, x0) : x1] = True
    crops: list[tuple[int, int, np.ndarray]] = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label][:4])
        if not (0.5 * height <= h <= 2.5 * height and w >= 0.6 * height):
            continue
        own = labels[y : y + h, x : x + w] == label
        if read[y : y + h, x : x + w][own].mean() > 0.2:
            continue
        crops.append(
            (x - pad, y - pad, image[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad])
        )
    if not crops:
        return []
    gap = int(height * 1.5)
    strip = np.full(
        (
            sum(c.shape[0] + gap for _, _, c in crops) + gap,
            max(c.shape[1] for _, _, c in crops) + 2 * gap,
        ),
        255,
        dtype=np.uint8,
    )
    placed = []
    top = gap
    for x, y, crop in crops:
        strip[top : top + crop.shape[0], gap : gap + crop.shape[1]] = crop
        placed.append((top, top + crop.shape[0], x, y))
        top += crop.shape[0] + gap
    found = []
    for word in tesseract_words(strip, 1.0, settings, layout="6"):
        middle = (word["top"] + word["bottom"]) / 2
        for start, end, x, y in placed:
            if start <= middle <= end:
                dx, dy = max(0, x) - gap, max(0, y) - start
                found.append(
                    {
                        **word,
                        "x0": (word["x0"] + dx) * scale,
                        "x1": (word["x1"] + dx) * scale,
                        "top": (word["top"] + dy) * scale,
                        "bottom": (word["bottom"] + dy) * scale,
                    }
                )
                break
    return found


def without_rules(gray: np.ndarray, rules: np.ndarray) -> np.ndarray:
    """The page with its rules painted out (a little beyond their ink), so Tesseract sees
    only the letters and does not read a rule as a line of dashes or a cell as a column."""
    import cv2

    grown = cv2.dilate(rules, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    return np.where(grown > 0, 255, gray).astype(np.uint8)


def rule_edges(mask: np.ndarray, orientation: str, scale: float) -> list[dict[str, Any]]:
    """Each rule in the mask as a pdfplumber edge in PDF points; a thick bar (a filled
    header band) gives its two long sides."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    edges = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label][:4])
        thin = (h if orientation == "h" else w) <= 12
        if orientation == "h":
            tops = [y + h / 2] if thin else [y, y + h]
            edges += [_edge(x * scale, t * scale, (x + w) * scale, t * scale) for t in tops]
        else:
            lefts = [x + w / 2] if thin else [x, x + w]
            edges += [
                _edge(left * scale, y * scale, left * scale, (y + h) * scale) for left in lefts
            ]
    return edges


def _edge(x0: float, top: float, x1: float, bottom: float) -> dict[str, Any]:
    return {
        "object_type": "line",
        "orientation": "h" if top == bottom else "v",
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "width": x1 - x0,
        "height": bottom - top,
    }


def tesseract_words(
    image: np.ndarray, scale: float, settings: OcrSettings, layout: str = "3"
) -> list[Word]:
    """Tesseract's words with their boxes in PDF points and confidences (0-100); `layout`
    is Tesseract's page segmentation mode (3: find the page's blocks, 6: one block).

    The command runs with one thread: its OpenMP threads make a page five times slower
    on a shared machine, and the batch already reads one document per core.
    """
    import cv2

    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise OcrError("the page image could not be encoded")
    try:
        finished = subprocess.run(
            [
                settings.tesseract,
                "stdin",
                "stdout",
                "-l",
                settings.language,
                "--psm",
                layout,
                "tsv",
            ],
            input=png.tobytes(),
            capture_output=True,
            timeout=settings.page_seconds,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            check=False,
        )
    except FileNotFoundError as error:
        raise OcrError(MISSING_TESSERACT) from error
    except subprocess.TimeoutExpired as error:
        raise OcrError(f"Tesseract took longer than {settings.page_seconds:g} s") from error
    if finished.returncode != 0:
        message = finished.stderr.decode(errors="replace").strip().splitlines()
        raise OcrError(f"Tesseract failed: {message[-1] if message else finished.returncode}")
    rows = csv.DictReader(
        io.StringIO(finished.stdout.decode("utf-8", errors="replace")),
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
    )
    words = []
    for row in rows:
        text, confidence = (row.get("text") or "").strip(), float(row.get("conf") or -1)
        left, top = int(row["left"]), int(row["top"])
        if text in BULLET_READINGS and row.get("word_num") == "1":
            box = image[top : top + int(row["height"]), left : left + int(row["width"])]
            text = "•" if is_bullet(box) else text
        if not text or confidence < 0 or is_speck(text, confidence):
            continue
        text = RULE_REMNANT.sub("", CODE_COMMA.sub(r"\1.\2", text)) or text
        words.append(
            {
                "text": text,
                "x0": left * scale,
                "x1": (left + int(row["width"])) * scale,
                "top": top * scale,
                "bottom": (top + int(row["height"])) * scale,
                "conf": confidence,
                "upright": True,
                "line": (row["block_num"], row["par_num"], row["line_num"]),
            }
        )
    return level_boxes(words)


BULLET_FILL = 0.62
"""The share of its box a bullet's disc or square inks; letters ink at most about half."""


def is_bullet(box: np.ndarray) -> bool:
    """A list bullet, which Tesseract reads as a letter ("e", "o", "«"): one solid blob,
    about as wide as it is high, filling its box as no letter does. (Only a line's first
    word is asked: a bullet starts its line, and a small bold letter split from its word
    can fill its box as densely.)"""
    import cv2

    height, width = box.shape[:2]
    if height < 4 or width < 4 or not 0.6 <= width / height <= 1.6:
        return False
    ink = (box < 128).astype(np.uint8)
    if float(ink.mean()) < BULLET_FILL:
        return False
    _, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return hierarchy is None or not (hierarchy[0][:, 3] >= 0).any()  # solid: no eye, as "e" has


RULE_REMNANT = re.compile(r"^[|\[\]!]+(?=\S)|(?<=\d)[|\[\]!]+$")
"""A column rule read into the word beside it: ``|Maidstone``, ``2,567|``, ``2,308]``."""
CODE_COMMA = re.compile(r"^([A-Z]{1,6}),(\d)")
"""``KA,25``: a code's full stop read as a comma; no English word is written so."""
STRAY_MARKS = frozenset("|()[]{}!")
"""A mark alone that is a rule's remnant or a bracket Tesseract found in a cell's edge."""


def is_speck(text: str, confidence: float) -> bool:
    """Tesseract's reading of shading or dirt, not of a word: a doubtful scrap of a few
    letters ("PG" at 30 %, "ae" at 54 % in a grey header cell) or doubtful punctuation
    alone. Short real words on a clean scan are read at 85 % and more."""
    letters = sum(c.isalnum() for c in text)
    if text in STRAY_MARKS:
        return True
    if any(c.isalpha() for c in text) and any(c.isdigit() for c in text):
        return False  # a code ("KA.1", "NI14"), however unsure: shading does not write one
    return (
        (letters == 0 and confidence < 70)
        or (letters <= 3 and confidence < 60)
        or (letters <= 5 and confidence < 30)
    )


FONT_OVER_INK = 1.33
"""A text layer's word box (the font's ascent to descent) over the ink of a typical word:
8.0 pt against 6.0 pt for 9-point Arial in the corpus."""


SIDE_BEARING = 0.05
"""A text layer's word box runs from the first glyph's advance to the last's, a twentieth
of the font's height beyond the ink on each side: word gaps of 3.3 pt against 4.3 pt read
by OCR on one 10-point page. Without it every OCR gap reads as wider than a word space."""


def level_boxes(words: list[Word]) -> list[Word]:
    """Every word of one Tesseract line at the line's height, as a text layer's words sit
    on the font's line: an OCR box hugs the ink, so "easy" (with its descender) sits lower
    than "Provide" on the same line, by more than the line grouping forgives. Boxes take
    the font's height too (`FONT_OVER_INK`), and the glyphs' side bearings
    (`SIDE_BEARING`), so gaps between lines and between words measure as they would in a
    text layer."""
    if not words:
        return words
    half = statistics.median(w["bottom"] - w["top"] for w in words) * FONT_OVER_INK / 2
    bearing = 2 * half * SIDE_BEARING
    for word in words:
        word["x0"], word["x1"] = word["x0"] - bearing, word["x1"] + bearing
    lines: dict[Any, list[Word]] = {}
    for word in words:
        lines.setdefault(word.pop("line"), []).append(word)
    for members in lines.values():
        middle = statistics.median((w["top"] + w["bottom"]) / 2 for w in members)
        for word in members:
            word["top"], word["bottom"] = middle - half, middle + half
    return words


AS_LETTER = {"0": "O", "1": "I", "l": "I", "i": "I", "|": "I", "5": "S", "8": "B"}
AS_DIGIT = {
    "O": "0",
    "o": "0",
    "D": "0",
    "I": "1",
    "l": "1",
    "i": "1",
    "|": "1",
    "S": "5",
    "s": "5",
    "B": "8",
    "Z": "2",
}
"""What OCR reads for a letter where a digit is printed, and the other way round."""
_CODE_SHAPE = re.compile(r"^(?P<prefix>(?:\d{1,2}-)?[A-Z]+)(?P<digits>\d+)(?P<suffix>[a-z]{0,2})$")


def code_readings(token: str) -> list[tuple[str, str, int]]:
    """Each way to read `token` as letters then digits (``NI014c``, ``13-HH05``), taking
    look-alike characters for what the place needs: (code, prefix, characters changed)."""
    department = re.match(r"^\d{1,2}-", token)
    head = department.group(0) if department else ""
    body = token[len(head) :]
    suffix = re.search(r"(?<=[\dOoSsIl|])[a-z]{0,2}$", body)
    tail = suffix.group(0) if suffix else ""
    body = body[: len(body) - len(tail)] if tail else body
    readings = []
    for split in range(1, len(body)):
        letters, digits, changed = [], [], 0
        for char in body[:split]:
            letter = char if char.isupper() and char.isalpha() else AS_LETTER.get(char)
            if letter is None:
                break
            letters.append(letter)
            changed += letter != char
        else:
            for char in body[split:]:
                digit = char if char.isdigit() else AS_DIGIT.get(char)
                if digit is None:
                    break
                digits.append(digit)
                changed += digit != char
            else:
                prefix = head + "".join(letters)
                readings.append((prefix + "".join(digits) + tail, prefix, changed))
    return readings


def trusted_prefixes(codes: Iterable[str | None]) -> Counter[str]:
    """How many of the document's codes are written with each prefix, counting only codes
    that need no second reading (no letter O before the digits, which may be a zero)."""
    counts: Counter[str] = Counter()
    for code in codes:
        found = _CODE_SHAPE.match(code or "")
        if found and not found["prefix"].endswith("O"):
            counts[found["prefix"]] += 1
    return counts


def reread_code(token: str, prefixes: Counter[str], evidence: int = 1) -> str | None:
    """The reading of `token` whose prefix the document writes most often (at least
    `evidence` times), fewest characters changed first; None when no reading beats the
    token as read."""
    best = max(
        code_readings(token),
        key=lambda reading: (prefixes[reading[1]], -reading[2]),
        default=None,
    )
    if best is None or prefixes[best[1]] < evidence or best[0] == token:
        return None
    own = _CODE_SHAPE.match(token)
    if own and prefixes[own["prefix"]] >= prefixes[best[1]]:
        return None
    return best[0]


def repair_codes(
    entries: list[tuple[str | None, str]], known: Iterable[str | None]
) -> list[tuple[str | None, str]]:
    """(code, title) of rows read by OCR, codes read again where a look-alike character
    hid the document's own prefix: ``SFPO3`` among ``SFP01``, ``SFP04`` → ``SFP03``;
    ``Nl014e`` among ``NI014b`` → ``NI014e``. A row whose code OCR left at the start of its
    title (``_PP13 - Average time…``, ``PP11 of completed…``) gets it back when the
    document writes that prefix at least twice."""
    prefixes = trusted_prefixes(known)
    repaired: list[tuple[str | None, str]] = []
    for code, title in entries:
        if code:
            code = reread_code(code, prefixes) or code
        else:
            found = re.match(
                r"^[\s_.,'`]*(?P<token>\S+)\s+(?:[-–—:]\s*)?(?P<rest>\S.*)$", title, re.DOTALL
            )
            if found:
                token = found["token"]
                own = _CODE_SHAPE.match(token)
                reading = (
                    token
                    if own and prefixes[own["prefix"]] >= 2
                    else reread_code(token, prefixes, 2)
                )
                if reading:
                    code, title = reading, found["rest"].strip()
        repaired.append((code, title))
    return repaired
