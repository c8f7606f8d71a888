"""Settings resolved once at the entry point and passed down.

Nothing deeper reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from models import open_store


@dataclass
class AppContext:
    database_url: str

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return open_store(self.database_url)

    def close(self) -> None:
        if "sessions" in self.__dict__:
            self.sessions.kw["bind"].dispose()
