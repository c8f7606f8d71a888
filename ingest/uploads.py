"""Uploaded files for backfill: checked and unpacked into a folder of their own, then
ingested as a job (`ingest.jobs`), by the task engine's workers when there is one.

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
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

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


@dataclass(frozen=True)
class StagedFile:
    """A file of the upload: kept for ingestion at `path`, or refused for `reason`."""

    name: str
    path: Path | None = None
    reason: str | None = None


@dataclass
class StagedUpload:
    folder: Path
    files: list[StagedFile] = field(default_factory=list)

    @property
    def accepted(self) -> list[tuple[str, Path]]:
        return [(f.name, f.path) for f in self.files if f.path is not None]

    @property
    def refused(self) -> list[tuple[str, str]]:
        return [(f.name, f.reason or "refused") for f in self.files if f.path is None]


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


def _unpack(
    archive: Path, name: str, folder: Path, limits: UploadLimits, staged: StagedUpload
) -> None:
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
                    staged.files.append(StagedFile(label, reason="larger than the per-file limit"))
                    continue
                target = _slot(folder, inner.name)
                with pack.open(member) as source:
                    _copy_limited(source, target, limits.max_file_bytes, label)
                if _keep(target, label, staged) == "zip":
                    staged.files.append(
                        StagedFile(label, reason="a zip inside a pack is not opened")
                    )
                    target.unlink()
    except zipfile.BadZipFile as error:
        raise UploadRejected(f"{name}: damaged zip ({error})") from error


def _slot(folder: Path, name: str) -> Path:
    """A path of its own for each file, keeping its name, so names may repeat in one upload."""
    slot = folder / f"{sum(1 for _ in folder.iterdir()):04d}"
    slot.mkdir(mode=0o700)
    return slot / name


def _keep(path: Path, label: str, staged: StagedUpload) -> str | None:
    """A document stays for ingestion, named for what it is; anything else is listed and removed."""
    try:
        kind = sniff(path)
    except ParseError as error:
        staged.files.append(StagedFile(label, reason=str(error)))
        path.unlink()
        return None
    if kind == "zip":
        return kind
    if kind not in PARSERS:
        staged.files.append(StagedFile(label, reason=f"a {kind} file is not read"))
        path.unlink()
        return None
    if path.suffix.lower() != f".{kind}":
        path = path.rename(path.with_name(f"{path.name}.{kind}"))
    staged.files.append(StagedFile(label, path=path))
    return kind


def stage_upload(
    files: Iterable[tuple[str, IO[bytes]]], root: Path, limits: UploadLimits = UploadLimits()
) -> StagedUpload:
    """Copy the uploaded files into a new private folder under ``root``, checked and unpacked."""
    staged = StagedUpload(root / uuid.uuid4().hex)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged.folder.mkdir(mode=0o700)
    total = 0
    try:
        for index, (name, stream) in enumerate(files):
            safe_name = clean_name(name) or f"upload-{index}"
            target = _slot(staged.folder, safe_name)
            total += _copy_limited(stream, target, limits.max_file_bytes, safe_name)
            if total > limits.max_upload_bytes:
                raise UploadRejected(
                    f"the upload is larger than the {limits.max_upload_bytes // (1024 * 1024)} MB limit"
                )
            if _keep(target, safe_name, staged) == "zip":
                _unpack(target, safe_name, staged.folder, limits, staged)
                target.unlink()
    except BaseException:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise
    if not staged.files:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise UploadRejected("no files were uploaded")
    return staged
