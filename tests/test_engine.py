"""Ingestion through the task engine: a real Redis broker, a real PostgreSQL store and
`councilreg worker` started as a separate process, as on a second machine."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from corpus.register import lock_council, lock_key
from corpus.settings import MatchSettings
from ingest.jobs import claim_matching, fail_file, match_job, submit_job
from ingest.unit import IngestOptions, ingest_document
from models import Document, IngestJob, JobFile, Link, Record, open_store
from review.app import create_app
from review.auth import add_user
from review.settings import WebSettings
from tests.conftest import FIXTURES, SAMPLES
from tests.test_ingest import write_long_pdf
from tests.test_web import sign_in

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


@contextmanager
def running_worker(
    database_url: str, broker_url: str, log_path: Path, *options: str
) -> Iterator[subprocess.Popen[str]]:
    """`councilreg worker` as its own process (and process group), ready for work."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            councilreg(
                "--database-url", database_url, "--broker-url", broker_url, "worker", *options
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the worker did not start"
                time.sleep(0.2)
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


@pytest.fixture
def worker(postgres_url: str, broker_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    options = ("--concurrency", "2", "--time-limit", "120")
    with running_worker(postgres_url, broker_url, tmp_path / "worker.log", *options) as process:
        yield process


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


def wait_for_job(sessions: sessionmaker[Session], job_id: str, seconds: float = 240) -> IngestJob:
    deadline = time.monotonic() + seconds
    while True:
        with sessions() as session:
            job = session.get_one(IngestJob, job_id)
            if job.state == "done":
                session.expunge_all()
                return job
        assert time.monotonic() < deadline, "the job never finished"
        time.sleep(0.3)


def test_a_document_over_the_workers_time_limit_fails_once_with_the_reason(
    postgres_url: str, broker_url: str, tmp_path: Path
) -> None:
    long_pdf = tmp_path / "long.pdf"
    write_long_pdf(long_pdf, 1500)
    options = ("--concurrency", "1", "--time-limit", "5")
    sessions = open_store(postgres_url)
    try:
        with running_worker(postgres_url, broker_url, tmp_path / "worker.log", *options):
            code, job = submit(
                postgres_url,
                broker_url,
                str(long_pdf),
                str(SAMPLES / "sp-2021-22-finance-property-ab.docx"),
            )
        assert code == 1
        states = {
            Path(f["name"]).name: (f["state"], f["reason"], f["attempts"]) for f in job["files"]
        }
        assert states["long.pdf"] == ("failed", "parsing took longer than the 5 s time limit", 1)
        assert states["sp-2021-22-finance-property-ab.docx"][0] == "new"
    finally:
        sessions.kw["bind"].dispose()


def test_an_upload_goes_to_the_workers_and_outlives_a_server_restart(
    postgres_url: str, broker_url: str, worker: subprocess.Popen[str], tmp_path: Path
) -> None:
    """The upload page of a server with a broker only submits; the worker reads the pack;
    a server started afresh (as after a restart) answers for the same job and lists it."""
    sessions = open_store(postgres_url)
    with sessions.begin() as session:
        add_user(session, "ada", "correct horse battery", "admin")
    settings = WebSettings(postgres_url, "s" * 40, tmp_path / "uploads", broker_url=broker_url)
    pack = io.BytesIO()
    with zipfile.ZipFile(pack, "w") as archive:
        for sample in sorted(SAMPLES.glob("wyvern-vale-*.pdf")):
            archive.write(sample, f"pack/{sample.name}")
        archive.writestr("pack/notes.txt", "minutes to follow")
    try:
        with TestClient(create_app(settings), follow_redirects=False) as client:
            token = sign_in(client, "ada")
            response = client.post(
                "/upload.json",
                data={"csrftoken": token},
                files={"files": ("pack.zip", pack.getvalue(), "application/zip")},
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
        wait_for_job(sessions, job_id)
        with TestClient(create_app(settings), follow_redirects=False) as client:
            sign_in(client, "ada")
            job = client.get(f"/uploads/{job_id}.json").json()
            history = client.get("/uploads.json").json()["jobs"]
        assert job["finished"] and job["matched"]["auto"] > 0
        assert sorted((f["name"], f["state"]) for f in job["files"]) == [
            ("pack.zip/pack/notes.txt", "failed"),
            ("pack.zip/pack/wyvern-vale-service-plans-2015-16.pdf", "new"),
            ("pack.zip/pack/wyvern-vale-service-plans-2016-17.pdf", "new"),
            ("pack.zip/pack/wyvern-vale-service-plans-2017-18.pdf", "new"),
        ]
        assert [(j["id"], j["by"]) for j in history] == [(job_id, "ada")]
    finally:
        sessions.kw["bind"].dispose()


def test_one_caller_matches_a_finished_job_and_one_council_is_matched_at_a_time(
    postgres_url: str, tmp_path: Path
) -> None:
    sessions = open_store(postgres_url)
    try:
        with sessions.begin() as session:
            job_id = submit_job(session, [("a.pdf", tmp_path / "a.pdf")], IngestOptions()).id
        assert not claim_matching(sessions, job_id), "a file is still waiting"
        fail_file(sessions, session_file_id(sessions, job_id), "gone")
        assert [claim_matching(sessions, job_id) for _ in range(3)] == [True, False, False]

        def taken_elsewhere(session: Session, council: str) -> bool:
            free = session.scalar(
                text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
                {"key": lock_key(council)},
            )
            return not free

        with sessions() as first, sessions() as second:
            lock_council(first, "Wyvern Vale")
            assert taken_elsewhere(second, "Wyvern Vale")
            assert not taken_elsewhere(second, "Ashcombe")
            first.commit()
            assert not taken_elsewhere(second, "Wyvern Vale")
    finally:
        sessions.kw["bind"].dispose()


def session_file_id(sessions: sessionmaker[Session], job_id: str) -> int:
    with sessions() as session:
        return session.scalars(select(JobFile.id).where(JobFile.job_id == job_id)).one()


def test_a_jobs_matching_touches_only_the_councils_of_its_documents(postgres_url: str) -> None:
    """A document with no council is matched among the council-less ones; the councils
    the job never touched are left to their own matching."""
    sessions = open_store(postgres_url)
    try:
        unknown, other = (
            ingest_document(sessions, SAMPLES / name, IngestOptions())
            for name in (
                "sp-2021-22-finance-property-ab.docx",
                "wyvern-vale-service-plans-2015-16.pdf",
            )
        )
        with sessions.begin() as session:
            session.get_one(Document, unknown.document_id).council = None
            job = submit_job(session, [("a.docx", SAMPLES / "a.docx")], IngestOptions())
            job.files[0].state, job.files[0].document_id = "new", unknown.document_id
            job.state = "matching"
            job_id = job.id
        match_job(sessions, job_id, MatchSettings())
        with sessions() as session:
            linked = set(session.scalars(select(Record.document_id).join(Link)))
        assert linked == {unknown.document_id}, "the other council was matched too"
        assert other.records
    finally:
        sessions.kw["bind"].dispose()
