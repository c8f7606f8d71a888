"""Ingest jobs kept in the store: what was submitted and each file's state as the work goes.

A job is an upload or an ``ingest --queue`` batch. Its rows are the truth about its
progress wherever the work runs — in this process, or in task-engine workers on other
machines (`ingest.engine`) — so a restarted server or a second CLI reads the same
answer. The broker carries only file ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from corpus.register import run_matching
from corpus.settings import MatchSettings
from ingest.batch import BatchSettings, run_batch
from ingest.unit import IngestOptions, Outcome, ingest_document
from models import Document, IngestJob, JobFile, User
from parsers.periods import parse_period_label

UNFINISHED = ("waiting", "ingesting")
SHOWN_STATE = {"unchanged": "already ingested"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def options_to_json(options: IngestOptions) -> dict[str, Any]:
    return {
        "council": options.council,
        "committee": options.committee,
        "period": options.period.label if options.period else None,
        "meeting_date": options.meeting_date.isoformat() if options.meeting_date else None,
        "ocr": options.ocr,
        "max_file_bytes": options.max_file_bytes,
    }


def options_from_json(data: dict[str, Any]) -> IngestOptions:
    meeting = data.get("meeting_date")
    return IngestOptions(
        council=data.get("council"),
        committee=data.get("committee"),
        period=parse_period_label(data["period"]) if data.get("period") else None,
        meeting_date=dt.date.fromisoformat(meeting) if meeting else None,
        ocr=data.get("ocr", "auto"),
        max_file_bytes=data.get("max_file_bytes", IngestOptions().max_file_bytes),
    )


def submit_job(
    session: Session,
    files: Iterable[tuple[str, Path]],
    options: IngestOptions,
    kind: str = "batch",
    submitted_by: int | None = None,
    refused: Iterable[tuple[str, str]] = (),
) -> IngestJob:
    """A job with one waiting row per (name, file), and a failed row per (name, reason)
    for what was refused before it could be queued (a file inside a pack that is not a
    document, say), so the job's page lists everything the person sent."""
    job = IngestJob(
        id=uuid.uuid4().hex,
        kind=kind,
        submitted_by=submitted_by,
        state="queued",
        options=options_to_json(options),
        matched={},
    )
    job.files = [JobFile(name=name, path=str(path), state="waiting") for name, path in files]
    job.files += [
        JobFile(name=name, path="", state="failed", reason=reason, finished_at=_now())
        for name, reason in refused
    ]
    if not any(row.state == "waiting" for row in job.files):
        job.state, job.finished_at = "done", _now()
    session.add(job)
    session.flush()
    return job


def waiting_largest_first(job: IngestJob) -> list[int]:
    """The job's waiting files, largest first: the long documents start at once and the
    short ones fill in around them, so no worker is left with one long file at the end."""

    def size(row: JobFile) -> int:
        try:
            return Path(row.path).stat().st_size
        except OSError:
            return 0

    return [row.id for row in sorted(job.files, key=size, reverse=True) if row.state == "waiting"]


def start_file(session: Session, file_id: int) -> JobFile | None:
    """Mark a file as being read (another attempt, if a worker died on it); None when the
    file is already finished, so a redelivered task does nothing twice."""
    row = session.get(JobFile, file_id)
    if row is None or row.state not in UNFINISHED:
        return None
    row.state, row.started_at = "ingesting", _now()
    row.attempts += 1
    if row.job.state == "queued":
        row.job.state = "running"
    return row


def finish_file(session: Session, file_id: int, outcome: Outcome) -> None:
    row = session.get(JobFile, file_id)
    if row is None:
        return
    row.state = outcome.status
    row.reason = outcome.reason if outcome.status == "failed" else None
    row.records = outcome.records
    row.document_id = outcome.document_id
    if outcome.status == "unchanged" and outcome.sha256:
        stored = session.scalars(select(Document).where(Document.sha256 == outcome.sha256)).first()
        if stored is not None:
            row.document_id, row.records = stored.id, len(stored.records)
    row.finished_at = _now()
    if outcome.status == "failed" and row.job.kind == "upload" and row.path:
        Path(row.path).unlink(missing_ok=True)  # nothing will show a page of it


def ingest_job_file(
    sessions: sessionmaker[Session],
    file_id: int,
    interrupts: tuple[type[BaseException], ...] = (),
    time_limit: float | None = None,
) -> str | None:
    """The per-document unit for one job file, its row kept up to date; the job's id, or
    None when there was nothing to do. `interrupts` and `time_limit` pass through (see
    `parse_job`)."""
    with sessions.begin() as session:
        row = start_file(session, file_id)
        if row is None:
            return None
        job_id, path, options = row.job_id, Path(row.path), options_from_json(row.job.options)
    outcome = ingest_document(sessions, path, options, interrupts, time_limit)
    with sessions.begin() as session:
        finish_file(session, file_id, outcome)
    return job_id


def fail_file(sessions: sessionmaker[Session], file_id: int, reason: str) -> str | None:
    """A file the worker gave up on (over its time limit, say), recorded once."""
    with sessions.begin() as session:
        row = session.get(JobFile, file_id)
        if row is None:
            return None
        finish_file(session, file_id, Outcome(row.name, "failed", reason))
        return row.job_id


def claim_matching(sessions: sessionmaker[Session], job_id: str) -> bool:
    """True for exactly one caller, once every file of the job is finished: that caller
    matches. A conditional update, so two workers finishing the last files at once cannot
    both win."""
    pending = exists().where(JobFile.job_id == job_id, JobFile.state.in_(UNFINISHED))
    with sessions.begin() as session:
        result = session.execute(
            update(IngestJob)
            .where(IngestJob.id == job_id, IngestJob.state.in_(("queued", "running")), ~pending)
            .values(state="matching")
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def match_job(sessions: sessionmaker[Session], job_id: str, settings: MatchSettings) -> None:
    """Match the councils the job's documents belong to, one at a time (matching holds a
    lock per council on PostgreSQL, so two workers never match one council at once)."""
    with sessions() as session:
        councils = sorted(
            {
                c or ""
                for c in session.scalars(
                    select(Document.council)
                    .join(JobFile, JobFile.document_id == Document.id)
                    .where(JobFile.job_id == job_id)
                )
            }
        )
    matched: dict[str, int] = {}
    error = None
    try:
        for council in councils:
            with sessions() as session:
                summaries = run_matching(session, settings, council or None, all_councils=False)
            for summary in summaries:
                for state, count in summary.counts.items():
                    matched[state] = matched.get(state, 0) + count
    except Exception as failure:  # the files are stored; say matching must be rerun
        error = f"matching stopped: {failure}; run `councilreg match`"
    with sessions.begin() as session:
        job = session.get(IngestJob, job_id)
        if job is not None:
            job.matched, job.error = matched, error
            job.state, job.finished_at = "done", _now()


def run_job_here(
    sessions: sessionmaker[Session],
    job_id: str,
    batch: BatchSettings,
    matching: MatchSettings,
) -> None:
    """The job in this process, with no task engine: the CLI's batch over its unfinished
    files (parsers in worker processes), each outcome written to its row, then matching.
    Also how a restarted server finishes the jobs it had queued."""
    with sessions.begin() as session:
        job = session.get_one(IngestJob, job_id)
        started = [start_file(session, row.id) for row in job.files]
        rows = {row.path: row.id for row in started if row is not None}
        options = options_from_json(job.options)

    def record(outcome: Outcome) -> None:
        file_id = rows.get(outcome.file)
        if file_id is not None:
            with sessions.begin() as session:
                finish_file(session, file_id, outcome)

    try:
        run_batch(sessions, [Path(path) for path in rows], options, batch, on_outcome=record)
    except Exception as error:  # the store is unusable: say so on the job's page
        with sessions.begin() as session:
            job = session.get_one(IngestJob, job_id)
            for row in job.files:
                if row.state in UNFINISHED:
                    row.state, row.reason = "failed", f"ingestion stopped: {error}"
            job.state, job.error, job.finished_at = "done", f"ingestion stopped: {error}", _now()
        return
    if claim_matching(sessions, job_id):
        match_job(sessions, job_id, matching)


def unfinished_jobs(session: Session) -> list[str]:
    """Jobs a restarted server (with no task engine) must finish, oldest first."""
    return list(
        session.scalars(
            select(IngestJob.id)
            .where(IngestJob.state.in_(("queued", "running")))
            .order_by(IngestJob.submitted_at)
        )
    )


def job_progress(job: IngestJob) -> dict[str, object]:
    """What the upload page and ``ingest --queue`` show: the JSON twin's format."""
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "finished": job.state == "done",
        "submitted_at": job.submitted_at.isoformat() if job.submitted_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "files": [
            {
                "name": f.name,
                "state": SHOWN_STATE.get(f.state, f.state),
                "reason": f.reason,
                "records": f.records,
                "attempts": f.attempts,
            }
            for f in job.files
        ],
        "matched": job.matched,
        "error": job.error,
    }


def job_history(session: Session, limit: int = 100) -> list[dict[str, object]]:
    """The latest jobs, newest first, each with who submitted it and its files' outcome."""
    names: dict[int, str] = dict(session.execute(select(User.id, User.name)).all())
    jobs = session.scalars(select(IngestJob).order_by(IngestJob.submitted_at.desc()).limit(limit))
    return [
        {**job_progress(job), "by": names.get(job.submitted_by) if job.submitted_by else None}
        for job in jobs
    ]
