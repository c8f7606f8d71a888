"""Write `councilreg extract --json` output for every document in a folder, for score.py.

python bench/extract_corpus.py ../shared/corpus /tmp/pred [--only pdf]
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ingest.unit import describe_parsed
from parsers import SUFFIXES, ParseError, parse_file


def extract(source: Path, target: Path) -> str:
    try:
        payload = describe_parsed(source, parse_file(source))
    except ParseError as error:
        payload = {"file": source.name, "records": [], "problems": [str(error)]}
    (target / f"{source.stem}.json").write_text(json.dumps(payload, ensure_ascii=False))
    return f"{source.name}: {len(payload['records'])} records"


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    only = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--only" else None
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(
        p
        for p in source.iterdir()
        if p.suffix.lower() in SUFFIXES and (only is None or p.suffix.lower() == f".{only}")
    )
    with ProcessPoolExecutor(2) as pool:
        for line in pool.map(extract, files, [target] * len(files)):
            print(line)


if __name__ == "__main__":
    main()
