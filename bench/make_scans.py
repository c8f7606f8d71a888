"""Scanned copies of PDFs: each page rendered at 200 dpi, turned slightly, speckled, and
rebuilt as an image-only PDF (no text layer), with the gold answers copied beside them.

    python bench/make_scans.py ../shared/corpus /tmp/scans [--dpi 200] [--seed 7]
    python bench/make_scans.py ../shared/real /tmp/scans-real --gold-only

The turn (up to ±0.8°) and the noise are drawn from a seeded generator, so a run is
repeatable. Only pages a gold file scopes (``scope_pages``) are rendered with
``--gold-only`` on papers of hundreds of pages; the others become empty pages, so page
numbers still match the gold.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image


def scanned(page: pdfium.PdfPage, dpi: int, rng: np.random.Generator) -> Image.Image:
    image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    image = image.rotate(float(rng.uniform(-0.8, 0.8)), resample=Image.BILINEAR, fillcolor=255)
    pixels = np.asarray(image, dtype=np.int16)
    pixels = pixels + rng.normal(0, 12, pixels.shape).astype(np.int16)
    speckle = rng.random(pixels.shape) < 0.0015
    pixels[speckle] = 0
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def scope(gold: Path) -> set[int] | None:
    if not gold.exists():
        return None
    pages = json.loads(gold.read_text()).get("scope_pages")
    return set(pages) if pages else None


def scan_pdf(
    source: Path, target: Path, dpi: int, rng: np.random.Generator, only: set[int] | None
) -> int:
    """An image-only copy of `source`; pages outside `only` are left empty (no image, no
    text), so they cost the reader nothing and page numbers still match the gold."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = pdfium.PdfDocument(source)
    out = canvas.Canvas(str(target))
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                out.setPageSize((width, height))
                if only is None or index + 1 in only:
                    picture = io.BytesIO()
                    scanned(page, dpi, rng).save(picture, format="PNG")
                    picture.seek(0)
                    out.drawImage(ImageReader(picture), 0, 0, width=width, height=height)
                out.showPage()
            finally:
                page.close()
        count = len(pdf)
    finally:
        pdf.close()
    out.save()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gold-only", action="store_true", help="only PDFs with gold answers")
    args = parser.parse_args()
    args.target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for source in sorted(args.source.glob("*.pdf")):
        gold = source.with_suffix(".gold.json")
        if args.gold_only and not gold.exists():
            continue
        pages = scan_pdf(
            source,
            args.target / source.name,
            args.dpi,
            rng,
            scope(gold) if args.gold_only else None,
        )
        if gold.exists():
            shutil.copy(gold, args.target / gold.name)
        print(f"{source.name}: {pages} pages")


if __name__ == "__main__":
    main()
