"""Coverage-guided fuzzing of the PDF and Word readers (atheris, libFuzzer's engine).

    python bench/fuzz_readers.py [--minutes 10] [--crashes DIR]

Each input is one of three things, chosen by its first byte: a PDF file, a .docx file, or
the ``word/document.xml`` of a good .docx (so the XML reader is reached past the zip
layer). The seeds are the sample documents. A reader may refuse an input only with a
`ParseError` (which the batch turns into a named reason); anything else — another
exception, a hang past libFuzzer's ``-timeout`` — is a crash: its input is saved in
``--crashes`` and counted. At the end the executions, minutes and crashes are printed, one
line per distinct crash (exception type and the line that raised it).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from parsers import parse_file
    from parsers.model import ParseError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
KINDS = (".pdf", ".docx", "document.xml")
GOOD_DOCX = next(SAMPLES.glob("*.docx"))


def docx_with_document(xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(GOOD_DOCX) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = xml if item.filename == "word/document.xml" else source.read(item.filename)
            target.writestr(item.filename, data)
    return buffer.getvalue()


def seeds(folder: Path) -> None:
    """The samples, each prefixed with the byte that says what it is."""
    folder.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES.iterdir():
        if sample.suffix == ".pdf" and sample.stat().st_size < 2_000_000:
            (folder / sample.name).write_bytes(b"\x00" + sample.read_bytes())
        elif sample.suffix == ".docx":
            (folder / sample.name).write_bytes(b"\x01" + sample.read_bytes())
            with zipfile.ZipFile(sample) as archive:
                xml = archive.read("word/document.xml")
            (folder / f"{sample.stem}.xml").write_bytes(b"\x02" + xml)


class Fuzzing:
    def __init__(self, scratch: Path, crashes: Path, seconds: float) -> None:
        self.scratch, self.crashes, self.seconds = scratch, crashes, seconds
        self.started = time.monotonic()
        self.executions = 0
        self.refused: Counter[str] = Counter()
        self.found: Counter[str] = Counter()

    def one_input(self, data: bytes) -> None:
        if time.monotonic() - self.started > self.seconds:
            self.report()
        if not data:
            return
        self.executions += 1
        kind = KINDS[data[0] % len(KINDS)]
        body = data[1:]
        if kind == "document.xml":
            body, kind = docx_with_document(body), ".docx"
        path = self.scratch / f"input{kind}"
        path.write_bytes(body)
        try:
            parse_file(path, ocr="never")
        except ParseError as error:
            self.refused[str(error).split("(")[0].strip()[:60]] += 1
        except Exception as error:  # every other exception is the finding
            frame = traceback.extract_tb(error.__traceback__)[-1]
            key = f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            if not self.found[key]:
                digest = hashlib.sha256(data).hexdigest()[:16]
                (self.crashes / f"{digest}{kind}").write_bytes(body)
                print(f"\nCRASH {key}: {error!s:.200}", file=sys.stderr)
            self.found[key] += 1

    def report(self) -> None:
        minutes = (time.monotonic() - self.started) / 60
        print(f"\n{self.executions} executions in {minutes:.1f} minutes")
        print(f"{sum(self.refused.values())} refused with a named reason, most often:")
        for reason, count in self.refused.most_common(8):
            print(f"  {count:7}  {reason}")
        print(f"{len(self.found)} distinct crash(es), saved in {self.crashes}")
        for key, count in self.found.most_common():
            print(f"  {count:7}  {key}")
        sys.stdout.flush()
        os._exit(1 if self.found else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--timeout", type=int, default=30, help="seconds for one input")
    args, rest = parser.parse_known_args()
    args.crashes.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "corpus"
        seeds(corpus)
        fuzzing = Fuzzing(Path(scratch), args.crashes, args.minutes * 60)
        libfuzzer = [sys.argv[0], str(corpus), f"-timeout={args.timeout}", "-rss_limit_mb=4096"]
        atheris.Setup([*libfuzzer, *rest], fuzzing.one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
