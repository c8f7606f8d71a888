"""Ingestion through the task engine: a real Redis broker, a real PostgreSQL store and
`councilreg worker` started as a separate process, as on a second machine."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from models import Document, JobFile, open_store
from tests.conftest import FIXTURES, SAMPLES
from tests.test_ingest import write_long_pdf

BROKER_URL = os.environ.get("COUNCILREG_TEST_BROKER_URL", "redis://127.0.0.1:6379/11")
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def broker_url() -> str:
    """An empty Redis database; failing loudly, never skipping, if Redis is not there."""
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        pytest.fail(
            f"Redis is not reachable at {BROKER_URL} ({error}); start it with "
            "`bash scripts/services.sh` or point COUNCILREG_TEST_BROKER_URL at one",
            pytrace=False,
        )
    finally:
        client.close()
    return BROKER_URL


def councilreg(*args: str) -> list[str]:
    return [sys.executable, "-m", "ingest.cli", *args]


@pytest.fixture
def worker(postgres_url: str, broker_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        councilreg(
            "--database-url",
            postgres_url,
            "--broker-url",
            broker_url,
            "worker",
            "--concurrency",
            "2",
            "--time-limit",
            "120",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready." not in (tmp_path / "worker.log").read_text():
        assert process.poll() is None, (tmp_path / "worker.log").read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.2)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)
    log.close()


def submit(database_url: str, broker_url: str, *args: str) -> tuple[int, dict]:
    result = subprocess.run(
        councilreg(
            "--database-url",
            database_url,
            "--broker-url",
            broker_url,
            "ingest",
            "--queue",
            "--json",
            *args,
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, json.loads(result.stdout)


def test_a_queued_batch_gives_what_the_local_batch_gives(
    postgres_url: str,
    broker_url: str,
    worker: subprocess.Popen[str],
    tmp_path: Path,
    sqlite_url: str,
) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(SAMPLES, folder)
    for bad in ("truncated.pdf", "password.docx", "really-html.pdf"):
        shutil.copy(FIXTURES / "bad" / bad, folder / bad)
    local = subprocess.run(
        councilreg("--database-url", sqlite_url, "ingest", "--json", str(folder)),
        capture_output=True,
        text=True,
        check=False,
    )
    expected = {
        Path(f["file"]).name: (f["status"], f["reason"], f["records"])
        for f in json.loads(local.stdout)["files"]
    }

    code, job = submit(postgres_url, broker_url, str(folder))

    assert code == local.returncode == 1
    assert job["finished"] and job["error"] is None
    assert {
        Path(f["name"]).name: (f["state"], f["reason"], f["records"]) for f in job["files"]
    } == expected
    assert all(f["attempts"] == 1 for f in job["files"]), "a bad file is not retried"
    assert job["matched"]["auto"] > 0


def test_a_worker_killed_mid_document_leaves_it_to_another(
    postgres_url: str, broker_url: str, worker: subprocess.Popen[str], tmp_path: Path
) -> None:
    long_pdf = tmp_path / "long.pdf"
    write_long_pdf(long_pdf, 400)
    clean = subprocess.run(
        councilreg("extract", "--json", str(long_pdf)), capture_output=True, text=True, check=True
    )
    clean_records = len(json.loads(clean.stdout)["records"])
    sessions = open_store(postgres_url)
    try:
        result = subprocess.run(
            councilreg(
                "--database-url",
                postgres_url,
                "--broker-url",
                broker_url,
                "ingest",
                "--queue",
                "--no-follow",
                str(long_pdf),
            ),
            capture_output=True,
            text=True,
            check=True,
        )
        job_id = result.stdout.strip()
        reader = None
        deadline = time.monotonic() + 60
        while reader is None:
            assert time.monotonic() < deadline, "the worker never started the document"
            with sessions() as session:
                row = session.scalars(select(JobFile).where(JobFile.job_id == job_id)).one()
                if row.state == "ingesting":
                    reader = busiest_child(worker.pid)
            time.sleep(0.1)
        time.sleep(1)
        os.kill(reader, signal.SIGKILL)

        deadline = time.monotonic() + 240
        while True:
            with sessions() as session:
                row = session.scalars(select(JobFile).where(JobFile.job_id == job_id)).one()
                if row.state not in ("waiting", "ingesting"):
                    break
            assert time.monotonic() < deadline, "the document was never finished"
            time.sleep(0.5)
        with sessions() as session:
            documents = session.scalar(select(func.count(Document.id)))
        assert (row.state, row.attempts, row.records, documents) == ("new", 2, clean_records, 1)
    finally:
        sessions.kw["bind"].dispose()


def busiest_child(parent: int) -> int:
    """The worker's pool process using the most CPU: the one reading the document."""
    usage = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            usage[int(entry.name)] = int(fields[11]) + int(fields[12])
    assert usage, "the worker has no pool processes"
    return max(usage, key=usage.__getitem__)
