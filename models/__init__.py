"""The SQLAlchemy schema every stage reads and writes, and its migrations."""

from models.schema import (
    AuditEvent,
    Base,
    CanonicalItem,
    Decision,
    Document,
    IngestJob,
    JobFile,
    Link,
    MatchingRun,
    Record,
    SignIn,
    User,
)
from models.store import data_dir, default_database_url, make_engine, open_store, upgrade

__all__ = [
    "AuditEvent",
    "Base",
    "CanonicalItem",
    "Decision",
    "Document",
    "IngestJob",
    "JobFile",
    "Link",
    "MatchingRun",
    "Record",
    "SignIn",
    "User",
    "data_dir",
    "default_database_url",
    "make_engine",
    "open_store",
    "upgrade",
]
