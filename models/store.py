"""Opening the store: engine, SQLite pragmas and bringing the schema up to date.

SQLite (one file, WAL, foreign keys on) is the embedded default; any SQLAlchemy URL,
normally ``postgresql+psycopg://``, selects a shared server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration. Alembic (a third of a second to import) loads only when a store is
# behind it; tests/test_store.py checks that this names the head of migrations/versions.
SCHEMA_HEAD = "0007"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class StoreError(Exception):
    """A database URL that cannot name a store councilreg can use; the message says why."""


def data_dir() -> Path:
    """``$XDG_DATA_HOME/councilreg`` (``~/.local/share/councilreg`` by default)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "councilreg"


def default_database_url() -> str:
    """``$XDG_DATA_HOME/councilreg/councilreg.sqlite3``."""
    return f"sqlite:///{data_dir() / 'councilreg.sqlite3'}"


def normalise_url(url: str) -> str:
    """Let people write ``postgresql://`` and get the psycopg 3 driver we ship.

    Raises `StoreError` for text that is not a URL or names a database we do not support.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(
            f"{url!r} is not a database URL; write sqlite:///path/to/file.sqlite3 or "
            "postgresql://user@host/database"
        ) from error
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"{parsed.get_backend_name()} is not supported; councilreg stores its register in "
            "SQLite (sqlite:///path) or PostgreSQL (postgresql://user@host/database)"
        )
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`. A SQLite file may be new, but its folder must exist (a mistyped
    path is an error, not a new empty store), except the default data folder, made here."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if folder == data_dir():
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            elif not folder.is_dir():
                raise StoreError(f"the folder {folder} of the SQLite store does not exist")
            # The store holds password hashes: made readable by this user only. SQLite
            # gives its -wal and -shm files the database file's permissions.
            os.close(os.open(parsed.database, os.O_WRONLY | os.O_CREAT, 0o600))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_revision(engine: Engine) -> str | None:
    """The store's migration revision; None for a new, empty database."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is already there."""
    if schema_revision(engine) != SCHEMA_HEAD:
        from alembic import command

        command.upgrade(alembic_config(engine), "head")


def open_store(url: str) -> sessionmaker[Session]:
    """An up-to-date store, ready for sessions. Every command starts here."""
    engine = make_engine(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)
