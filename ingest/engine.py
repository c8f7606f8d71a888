"""Ingestion on Celery, so a backfill can spread over worker processes and machines.

The broker carries job-file ids; the work and its state live in the store
(`ingest.jobs`). A task is acknowledged only when it has finished (``acks_late``), and a
worker that dies mid-document gives its message back (``reject_on_worker_lost``), so
another worker reads the document; storing is idempotent by content hash, so the
document is stored once. A database that is down is retried with back-off; a bad file is
not retried: its reason is recorded once, like the CLI batch. When a job's last file is
done, one task matches the councils it touched.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from sqlalchemy.exc import OperationalError

from corpus.settings import MatchSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

INGEST_TASK = "councilreg.ingest_file"
MATCH_TASK = "councilreg.match_job"


@cache
def _sessions(database_url: str) -> sessionmaker[Session]:
    """One store per worker process, opened in the process that uses it (after the fork)."""
    from models import open_store

    return open_store(database_url)


@worker_process_init.connect
def _warm_up(**_: Any) -> None:
    """Each worker process loads the parsers when it starts, not in its first document."""
    from parsers import warm_up

    warm_up()
    logging.getLogger("councilreg.worker").warning("councilreg worker process warm")


def make_engine(broker_url: str, database_url: str, time_limit: float = 600.0) -> Celery:
    """The Celery app a worker runs and a submitter sends to: both need only the broker and
    the database URL."""
    engine = Celery("councilreg", broker=broker_url, set_as_current=False)
    engine.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # Redis gives an unacknowledged message back after this; longer than any document.
        broker_transport_options={"visibility_timeout": int(time_limit * 2 + 60)},
        worker_hijack_root_logger=False,
        councilreg_database_url=database_url,
    )

    @engine.task(
        name=INGEST_TASK,
        bind=True,
        soft_time_limit=time_limit,
        time_limit=time_limit + 30,
        autoretry_for=(OperationalError,),
        retry_backoff=2,
        retry_backoff_max=60,
        max_retries=8,
    )
    def ingest_file(task: Task, file_id: int) -> None:
        from ingest.jobs import claim_matching, fail_file, ingest_job_file
        from ingest.unit import over_time_limit

        sessions = _sessions(task.app.conf.councilreg_database_url)
        try:
            job_id = ingest_job_file(sessions, file_id, (SoftTimeLimitExceeded,), time_limit)
        except SoftTimeLimitExceeded:
            job_id = fail_file(sessions, file_id, over_time_limit(time_limit))
        if job_id is not None and claim_matching(sessions, job_id):
            task.app.send_task(MATCH_TASK, args=[job_id])

    @engine.task(
        name=MATCH_TASK,
        bind=True,
        autoretry_for=(OperationalError,),
        retry_backoff=2,
        max_retries=8,
    )
    def match(task: Task, job_id: str) -> None:
        from ingest.jobs import match_job

        match_job(_sessions(task.app.conf.councilreg_database_url), job_id, MatchSettings())

    return engine


def submit_files(engine: Celery, file_ids: list[int]) -> None:
    for file_id in file_ids:
        engine.send_task(INGEST_TASK, args=[file_id])


def run_worker(engine: Celery, concurrency: int, extra: list[str] | None = None) -> Any:
    """Start a worker in this process (prefork: each task in a child process)."""
    argv = ["worker", f"--concurrency={concurrency}", "--loglevel=INFO", "--pool=prefork"]
    return engine.worker_main([*argv, *(extra or [])])
