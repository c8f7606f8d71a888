"""Ingestion through the task engine against the local batch, in one run, on PostgreSQL.

    python bench/engine_throughput.py [../shared/corpus] [--broker redis://127.0.0.1:6379/12]

Each run reads every document of the folder into a fresh PostgreSQL database:

* the local batch (`ingest.batch.run_batch`) with one parser process, then two;
* ``councilreg worker`` processes (``--concurrency 1`` each) fed by ``ingest --queue``:
  one worker, then two.

Printed: documents per second of each, the ratio of two engine workers to one (goal
≥ 1.8× on a 2-core machine) and the engine's overhead per document against the local
batch with the same number of processes. Timing stops when the last file is stored;
matching, which runs once after, is not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.batch import BatchSettings, discover, run_batch  # noqa: E402
from ingest.unit import IngestOptions  # noqa: E402
from models import JobFile, open_store  # noqa: E402

ADMIN_URL = os.environ.get(
    "COUNCILREG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL = 1.8


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"councilreg_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    open_store(url).kw["bind"].dispose()  # migrated before the clock starts
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def councilreg(*args: str) -> list[str]:
    return [sys.executable, "-m", "ingest.cli", *args]


def local_batch(files: list[Path], processes: int) -> float:
    with fresh_database() as url:
        sessions = open_store(url)
        start = time.perf_counter()
        run_batch(sessions, files, IngestOptions(), BatchSettings(workers=processes))
        seconds = time.perf_counter() - start
        sessions.kw["bind"].dispose()
    return seconds


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server processes alive now (the backends serving the
    workers' connections among them)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "comm").read_text().startswith("postgres"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


database_share: dict[int, float] = {}


def engine(files: list[Path], folder: Path, workers: int, broker: str) -> float:
    redis.Redis.from_url(broker).flushdb()
    with fresh_database() as url, tempfile.TemporaryDirectory() as logs:
        base = ["--database-url", url, "--broker-url", broker]
        started = []
        for number in range(workers):
            log = Path(logs) / f"worker-{number}.log"
            started.append(
                (
                    subprocess.Popen(
                        councilreg(*base, "worker", "--concurrency", "1"),
                        stdout=log.open("w"),
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
        for process, log in started:
            while "ready." not in log.read_text() or "process warm" not in log.read_text():
                if process.poll() is not None:
                    sys.exit(f"a worker did not start:\n{log.read_text()}")
                time.sleep(0.2)
        sessions = open_store(url)
        start = time.perf_counter()
        database_before = postgres_cpu_seconds()
        subprocess.run(
            councilreg(*base, "ingest", "--queue", "--no-follow", str(folder)),
            check=True,
            capture_output=True,
        )
        while True:
            with sessions() as session:
                left = session.scalar(
                    select(func.count(JobFile.id)).where(
                        JobFile.state.in_(("waiting", "ingesting"))
                    )
                )
                total = session.scalar(select(func.count(JobFile.id)))
            if total and not left:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        database_share[workers] = (postgres_cpu_seconds() - database_before) / seconds
        sessions.kw["bind"].dispose()
        for process, _ in started:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(60)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    files = [item for item in discover([args.folder]) if isinstance(item, Path)]
    count = len(files)
    print(f"{count} documents in {args.folder}, {os.cpu_count()} CPUs")
    results = {
        "local batch, 1 process": local_batch(files, 1),
        "local batch, 2 processes": local_batch(files, 2),
        "engine, 1 worker": engine(files, args.folder, 1, args.broker),
        "engine, 2 workers": engine(files, args.folder, 2, args.broker),
    }
    for name, seconds in results.items():
        print(f"{name:26} {seconds:7.1f} s   {count / seconds:5.2f} documents/s")
    ratio = results["engine, 1 worker"] / results["engine, 2 workers"]
    print(f"two engine workers against one: {ratio:.2f}×  (goal ≥ {GOAL}×)")
    for workers in (1, 2):
        local = results[f"local batch, {workers} process{'es' if workers > 1 else ''}"]
        overhead = (
            results[f"engine, {workers} worker{'s' if workers > 1 else ''}"] - local
        ) / count
        print(f"engine overhead per document, {workers} process(es): {overhead * 1000:+.0f} ms")
    for workers, share in database_share.items():
        print(f"PostgreSQL on the same cores, {workers} worker(s): {share:.0%} of one core")
    sys.exit(0 if ratio >= GOAL else 1)


if __name__ == "__main__":
    main()
