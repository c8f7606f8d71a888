"""The store on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.unit import IngestOptions, store_parsed
from models import Document, Record, make_engine, upgrade
from models.store import (
    MIGRATIONS,
    SCHEMA_HEAD,
    StoreError,
    alembic_config,
    normalise_url,
    schema_revision,
)
from parsers.model import Officer, ParsedDocument
from parsers.model import Record as ParsedRecord

TABLES = {
    "documents",
    "records",
    "canonical_items",
    "links",
    "decisions",
    "audit_events",
    "users",
    "matching_runs",
    "alembic_version",
}


def _parsed(*titles: str) -> ParsedDocument:
    parsed = ParsedDocument(parser="pdf", parser_version="test")
    for row, title in enumerate(titles):
        parsed.records.append(
            ParsedRecord(
                kind="action",
                code=f"KA.{row + 1}",
                code_key=f"KA.{row + 1}",
                title=title,
                page=1,
                table_index=0,
                row_index=row,
                bbox=(10.0, 20.0, 300.0, 40.0),
                officers=[Officer("Head of Housing and Health", is_role=True)],
            )
        )
    return parsed


def test_upgrade_creates_every_table_and_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert schema_revision(engine) is None
        upgrade(engine)
        upgrade(engine)
        assert schema_revision(engine) == SCHEMA_HEAD
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_schema_head_names_the_newest_migration(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD
    finally:
        engine.dispose()
    assert MIGRATIONS.is_dir()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notaurl", "'notaurl' is not a database URL"),
        ("mysql://root@127.0.0.1/test", "mysql is not supported"),
    ],
)
def test_a_url_we_cannot_use_is_named(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        make_engine(url)


def test_a_mistyped_sqlite_folder_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'store.sqlite3'}")
    assert not (tmp_path / "no-such-folder").exists()


def test_document_and_records_round_trip(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    source = tmp_path / "plan.pdf"
    source.write_bytes(b"%PDF-1.4 test")
    outcome = store_parsed(
        sessions,
        source,
        "a" * 64,
        13,
        _parsed("Set up a HIA", "Review CCTV"),
        None,
        IngestOptions(council="Wyvern Vale District Council"),
    )
    assert (outcome.status, outcome.records) == ("new", 2)
    with sessions() as session:
        document = session.scalars(select(Document)).one()
        assert document.council == "Wyvern Vale District Council"
        assert document.council_source == "option"
        assert document.status == "ok"
        assert [r.title for r in document.records] == ["Set up a HIA", "Review CCTV"]
        assert document.records[0].officers == [
            {"text": "Head of Housing and Health", "is_role": True}
        ]
        assert document.records[1].bbox == [10.0, 20.0, 300.0, 40.0]


def test_sha256_is_unique(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), sessions.begin() as session:
        for name in ("a.pdf", "b.pdf"):
            session.add(
                Document(
                    sha256="b" * 64,
                    file_name=name,
                    media_type="application/pdf",
                    size=1,
                    parser="pdf",
                    parser_version="x",
                    status="ok",
                )
            )


def test_deleting_a_document_deletes_its_records(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = tmp_path / "plan.pdf"
    source.write_bytes(b"%PDF-1.4 test")
    store_parsed(sessions, source, "c" * 64, 13, _parsed("One", "Two"), None, IngestOptions())
    with sessions.begin() as session:
        session.delete(session.scalars(select(Document)).one())
    with sessions() as session:
        assert session.scalar(select(Record.id)) is None


def test_a_failure_never_overwrites_a_stored_document(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = tmp_path / "plan.pdf"
    source.write_bytes(b"%PDF-1.4 test")
    store_parsed(sessions, source, "d" * 64, 13, _parsed("One"), None, IngestOptions())
    outcome = store_parsed(sessions, source, "d" * 64, 13, None, "parser crashed", IngestOptions())
    assert outcome.status == "failed"
    with sessions() as session:
        document = session.scalars(select(Document)).one()
        assert (document.status, len(document.records)) == ("ok", 1)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_plain_postgresql_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_store_is_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It holds password hashes: the file 0600, the default data folder 0700."""
    from models.store import data_dir, default_database_url

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    engine = make_engine(default_database_url())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    store = data_dir() / "councilreg.sqlite3"
    assert data_dir().stat().st_mode & 0o777 == 0o700
    assert store.stat().st_mode & 0o777 == 0o600
    assert all(
        p.stat().st_mode & 0o077 == 0 for p in data_dir().iterdir() if p.name.startswith(store.name)
    )
