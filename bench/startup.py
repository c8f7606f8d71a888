"""Start-up time of the CLI against bare Python, measured in one run.

    python bench/startup.py [--runs 7]

Each command runs against a fresh SQLite store (made and brought up to date before the
timing, so a migration is not counted) and the median wall time of `--runs` runs is
printed in milliseconds beside ``python -c pass``, with the difference: the time a user
waits before councilreg does anything. The goal is under 500 ms above bare Python for
``--help``, ``status``, ``export`` and ``users``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MS = 500.0
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "councilreg --help": ["--help"],
    "councilreg status": ["status"],
    "councilreg export register.csv": ["export", "{tmp}/register.csv"],
    "councilreg users --help": ["users", "--help"],
}


def councilreg() -> list[str]:
    script = Path(sys.executable).with_name("councilreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ingest.cli"]


def timed(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COUNCILREG_DATABASE_URL": f"sqlite:///{tmp}/store.sqlite3"}
        subprocess.run([*councilreg(), "db", "upgrade"], env=env, check=True, capture_output=True)
        results = {}
        for name, argv in COMMANDS.items():
            command = argv if name.startswith("python") else [*councilreg(), *argv]
            command = [part.replace("{tmp}", tmp) for part in command]
            results[name] = timed(command, env, args.runs)
    bare = results.pop("python -c pass")
    print(f"{'python -c pass':34} {bare:7.0f} ms")
    failed = False
    for name, ms in results.items():
        above = ms - bare
        verdict = "ok" if above < GOAL_MS else f"over the {GOAL_MS:.0f} ms goal"
        failed |= above >= GOAL_MS
        print(f"{name:34} {ms:7.0f} ms   {above:+6.0f} ms above bare Python   {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
