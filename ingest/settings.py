"""Settings resolved once at the entry point and passed down.

Nothing deeper reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@dataclass
class AppContext:
    given_database_url: str | None
    broker_url: str | None = None
    """The task engine's broker; None runs every job in this process."""

    @cached_property
    def database_url(self) -> str:
        """The URL given, else the embedded SQLite file in the user's data folder."""
        from models.store import default_database_url

        return self.given_database_url or default_database_url()

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """The store, opened (and brought up to date) by the first command that needs it."""
        from models import open_store

        return open_store(self.database_url)

    def close(self) -> None:
        if "sessions" in self.__dict__:
            self.sessions.kw["bind"].dispose()
