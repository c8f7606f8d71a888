"""Batch ingest through the real CLI: bad files, idempotency and crash safety."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.cli import main
from models import Document, open_store
from tests.conftest import FIXTURES, SAMPLES

BAD = FIXTURES / "bad"


def run_cli(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def ingest_json(database_url: str, *args: str) -> tuple[int, dict]:
    code, output = run_cli(database_url, "ingest", "--json", "--workers", "2", *args)
    return code, json.loads(output)


def by_file(report: dict) -> dict[str, dict]:
    return {Path(entry["file"]).name: entry for entry in report["files"]}


def count_documents(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count(Document.id))) or 0


def write_long_pdf(path: Path, pages: int) -> None:
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number in range(pages):
        pdf.drawString(72, 720, "Key Action No   Action   Deadline   Lead Officer")
        pdf.drawString(72, 700, f"KA.{number}   Review the plan   March 2018   Head of Housing")
        pdf.showPage()
    pdf.save()


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """Good samples beside every kind of bad file."""
    folder = tmp_path / "batch"
    shutil.copytree(SAMPLES, folder)
    for bad in BAD.iterdir():
        shutil.copy(bad, folder / bad.name)
    (folder / "notes.txt").write_text("not a plan")
    (folder / "loop.pdf").symlink_to(folder / "loop.pdf")
    (folder / "empty-too.docx").write_bytes(b"")  # a second empty file: not a copy of the first
    ole = bytes.fromhex("D0CF11E0A1B11AE1")  # a Word 97 header, then noise
    (folder / "garbage.doc").write_bytes(ole + random.Random(1).randbytes(20_000))
    return folder


EXPECTED_FAILURES = {
    "empty.pdf": "empty file (0 bytes)",
    "truncated.pdf": "damaged or truncated PDF",
    "really-html.pdf": "this is an HTML page, not a document",
    "not-a-zip.docx": "not a PDF or Word document",
    "password.pdf": "password-protected PDF",
    "password.docx": "password-protected Office document",
    "loop.pdf": "cannot read the file (Too many levels of symbolic links)",
    "empty-too.docx": "empty file (0 bytes)",
    "garbage.doc": "it has a Word header but no readable text",
}


def test_each_bad_file_is_named_with_its_reason_and_the_rest_is_stored(
    database_url: str, batch: Path
) -> None:
    code, report = ingest_json(database_url, str(batch))
    assert code == 1
    files = by_file(report)
    for name, reason in EXPECTED_FAILURES.items():
        assert files[name]["status"] == "failed", name
        assert reason in files[name]["reason"], (name, files[name]["reason"])
    assert files["notes.txt"]["status"] == "skipped"
    good = {p.name for p in SAMPLES.iterdir()}
    assert {n for n, e in files.items() if e["status"] == "new"} == good
    assert report["counts"]["new"] == len(good)


def test_a_bad_file_never_changes_what_was_stored(database_url: str, batch: Path) -> None:
    ingest_json(database_url, str(SAMPLES))
    sessions = open_store(database_url)
    try:
        with sessions() as session:
            before = {(d.sha256, d.status, d.updated_at) for d in session.scalars(select(Document))}
        code, report = ingest_json(database_url, str(batch))
        assert code == 1
        with sessions() as session:
            after = {(d.sha256, d.status, d.updated_at) for d in session.scalars(select(Document))}
        assert before <= after
        assert report["counts"]["unchanged"] == len(before)
    finally:
        sessions.kw["bind"].dispose()


def test_second_run_stores_nothing_new(sqlite_url: str, corpus: Path) -> None:
    code, first = ingest_json(sqlite_url, str(corpus))
    assert code == 0, [f for f in first["files"] if f["status"] == "failed"]
    assert first["counts"]["new"] == 40
    code, second = ingest_json(sqlite_url, str(corpus))
    assert code == 0
    assert second["counts"] == {"new": 0, "updated": 0, "unchanged": 40, "skipped": 70, "failed": 0}


def test_missing_path_is_a_named_failure(sqlite_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "plan.pdf"
    code, report = ingest_json(sqlite_url, str(missing), str(SAMPLES))
    assert code == 1
    assert by_file(report)["plan.pdf"] == {
        **by_file(report)["plan.pdf"],
        "status": "failed",
        "reason": "no such file or folder",
    }
    assert report["counts"]["new"] == len(list(SAMPLES.iterdir()))


def test_file_names_that_are_not_utf8(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "latin1"
    folder.mkdir()
    name = os.fsdecode(b"plan-caf\xe9-2017.docx")
    shutil.copy(SAMPLES / "sp-2021-22-finance-property-ab.docx", folder / name)
    code, report = ingest_json(sqlite_url, str(folder))
    assert code == 0
    assert [Path(f["file"]).name for f in report["files"]] == ["plan-caf\ufffd-2017.docx"]
    code, output = run_cli(sqlite_url, "status", "--json")
    assert "plan-caf\ufffd-2017.docx" not in output or code == 0


def test_unreadable_file(sqlite_url: str, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = tmp_path / "locked.pdf"
        target.symlink_to(tmp_path / "gone.pdf")
        expected = "cannot read the file (No such file or directory)"
    else:
        target = tmp_path / "locked.pdf"
        shutil.copy(SAMPLES / "wyvern-vale-service-plans-2016-17.pdf", target)
        target.chmod(0)
        expected = "cannot read the file (Permission denied)"
    code, report = ingest_json(sqlite_url, str(target))
    assert code == 1
    assert by_file(report)["locked.pdf"]["reason"] == expected


@pytest.mark.slow
def test_a_document_over_the_time_limit_is_reported(sqlite_url: str, tmp_path: Path) -> None:
    long_pdf = tmp_path / "pack-5000-pages.pdf"
    write_long_pdf(long_pdf, 5000)
    shutil.copy(SAMPLES / "sp-2021-22-finance-property-ab.docx", tmp_path)
    code, report = ingest_json(sqlite_url, "--time-limit", "5", str(tmp_path))
    assert code == 1
    files = by_file(report)
    assert files["pack-5000-pages.pdf"]["reason"] == "parsing took longer than the 5 s time limit"
    assert files["sp-2021-22-finance-property-ab.docx"]["status"] == "new"


@pytest.mark.slow
def test_a_killed_run_then_rerun_stores_every_document_exactly_once(
    database_url: str, corpus: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "ingest.cli",
        "--database-url",
        database_url,
        "ingest",
        "--json",
        "--workers",
        "1",
        str(corpus),
    ]
    sessions = open_store(database_url)
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while count_documents(sessions) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        stored_when_killed = count_documents(sessions)
        assert 3 <= stored_when_killed < 40
        code, report = ingest_json(database_url, str(corpus))
        assert code == 0
        assert report["counts"]["unchanged"] == stored_when_killed
        assert report["counts"]["new"] == 40 - stored_when_killed
        with sessions() as session:
            rows = session.execute(
                select(Document.sha256, func.count()).group_by(Document.sha256)
            ).all()
        assert len(rows) == 40 and {n for _, n in rows} == {1}
    finally:
        sessions.kw["bind"].dispose()


def test_extract_prints_the_evaluation_format() -> None:
    result = CliRunner().invoke(
        main, ["extract", "--json", str(SAMPLES / "sp-2021-22-finance-property-ab.docx")]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["file"] == "sp-2021-22-finance-property-ab.docx"
    assert payload["council"] == "Ashcombe Borough Council"
    assert payload["period"] == {"label": "2021/22", "start": "2021-04-01", "end": "2022-03-31"}
    assert isinstance(payload["records"], list)


def test_extract_names_the_file_and_reason_for_bad_input() -> None:
    result = CliRunner().invoke(main, ["extract", "--json", str(BAD / "password.pdf")])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {BAD / 'password.pdf'}: password-protected PDF; save an unprotected copy\n"
    )


def test_bad_period_option_is_explained(sqlite_url: str) -> None:
    code, output = run_cli(sqlite_url, "ingest", "--period", "next year", str(SAMPLES))
    assert code == 2
    assert "'next year' is not a financial year; write it like 2017/18" in output


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    code, output = run_cli("postgresql://nobody@127.0.0.1:1/none", "status")
    assert code == 1
    assert output.startswith("Error: cannot open the database:")
    assert "Check --database-url or COUNCILREG_DATABASE_URL." in output


def test_status_lists_counts_and_problems(sqlite_url: str, batch: Path) -> None:
    ingest_json(sqlite_url, str(batch))
    code, output = run_cli(sqlite_url, "status", "--json")
    assert code == 0
    summary = json.loads(output)
    failed = {Path(p["file"]).name for p in summary["problems"] if p["status"] == "failed"}
    assert {"password.pdf", "really-html.pdf", "truncated.pdf"} <= failed
    # An empty file has nothing to keep (and every one has the same hash): it is reported
    # by the batch that met it, not stored.
    assert "empty.pdf" not in failed


def test_the_period_given_on_the_command_line_reaches_the_parser(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Two-digit years are read against the period the user gave, in the worker too."""
    from tests.fixtures.make_layouts import ACTION_HEADER, ACTION_WIDTHS, PAGE, RuledPage

    folder = tmp_path / "old"
    folder.mkdir()
    pdf = canvas.Canvas(str(folder / "plan.pdf"), pagesize=PAGE)
    page = RuledPage(pdf, ACTION_WIDTHS)
    page.row(ACTION_HEADER)
    page.row(["KA.1", "Publish the millennium plan", "31-Dec-99", "Head of Policy", "Green"])
    page.row(["KA.2", "Review the plan", "31-Mar-00", "Head of Policy", "Amber"])
    pdf.save()
    code, report = ingest_json(sqlite_url, "--period", "1998/99", str(folder))
    assert code == 0, report
    with open_store(sqlite_url)() as session:
        document = session.scalars(select(Document)).one()
        assert document.period_label == "1998/99"
        assert [r.deadlines for r in document.records] == [["1999-12-31"], ["2000-03-31"]]


@pytest.mark.parametrize(
    ("label", "start"),
    [("1999/00", "1999-04-01"), ("2017/18", "2017-04-01"), ("2017/2018", "2017-04-01")],
)
def test_period_labels_across_a_century(label: str, start: str) -> None:
    from parsers.periods import parse_period_label

    period = parse_period_label(label)
    assert period is not None and period.start.isoformat() == start


@pytest.mark.parametrize(
    ("text", "council"),
    [
        ("Cabinet\nSomerset Council\n12 May 2024", "Somerset Council"),
        (
            "This Local Plan was adopted at a full meeting of\nFenland District Council on 8 May",
            "Fenland District Council",
        ),
        # A partner's name wrapped across two lines of a cell is not the publisher's.
        (
            "working in partnership with Bath & North East\n"
            "Somerset Council. A further 7 pipeline schemes are being developed",
            None,
        ),
        ("DRAFT\nKent County Council Contributions to Improved Health", "Kent County Council"),
        ("Councillor John Clark\nLeader of the Council", None),
        ("We have worked with Bristol City Council to develop the scheme", None),
    ],
)
def test_the_council_a_document_names_as_itself(text: str, council: str | None) -> None:
    from parsers.councils import council_from_text

    assert council_from_text(text) == council


def test_a_parse_that_outran_its_time_limit_fails_even_when_it_finished() -> None:
    """A task engine's soft time limit is raised into the parse, and a library may catch
    it and go on (pdfplumber turns whatever a page raises into its own error, which reads
    as one bad page): the document must still fail, not be stored with a page missing."""
    from ingest.unit import parse_job

    sample = SAMPLES / "sp-2021-22-finance-property-ab.docx"
    parsed, failure = parse_job(sample, time_limit=0.0)
    assert (parsed, failure) == (None, "parsing took longer than the 0 s time limit")
    parsed, failure = parse_job(sample, time_limit=600.0)
    assert parsed is not None and parsed.records and failure is None


@pytest.mark.parametrize(
    ("sources", "point"),
    [
        ([("document text", "ID Action Update: March 2024 Impact Control")], "2024-03-31"),
        ([("file name", "cabinet_2023-12-04__QPR_Q2_Cabinet_appendix_1.pdf")], "2023-09-30"),
        ([("metadata title", "Performance report, Quarter 3")], "2023-12-31"),
        ([("document text", "Corporate plan\nFourth quarter monitoring")], "2024-03-31"),
        # A quarter in a sentence or a table row is a target, not the report's own point.
        ([("document text", "the scheme will open in q3 of the year, as agreed.")], None),
        ([("file name", "service-plan-2023-24.pdf")], None),
    ],
)
def test_the_reporting_point_a_document_states(
    sources: list[tuple[str, str]], point: str | None
) -> None:
    from parsers.periods import find_reporting_point, parse_period_label

    found, _ = find_reporting_point(sources, parse_period_label("2023/24"))
    assert (found.isoformat() if found else None) == point
