"""A batch of files: find them, parse them in worker processes, store each as it finishes.

One bad file never stops the batch. Each parse runs under a time limit in a process
that can be killed (pebble), so a pathological PDF costs its time limit, not the run.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from pebble import ProcessExpired, ProcessPool
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.unit import (
    IngestOptions,
    Outcome,
    already_stored,
    display_name,
    file_digest,
    is_current,
    over_time_limit,
    parse_job,
    read_error,
    store_parsed,
    unexpected_error,
)
from parsers import SUFFIXES, ParsedDocument


@dataclass(frozen=True)
class BatchSettings:
    workers: int = 2
    time_limit: float = 600.0
    memory_limit_mb: int = 3072


@dataclass
class BatchReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return not any(o.status == "failed" for o in self.outcomes)

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": {
                s: self.counts.get(s, 0)
                for s in ("new", "updated", "unchanged", "skipped", "failed")
            },
            "files": [
                {
                    "file": o.file,
                    "status": o.status,
                    "reason": o.reason,
                    "records": o.records,
                    "sha256": o.sha256,
                    "notes": o.notes,
                }
                for o in self.outcomes
            ],
        }


def discover(paths: Iterable[Path]) -> Iterator[Path | Outcome]:
    """Supported files under the given paths, in a stable order; others as skipped/failed."""
    for root in paths:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if not p.is_dir()):
                if path.suffix.lower() in SUFFIXES:
                    yield path
                elif not path.name.startswith("."):
                    yield Outcome(display_name(path), "skipped", "not a PDF or Word document")
        elif root.suffix.lower() in SUFFIXES and (root.exists() or root.is_symlink()):
            yield root
        elif not root.exists() and not root.is_symlink():
            yield Outcome(display_name(root), "failed", "no such file or folder")
        else:
            yield Outcome(display_name(root), "skipped", "not a PDF or Word document")


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_batch(
    sessions: sessionmaker[Session],
    paths: Iterable[Path],
    options: IngestOptions,
    settings: BatchSettings,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_reading: Callable[[list[str]], None] | None = None,
) -> BatchReport:
    """Hash every file, then parse the new and changed ones in worker processes.

    `on_reading` hears the names of the documents to read (in the order they are queued)
    once the hashing is done; `on_outcome` hears every file's outcome as it is known.
    """
    report = BatchReport()

    def finish(outcome: Outcome) -> None:
        report.outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    todo: list[tuple[Path, str, int]] = []
    for item in discover(paths):
        if isinstance(item, Outcome):
            finish(item)
            continue
        name = display_name(item)
        try:
            sha256, size = file_digest(item)
        except OSError as error:
            finish(Outcome(name, "failed", read_error(item, error)))
            continue
        if size == 0:
            # Every empty file has the same hash: without this, the second one would be
            # "unchanged", a copy of the first.
            finish(Outcome(name, "failed", "empty file (0 bytes)", sha256=sha256))
            continue
        if size > options.max_file_bytes:
            limit = options.max_file_bytes // (1024 * 1024)
            finish(
                Outcome(name, "failed", f"file is larger than the {limit} MB limit", sha256=sha256)
            )
            continue
        with sessions() as session:
            if is_current(already_stored(session, sha256)):
                finish(Outcome(name, "unchanged", sha256=sha256))
                continue
        if any(sha256 == queued for _, queued, _ in todo):
            finish(
                Outcome(
                    name, "unchanged", "same content as another file in this batch", sha256=sha256
                )
            )
            continue
        todo.append((item, sha256, size))

    if on_reading:
        on_reading([display_name(path) for path, _, _ in todo])
    if not todo:
        return report
    context = multiprocessing.get_context("forkserver")
    with ProcessPool(
        max_workers=max(1, min(settings.workers, len(todo))),
        max_tasks=20,
        context=context,
        initializer=_limit_memory,
        initargs=(settings.memory_limit_mb,),
    ) as pool:
        futures: dict[Future[tuple[ParsedDocument | None, str | None]], tuple[Path, str, int]] = {
            pool.schedule(
                parse_job,
                args=(task[0], options.period, options.ocr),
                timeout=settings.time_limit,
            ): task
            for task in todo
        }
        for future in as_completed(futures):
            path, sha256, size = futures[future]
            parsed, failure = None, None
            try:
                parsed, failure = future.result()
            except FutureTimeout:
                failure = over_time_limit(settings.time_limit)
            except ProcessExpired as error:
                failure = f"the parser crashed on this file (exit code {error.exitcode})"
            except Exception as error:
                failure = unexpected_error(error)
            try:
                finish(store_parsed(sessions, path, sha256, size, parsed, failure, options))
            except IntegrityError:
                finish(
                    Outcome(display_name(path), "unchanged", "stored meanwhile by another worker")
                )
    return report
