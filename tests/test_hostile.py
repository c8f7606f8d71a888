"""Two hundred broken and hostile files in one batch beside the good samples (tests/hostile.py).

The batch must finish, name every bad file with its reason, store the good documents
exactly as it stores them alone, and let nothing from outside the files into the store.
"""

from __future__ import annotations

import collections
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ingest.cli import main
from models import Record, open_store
from parsers import parse_file
from parsers.model import ParseError
from parsers.triage import scan_pages
from tests.conftest import FIXTURES, SAMPLES
from tests.hostile import KINDS, hostile_files

REASONS = {
    "empty": "empty file (0 bytes)",
    "empty-docx": "empty file (0 bytes)",
    "truncated-pdf": "damaged or truncated PDF",
    "truncated-docx": "damaged zip container",
    "encrypted-pdf": "password-protected PDF",
    "encrypted-docx": "password-protected Office document",
    "html-as-pdf": "this is an HTML page, not a document",
    "exe-as-pdf": "not a PDF or Word document",
    "exe-as-docx": "not a PDF or Word document",
    "text-as-docx": "not a PDF or Word document",
    "noise-as-pdf": "not a PDF or Word document",
    "pdf-header-then-noise": "damaged or truncated PDF",
    "garbage-ole": "it has a Word header but no readable text",
    "zip-bomb": "refusing a possible zip bomb",
    "xxe": "declares XML entities",
    "entity-expansion": "declares XML entities",
    "malformed-xml": "damaged Word document XML",
    "docx-without-body": "a zip file holds no plan",
    "zip-named-odt": "LibreOffice could not open this file",
}
"""Kinds that must fail, each with the words its reason must hold."""

STORED_EMPTY = {"javascript-pdf", "page-tree-loop", "giant-page", "2000-pages", "garbage-rtf"}
"""Kinds that are documents of a sort: stored, with nothing found and a note that says so."""


def ingest(database_url: str, folder: Path) -> tuple[int, dict, str]:
    runner = CliRunner()
    result = runner.invoke(
        main, ["--database-url", database_url, "ingest", "--json", "--workers", "2", str(folder)]
    )
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.mark.slow
def test_a_batch_of_hostile_files_names_each_and_keeps_the_good_ones(tmp_path: Path) -> None:
    alone_code, alone, _ = ingest(f"sqlite:///{tmp_path / 'alone.db'}", SAMPLES)
    assert alone_code == 0
    good_records = {entry["sha256"]: entry["records"] for entry in alone["files"]}

    folder = tmp_path / "batch"
    folder.mkdir()
    kinds = {path.name: kind for kind, path in hostile_files(folder)}
    for sample in SAMPLES.iterdir():
        shutil.copy(sample, folder / sample.name)
    database_url = f"sqlite:///{tmp_path / 'batch.db'}"
    code, report, errors = ingest(database_url, folder)

    assert code == 1
    assert "Traceback" not in errors
    entries = {Path(entry["file"]).name: entry for entry in report["files"]}
    assert set(kinds) | {p.name for p in SAMPLES.iterdir()} == set(entries)
    outcomes: collections.Counter[str] = collections.Counter()
    for name, kind in kinds.items():
        entry = entries[name]
        outcomes[entry["status"]] += 1
        if kind in REASONS:
            assert entry["status"] == "failed", (name, entry)
            assert REASONS[kind] in entry["reason"], (name, entry["reason"])
        elif kind in STORED_EMPTY:
            assert entry["status"] in ("new", "failed"), (name, entry)
            assert entry["reason"] or entry["notes"], (name, entry)
            assert entry["records"] == 0, name
        else:
            assert kind == "10000-rows"
            assert (entry["status"], entry["records"]) == ("new", 10_000)
    assert set(REASONS) | STORED_EMPTY | {"10000-rows"} == set(KINDS)
    assert {
        entry["sha256"]: entry["records"]
        for entry in report["files"]
        if entry["sha256"] in good_records
    } == good_records

    sessions = open_store(database_url)
    try:
        with sessions() as session:
            texts = session.scalars(select(Record.title)).all()
    finally:
        sessions.kw["bind"].dispose()
    assert not any("root:" in text or "lollol" in text for text in texts)
    print(f"{len(kinds)} hostile files of {len(KINDS)} kinds: {dict(outcomes)}")


FUZZED = {
    # found by bench/fuzz_readers.py: (records still read from the other pages, problem)
    "page-missing-from-layout-reader.pdf": (0, "page 4: damaged page; it cannot be read"),
    "page-pdfium-cannot-load.pdf": (6, "page 2: damaged page; it cannot be read"),
    "page-layout-raises.pdf": (22, "page 3: damaged page; it cannot be read"),
}


def test_words_a_damaged_text_matrix_puts_nowhere_are_left_out() -> None:
    """Words at NaN coordinates once stopped the line grouping; now the page reads without
    them and the document gives its named problems."""
    parsed = parse_file(FIXTURES / "fuzz" / "word-with-nan-coordinates.pdf", ocr="never")
    assert parsed.problems


def test_metadata_that_cannot_be_decoded_is_left_out() -> None:
    """The survey reads the pages without the title it cannot decode; this file's own
    damage is then named by the layout reader."""
    path = FIXTURES / "fuzz" / "metadata-not-utf16.pdf"
    survey = scan_pages(path)
    assert survey.facts.title is None and survey.facts.page_count
    with pytest.raises(ParseError, match="damaged PDF"):
        parse_file(path, ocr="never")


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_a_damaged_page_is_a_problem_and_the_other_pages_are_read(name: str) -> None:
    records, problem = FUZZED[name]
    parsed = parse_file(FIXTURES / "fuzz" / name, ocr="never")
    assert len(parsed.records) == records
    assert any(p.describe().startswith(problem) for p in parsed.problems)


@pytest.mark.parametrize(
    "name",
    [
        "page-tree-keyword.pdf",
        "page-box-missing.pdf",
        "page-box-not-numbers.pdf",
        "page-box-short.pdf",
    ],
)
def test_a_page_tree_the_layout_reader_cannot_load_is_named(name: str) -> None:
    with pytest.raises(ParseError, match="damaged PDF page tree"):
        parse_file(FIXTURES / "fuzz" / name, ocr="never")


def test_a_zip_that_fails_inside_a_part_is_a_damaged_container() -> None:
    with pytest.raises(ParseError, match="damaged zip container"):
        parse_file(FIXTURES / "fuzz" / "zip-offset-past-end.docx")
