"""PDF throughput and memory: councilreg's parser against raw pdfplumber, same files, one run.

    python bench/pdf_throughput.py [--pages 400] [--corpus ../shared/corpus] [--real ../shared/real]

Two sets of files:

* **plan-only PDFs**: every PDF in the corpus (service plans and scorecards, tables on
  nearly every page);
* **committee packs**: packs of about ``--pages`` pages: every real council paper once
  (including the action-plan and KPI appendices), then minutes, budgets, risk registers and
  reports until the pack is full, with one corpus plan in the middle — the shape of an
  agenda pack in which a few dozen pages hold the tables.

For each set it prints pages per second on one core for councilreg (``parse_file``: page
triage, table reading, records and the field pipeline) and for raw pdfplumber
(``page.extract_tables()`` on every page), and their ratio; then how many pages triage
keeps for the table search ("read") and the ratio per read page (what one table page costs
us against pdfplumber's one page: below 1× means reading a page costs more than raw
pdfplumber's table finder). The pack ratio moves with how many table pages a pack holds. Targets: ≥ 5× on packs, ≥ 0.8×
on plan-only PDFs. Peak RSS is measured in a fresh process per parser on the largest pack
(target under 500 MB on a 400-page pack).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium

from parsers import parse_file
from parsers.triage import scan_pages

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COUNCILREG_SHARED") or ROOT.parent / "shared")


def raw_pdfplumber(path: Path) -> int:
    """The baseline: pdfplumber's own table finder on every page, caches released per page."""
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_tables()
            page.close()
        return len(pdf.pages)


def imports_only(path: Path) -> int:
    """Nothing parsed: the memory every process pays for the libraries alone."""
    return 0


def councilreg(path: Path) -> int:
    return parse_file(path).facts.page_count or 0


def build_pack(
    papers: list[Path], fillers: list[Path], plan: Path, pages: int, target: Path
) -> Path:
    """Every real paper once, then papers with no plan tables until about `pages` pages,
    with a plan appendix in the middle: a few pages of actions in a long pack."""
    pack = pdfium.PdfDocument.new()
    placed_plan = False
    queue = [*papers, *fillers * (pages // max(1, sum(_pages(f) for f in fillers)) + 1)]
    for path in queue:
        if len(pack) >= pages:
            break
        pack.import_pages(pdfium.PdfDocument(str(path)))
        if not placed_plan and len(pack) >= pages // 2:
            pack.import_pages(pdfium.PdfDocument(str(plan)))
            placed_plan = True
    pack.save(str(target))
    return target


def _pages(path: Path) -> int:
    return len(pdfium.PdfDocument(str(path)))


def pages_per_second(parse: Callable[[Path], int], files: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    pages = sum(parse(path) for path in files)
    return pages / (time.perf_counter() - started), pages


def _peak_rss(parse: Callable[[Path], int], path: Path, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec."""
    parse(path)
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    queue.put(peak_kb / 1024)


def peak_rss_mb(parse: Callable[[Path], int], path: Path) -> float:
    """Peak resident memory of a fresh process that parses one file."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_rss, args=(parse, path, queue))
    process.start()
    peak = float(queue.get())
    process.join()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--packs", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--real", type=Path, default=SHARED / "real")
    args = parser.parse_args()

    plans = sorted(args.corpus.glob("*.pdf"))
    papers = sorted(args.real.glob("*.pdf"))
    with tempfile.TemporaryDirectory(prefix="councilreg-bench-") as tmp:
        fillers = [p for p in papers if not parse_file(p).records]
        packs = [
            build_pack(
                papers[n:] + papers[:n], fillers, plans[n], args.pages, Path(tmp) / f"pack{n}.pdf"
            )
            for n in range(args.packs)
        ]
        print(
            f"{'set':<18}{'pages':>7}{'read':>7}{'councilreg p/s':>16}{'pdfplumber p/s':>16}"
            f"{'ratio':>8}{'per read page':>15}"
        )
        for name, files in (("plan-only PDFs", plans), ("committee packs", packs)):
            ours, pages = pages_per_second(councilreg, files)
            theirs, _ = pages_per_second(raw_pdfplumber, files)
            read = sum(len(scan_pages(path).candidates) for path in files)
            ratio = ours / theirs
            print(
                f"{name:<18}{pages:>7}{read:>7}{ours:>16.1f}{theirs:>16.1f}{ratio:>7.1f}×"
                f"{ratio * read / pages:>14.2f}×"
            )
        largest = max(packs, key=lambda p: p.stat().st_size)
        pages = _pages(largest)
        ours_mb = peak_rss_mb(councilreg, largest)
        theirs_mb = peak_rss_mb(raw_pdfplumber, largest)
        base_mb = peak_rss_mb(imports_only, largest)
        print(
            f"peak RSS on a {pages}-page pack: councilreg {ours_mb:.0f} MB, "
            f"raw pdfplumber {theirs_mb:.0f} MB ({ours_mb / theirs_mb:.2f}×); "
            f"libraries alone {base_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
