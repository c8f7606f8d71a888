"""Uploaded files for backfill: checked, unpacked into a folder of their own, ingested in the background.

The folder stays after ingestion: it is where the review UI reads a page to show a record
in its source.

Checks are by content, not by name: a file is kept only when ``sniff`` says it is a PDF,
Word or OpenDocument file, or a zip of them (a committee pack). Zip entries may not be
absolute or climb out with ``..``, and the entry count and expanded size are capped before
anything is written, so a zip bomb costs nothing.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from corpus.register import run_matching
from corpus.settings import MatchSettings
from ingest.batch import BatchSettings, run_batch
from ingest.unit import IngestOptions, Outcome
from parsers import PARSERS, ParseError, sniff

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = 100 * 1024 * 1024
    max_upload_bytes: int = 500 * 1024 * 1024
    max_zip_entries: int = 1000
    max_zip_expanded_bytes: int = 1024 * 1024 * 1024


class UploadRejected(Exception):
    """The whole upload is refused; the message names the file and the reason."""


@dataclass
class FileProgress:
    name: str
    state: str = "waiting"  # waiting | ingesting | new | updated | already ingested | failed
    reason: str | None = None
    records: int = 0
    path: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "records": self.records,
        }


@dataclass
class UploadJob:
    id: str
    folder: Path
    files: list[FileProgress] = field(default_factory=list)
    finished: bool = False
    matched: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "finished": self.finished,
            "files": [f.as_dict() for f in self.files],
            "matched": self.matched,
            "error": self.error,
        }


def _copy_limited(stream: IO[bytes], target: Path, limit: int, name: str) -> int:
    written = 0
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise UploadRejected(
                    f"{name}: larger than the {limit // (1024 * 1024)} MB limit per file"
                )
            out.write(chunk)
    return written


def clean_name(name: str) -> str:
    """A file name as a person gave it, without folders or characters no file system
    takes (NUL and other controls)."""
    name = "".join(c for c in name if c.isprintable())
    return PurePosixPath(name.replace("\\", "/")).name


def _safe_member(name: str) -> PurePosixPath | None:
    name = "".join(c for c in name if c.isprintable())
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return None
    return path


def _unpack(archive: Path, name: str, folder: Path, limits: UploadLimits, job: UploadJob) -> None:
    try:
        with zipfile.ZipFile(archive) as pack:
            members = [m for m in pack.infolist() if not m.is_dir()]
            if len(members) > limits.max_zip_entries:
                raise UploadRejected(
                    f"{name}: {len(members)} entries; the limit is {limits.max_zip_entries}"
                )
            expanded = sum(m.file_size for m in members)
            if expanded > limits.max_zip_expanded_bytes:
                raise UploadRejected(
                    f"{name}: expands to {expanded // (1024 * 1024)} MB; "
                    f"the limit is {limits.max_zip_expanded_bytes // (1024 * 1024)} MB"
                )
            for member in members:
                inner = _safe_member(member.filename)
                label = f"{name}/{member.filename}"
                if inner is None:
                    raise UploadRejected(f"{label}: a path outside the pack is not allowed")
                if member.file_size > limits.max_file_bytes:
                    job.files.append(
                        FileProgress(label, "failed", "larger than the per-file limit")
                    )
                    continue
                target = _slot(folder, inner.name)
                with pack.open(member) as source:
                    _copy_limited(source, target, limits.max_file_bytes, label)
                if _keep(target, label, job) == "zip":
                    job.files.append(
                        FileProgress(label, "failed", "a zip inside a pack is not opened")
                    )
                    target.unlink()
    except zipfile.BadZipFile as error:
        raise UploadRejected(f"{name}: damaged zip ({error})") from error


def _slot(folder: Path, name: str) -> Path:
    """A path of its own for each file, keeping its name, so names may repeat in one upload."""
    slot = folder / f"{sum(1 for _ in folder.iterdir()):04d}"
    slot.mkdir(mode=0o700)
    return slot / name


def _keep(path: Path, label: str, job: UploadJob) -> str | None:
    """A document stays for ingestion, named for what it is; anything else is listed and removed."""
    try:
        kind = sniff(path)
    except ParseError as error:
        job.files.append(FileProgress(label, "failed", str(error)))
        path.unlink()
        return None
    if kind == "zip":
        return kind
    if kind not in PARSERS:
        job.files.append(FileProgress(label, "failed", f"a {kind} file is not read"))
        path.unlink()
        return None
    if path.suffix.lower() != f".{kind}":
        path = path.rename(path.with_name(f"{path.name}.{kind}"))
    job.files.append(FileProgress(label, path=str(path)))
    return kind


def stage_upload(
    files: Iterable[tuple[str, IO[bytes]]], root: Path, limits: UploadLimits = UploadLimits()
) -> UploadJob:
    """Copy the uploaded files into a new private folder under ``root``, checked and unpacked."""
    job = UploadJob(uuid.uuid4().hex, root / uuid.uuid4().hex)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    job.folder.mkdir(mode=0o700)
    total = 0
    try:
        for index, (name, stream) in enumerate(files):
            safe_name = clean_name(name) or f"upload-{index}"
            target = _slot(job.folder, safe_name)
            total += _copy_limited(stream, target, limits.max_file_bytes, safe_name)
            if total > limits.max_upload_bytes:
                raise UploadRejected(
                    f"the upload is larger than the {limits.max_upload_bytes // (1024 * 1024)} MB limit"
                )
            if _keep(target, safe_name, job) == "zip":
                _unpack(target, safe_name, job.folder, limits, job)
                target.unlink()
    except BaseException:
        shutil.rmtree(job.folder, ignore_errors=True)
        raise
    if not job.files:
        shutil.rmtree(job.folder, ignore_errors=True)
        raise UploadRejected("no files were uploaded")
    return job


def run_upload(
    job: UploadJob,
    sessions: sessionmaker[Session],
    options: IngestOptions,
    batch: BatchSettings,
    matching: MatchSettings,
) -> None:
    """Ingest the staged files (the same unit as the CLI), then match; progress goes on ``job``."""
    by_path = {f.path: f for f in job.files if f.state == "waiting" and f.path}
    staged = [Path(path) for path in by_path]
    for progress in by_path.values():
        progress.state = "ingesting"

    def record(outcome: Outcome) -> None:
        progress = by_path.get(outcome.file)
        if progress is None:
            return
        progress.state = {"unchanged": "already ingested"}.get(outcome.status, outcome.status)
        progress.reason = outcome.reason if outcome.status == "failed" else None
        progress.records = outcome.records

    try:
        if staged:
            run_batch(sessions, staged, options, batch, on_outcome=record)
        with sessions() as session:
            for summary in run_matching(session, matching):
                for state, count in summary.counts.items():
                    job.matched[state] = job.matched.get(state, 0) + count
    except Exception as error:
        job.error = f"ingestion stopped: {error}"
    finally:
        for progress in job.files:
            if progress.state in {"waiting", "ingesting"}:
                progress.state, progress.reason = "failed", progress.reason or "not processed"
            if progress.state == "failed" and progress.path:
                Path(progress.path).unlink(missing_ok=True)
        job.finished = True


class UploadJobs:
    """The uploads this server process is running or has run, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, UploadJob] = {}
        self._lock = threading.Lock()

    def add(self, job: UploadJob) -> None:
        with self._lock:
            self._jobs[job.id] = job

    def get(self, job_id: str) -> UploadJob | None:
        with self._lock:
            return self._jobs.get(job_id)
