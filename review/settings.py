"""The web app's settings, resolved once by the ``councilreg review`` command."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from corpus.settings import MatchSettings
from ingest.batch import BatchSettings
from ingest.uploads import UploadLimits
from review.throttle import ThrottleSettings


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    secret_key: str
    upload_dir: Path
    limits: UploadLimits = field(default_factory=UploadLimits)
    batch: BatchSettings = field(default_factory=lambda: BatchSettings(workers=1, time_limit=300))
    matching: MatchSettings = field(default_factory=MatchSettings)
    https_only: bool = False
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    broker_url: str | None = None
    """The task engine uploads go to; None ingests them in this server."""


def secret_key_in(folder: Path) -> str:
    """The signing key kept beside the data, made once (readable by this user only)."""
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()
