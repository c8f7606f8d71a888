"""Pictures of the source: a PDF page, or the region around one record's row, as PNG bytes."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pdfplumber

from parsers.model import ParseError

MARGIN = 24.0
# pdfium is not thread-safe, and a web server renders from a thread pool: one render at a time.
_PDFIUM = threading.Lock()


def render_region(
    path: Path,
    page_number: int,
    bbox: tuple[float, float, float, float] | None,
    resolution: int = 110,
) -> bytes:
    """The page (1-based) as PNG; with ``bbox``, only the band of the page around it, highlighted."""
    with _PDFIUM:
        return _render(path, page_number, bbox, resolution)


def _render(
    path: Path, page_number: int, bbox: tuple[float, float, float, float] | None, resolution: int
) -> bytes:
    try:
        with pdfplumber.open(path) as pdf:
            if not 1 <= page_number <= len(pdf.pages):
                raise ParseError(f"{path.name} has no page {page_number}")
            page = pdf.pages[page_number - 1]
            region = page
            if bbox is not None:
                top = max(0.0, bbox[1] - MARGIN)
                bottom = min(float(page.height), bbox[3] + MARGIN)
                region = page.crop((0, top, float(page.width), bottom))
            image = region.to_image(resolution=resolution)
            if bbox is not None:
                image.draw_rect(bbox, fill=(255, 220, 0, 40), stroke=(200, 120, 0), stroke_width=2)
            buffer = io.BytesIO()
            image.original.save(buffer, format="PNG") if bbox is None else image.annotated.save(
                buffer, format="PNG"
            )
            return buffer.getvalue()
    except OSError as error:
        raise ParseError(f"cannot read {path.name}: {error.strerror or error}") from error
