"""Shared fixtures: real SQLite files, a real PostgreSQL database per test, real documents."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models import open_store

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(os.environ.get("COUNCILREG_SHARED") or ROOT.parent / "shared").resolve()
CORPUS = SHARED / "corpus"

POSTGRES_URL = os.environ.get(
    "COUNCILREG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The server the PostgreSQL tests run against; failing loudly, never skipping, if absent."""
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({error.orig}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or point "
            "COUNCILREG_TEST_POSTGRES_URL at a server where this user may CREATE DATABASE.",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"councilreg_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """An up-to-date store on each backend, closed after the test."""
    factory = open_store(database_url)
    yield factory
    engine = factory.kw["bind"]
    engine.dispose()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Many tests read the shared corpus; without it, stop at once and say so (never skip)."""
    missing = [
        folder for folder in (CORPUS, SHARED / "real", SHARED / "eval") if not folder.is_dir()
    ]
    if missing:
        pytest.exit(
            f"the shared documents are missing ({', '.join(map(str, missing))}): set "
            "COUNCILREG_SHARED to the folder that holds corpus/, real/ and eval/ "
            "(default: ../shared beside the checkout)",
            returncode=4,
        )


@pytest.fixture(scope="session")
def corpus() -> Path:
    return CORPUS
