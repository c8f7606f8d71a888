"""Reading quality on every gold set, in one run: how well councilreg reads the tables.

    python bench/extract_gold.py [GOLD_DIR ...]     (default ../shared/corpus ../shared/real)

For each folder of ``NAME.gold.json`` files it extracts every labelled document (as
``councilreg extract --json`` does), scores it with ``../shared/eval/score.py`` and prints:

* record precision / recall / F1 (score.py's alignment, ``scope_pages`` respected);
* **page-triage recall**: of the PDF pages that hold a gold row, the share the fast pass
  keeps for the table search (a page it drops can never give a record);
* **silent misses**: gold rows that no record matches, flagged or not; and **flagged**:
  records the reader was unsure of and sent to review;
* the worst documents by F1 and the distractors (gold with no rows) that gave records.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COUNCILREG_SHARED") or ROOT.parent / "shared")
sys.path.insert(0, str(ROOT))

from bench.extract_corpus import extract  # noqa: E402
from parsers.triage import scan_pages  # noqa: E402


def load_scorer(shared: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("score", shared / "eval" / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no scorer at {shared / 'eval' / 'score.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def triage_recall(source: Path, gold: dict[str, Any]) -> tuple[int, int]:
    """(gold pages kept by triage, gold pages) for one PDF."""
    pages = {r["page"] for r in gold["records"] if r.get("page")}
    if source.suffix.lower() != ".pdf" or not pages:
        return 0, 0
    kept = {number + 1 for number in scan_pages(source).candidates}
    return len(pages & kept), len(pages)


def measure(folder: Path, score: ModuleType) -> dict[str, Any]:
    golds = {
        json.loads(g.read_text())["file"]: json.loads(g.read_text())
        for g in sorted(folder.glob("*.gold.json"))
    }
    sources = [folder / name for name in golds if (folder / name).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp)
        with ProcessPoolExecutor(2) as pool:
            list(pool.map(extract, sources, [target] * len(sources)))
            triage = list(pool.map(triage_recall, sources, [golds[s.name] for s in sources]))
        report = score.score_extract(folder, target)
        predictions = {s.name: json.loads((target / f"{s.stem}.json").read_text()) for s in sources}
    silent = flagged = 0
    for source in sources:
        gold = golds[source.name]
        records = predictions[source.name]["records"]
        scope = set(gold.get("scope_pages") or [])
        if scope:
            records = [r for r in records if r.get("page") in scope]
        pairs = score.align(records, gold["records"])
        silent += len(gold["records"]) - len(pairs)
        flagged += sum(bool(r.get("flagged")) for r in records)
    kept = sum(k for k, _ in triage)
    pages = sum(n for _, n in triage)
    return {
        "documents": len(sources),
        "records": report["records"],
        "triage_recall": round(kept / pages, 4) if pages else 1.0,
        "triage_pages": (kept, pages),
        "silent_misses": silent,
        "flagged": flagged,
        "per_document": report["per_document"],
    }


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]] or [SHARED / "corpus", SHARED / "real"]
    score = load_scorer(SHARED)
    for folder in folders:
        result = measure(folder, score)
        records = result["records"]
        kept, pages = result["triage_pages"]
        print(f"== {folder} ({result['documents']} documents)")
        print(
            f"records      P {records['precision']:.4f}  R {records['recall']:.4f}  "
            f"F1 {records['f1']:.4f}"
        )
        print(f"triage       recall {result['triage_recall']:.4f} ({kept} of {pages} gold pages)")
        print(f"silent miss  {result['silent_misses']} gold rows; flagged {result['flagged']}")
        documents = sorted(result["per_document"].items(), key=lambda kv: kv[1]["f1"])
        print("worst        " + "; ".join(f"{n} {d['f1']:.3f}" for n, d in documents[:5]))
        leaks = [n for n, d in documents if d["gold"] == 0 and d["pred"] > 0]
        print(
            f"distractors  {len(leaks)} gave records" + (f": {', '.join(leaks)}" if leaks else "")
        )


if __name__ == "__main__":
    main()
