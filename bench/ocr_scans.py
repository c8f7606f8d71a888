"""Scanned pages against their born-digital originals, scored in one run by score.py.

    python bench/make_scans.py ../shared/corpus /tmp/scans
    python bench/ocr_scans.py /tmp/scans ../shared/corpus [--workers 2]

Every PDF in the scan folder with a gold file is read twice as ``councilreg extract
--json`` reads it — the scan (no text layer: every page through OCR) and its original
— and both are scored with ``score.py extract``. Printed: record P/R/F1 of each and the
ratio of the F1s (goal ≥ 0.90), the field accuracies on scans (goal: code ≥ 0.95),
seconds per OCR'd page, the peak memory of one worker, and the worst scanned documents.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COUNCILREG_SHARED") or ROOT.parent / "shared")
sys.path.insert(0, str(ROOT))

from bench.extract_gold import load_scorer  # noqa: E402
from ingest.unit import describe_parsed  # noqa: E402
from parsers import ParseError, parse_file  # noqa: E402


def extract(source: Path, target: Path) -> tuple[str, float, int, int]:
    """Write the prediction for one file; (name, seconds, pages read by OCR, peak KB)."""
    start = time.perf_counter()
    try:
        parsed = parse_file(source)
        payload = describe_parsed(source, parsed)
    except ParseError as error:
        payload = {"file": source.name, "records": [], "problems": [str(error)]}
    seconds = time.perf_counter() - start
    (target / f"{source.stem}.json").write_text(json.dumps(payload, ensure_ascii=False))
    ocr_pages = len({r["page"] for r in payload["records"] if r.get("source") == "ocr"})
    return source.name, seconds, ocr_pages, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(folder: Path, sources: list[Path], workers: int) -> tuple[Path, list[Any]]:
    target = Path(tempfile.mkdtemp(prefix=f"ocr-{folder.name}-"))
    with ProcessPoolExecutor(workers, max_tasks_per_child=1) as pool:
        timings = list(pool.map(extract, sources, [target] * len(sources)))
    return target, timings


def page_count(path: Path) -> int:
    """Pages that OCR reads: those without a text layer and with an image."""
    from parsers.triage import scan_pages

    return len(scan_pages(path).unreadable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scans", type=Path)
    parser.add_argument("originals", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    score = load_scorer(SHARED)
    names = sorted(
        json.loads(g.read_text())["file"]
        for g in args.scans.glob("*.gold.json")
        if (args.scans / json.loads(g.read_text())["file"]).exists()
    )
    names = [n for n in names if n.lower().endswith(".pdf")]
    started = time.perf_counter()
    scan_dir, timings = run(args.scans, [args.scans / n for n in names], args.workers)
    scan_wall = time.perf_counter() - started
    original_dir, _ = run(args.originals, [args.originals / n for n in names], args.workers)
    scanned = score.score_extract(args.scans, scan_dir)
    original = score.score_extract(
        args.scans, original_dir
    )  # the same gold, copied beside the scans
    pages = sum(page_count(args.scans / n) for n in names)
    seconds = sum(t[1] for t in timings)
    peak_mb = max(t[3] for t in timings) / 1024

    def line(label: str, report: dict[str, Any]) -> str:
        r = report["records"]
        return f"{label:14} P {r['precision']:.4f}  R {r['recall']:.4f}  F1 {r['f1']:.4f}"

    print(f"== {len(names)} PDFs, {pages} pages ({args.scans} vs {args.originals})")
    print(line("born-digital", original))
    print(line("scanned", scanned))
    ratio = scanned["records"]["f1"] / original["records"]["f1"] if original["records"]["f1"] else 0
    print(f"F1 ratio       {ratio:.3f} (goal >= 0.90)")
    fields = [k for k in scanned if k.endswith(("_accuracy", "_f1"))]
    for label, report in (("fields (scan)", scanned), ("fields (born)", original)):
        shown = [f"{k.rsplit('_', 1)[0]} {report[k]:.4f}" for k in fields if report[k] is not None]
        print(f"{label:14} " + "  ".join(shown))
    print(
        f"speed          {seconds / pages:.2f} s per page in one worker "
        f"({scan_wall:.0f} s wall for {pages} pages with {args.workers} workers)"
    )
    print(f"memory         peak {peak_mb:.0f} MB in one worker")
    worst = sorted(scanned["per_document"].items(), key=lambda kv: kv[1]["f1"])[:5]
    print("worst          " + "; ".join(f"{n} {d['f1']:.3f}" for n, d in worst))


if __name__ == "__main__":
    main()
