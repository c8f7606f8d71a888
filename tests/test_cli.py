"""What the CLI says when it is used wrongly, and the files it writes (exact text, exit codes)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from ingest.batch import BatchSettings, run_batch
from ingest.cli import main
from ingest.unit import IngestOptions
from models import open_store
from tests.conftest import ROOT, SAMPLES

PLAN = SAMPLES / "sp-2021-22-finance-property-ab.docx"
COUNCIL = "Ashcombe Borough Council"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding one council's plan, matched."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite3'}"
    assert invoke("--database-url", url, "ingest", "--workers", "1", str(PLAN))[0] == 0
    assert invoke("--database-url", url, "match")[0] == 0
    return url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "notaurl",
            "Error: 'notaurl' is not a database URL; write sqlite:///path/to/file.sqlite3 or "
            "postgresql://user@host/database (--database-url or COUNCILREG_DATABASE_URL)\n",
        ),
        (
            "mysql://root@127.0.0.1/test",
            "Error: mysql is not supported; councilreg stores its register in SQLite "
            "(sqlite:///path) or PostgreSQL (postgresql://user@host/database) "
            "(--database-url or COUNCILREG_DATABASE_URL)\n",
        ),
    ],
)
def test_a_database_url_we_cannot_use_is_one_line(url: str, message: str) -> None:
    assert invoke("--database-url", url, "status") == (1, message)


def test_a_mistyped_sqlite_folder_is_named_and_not_created(tmp_path: Path) -> None:
    folder = tmp_path / "no-such-folder"
    code, output = invoke("--database-url", f"sqlite:///{folder}/store.sqlite3", "status")
    assert (code, output) == (
        1,
        f"Error: the folder {folder} of the SQLite store does not exist "
        "(--database-url or COUNCILREG_DATABASE_URL)\n",
    )
    assert not folder.exists()


@pytest.mark.parametrize("command", [["match"], ["export", "-"]])
def test_a_council_that_is_not_stored_is_an_error(stored: str, command: list[str]) -> None:
    code, output = invoke("--database-url", stored, *command, "--council", "Nowhere")
    assert (code, output) == (
        1,
        f"Error: no documents of council 'Nowhere' are stored (councils: {COUNCIL})\n",
    )


@pytest.mark.parametrize("occurrences", [False, True])
def test_export_xlsx_is_a_workbook_with_the_csv_rows(
    stored: str, tmp_path: Path, occurrences: bool
) -> None:
    flags = ["--occurrences"] if occurrences else []
    assert invoke("--database-url", stored, "export", *flags, str(tmp_path / "out.csv"))[0] == 0
    code, output = invoke("--database-url", stored, "export", *flags, str(tmp_path / "out.xlsx"))
    assert code == 0
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as stream:
        expected = list(csv.reader(stream))

    workbook = load_workbook(tmp_path / "out.xlsx")
    assert workbook.sheetnames == (
        ["occurrences", "register"] if occurrences else ["register", "occurrences"]
    )
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert (
        sheet.auto_filter.ref
        == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{len(expected)}"
    )
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == expected[0]
    deadline = expected[0].index("latest_deadline" if not occurrences else "deadlines")
    dates = [row[deadline] for row in rows[1:] if isinstance(row[deadline], dt.datetime)]
    assert dates, "no deadline was stored as a date"
    as_text = [
        [
            cell.date().isoformat()
            if isinstance(cell, dt.datetime)
            else f"{cell:.4f}"
            if isinstance(cell, float)
            else ""
            if cell is None
            else str(cell)
            for cell in row
        ]
        for row in rows
    ]
    assert as_text == expected
    assert (
        output
        == f"wrote {len(expected) - 1} {'occurrences' if occurrences else 'canonical items'} to {tmp_path / 'out.xlsx'}\n"
    )


def test_ingest_summary_groups_skipped_files_and_progress_counts_documents(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    shutil.copy(PLAN, folder / "plan.docx")
    for name in ("budget.xlsx", "minutes.txt", "notes.txt", "README"):
        (folder / name).write_text("not a plan")
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    code, output = invoke("--database-url", url, "ingest", "--workers", "1", str(folder))
    assert code == 0
    assert output.splitlines()[0] == "1 new, 0 updated, 0 unchanged, 4 skipped, 0 failed"
    assert output.splitlines()[-1] == (
        "  skipped 4 files, not PDF or Word: 2 .txt, 1 .xlsx, 1 no extension"
    )

    shutil.copy(PLAN, folder / "copy.docx")
    shutil.copy(SAMPLES / "wyvern-vale-service-plans-2015-16.pdf", folder / "plan.pdf")
    heard: list[list[str]] = []
    done: list[str] = []
    sessions = open_store(url)
    try:
        run_batch(
            sessions,
            [folder],
            IngestOptions(),
            BatchSettings(workers=1),
            on_outcome=lambda outcome: done.append(outcome.status),
            on_reading=heard.append,
        )
    finally:
        sessions.kw["bind"].dispose()
    assert heard == [[str(folder / "plan.pdf")]]
    assert sorted(done) == [
        "new",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
        "unchanged",
        "unchanged",
    ]


def test_review_on_a_port_in_use_says_so_before_starting(stored: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, output = invoke("--database-url", stored, "review", "--port", str(port))
    assert code == 1
    assert output == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; is another "
        "server using it? Choose one with --port\n"
    )


def test_the_tests_say_at_once_when_the_shared_documents_are_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cli.py"],
        cwd=ROOT,
        env={**os.environ, "COUNCILREG_SHARED": str(tmp_path / "elsewhere")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4
    missing = tmp_path / "elsewhere"
    assert (
        f"the shared documents are missing ({missing / 'corpus'}, {missing / 'real'}, "
        f"{missing / 'eval'}): set COUNCILREG_SHARED" in result.stdout + result.stderr
    )
