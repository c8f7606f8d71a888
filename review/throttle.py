"""Sign-in throttling: wrong passwords are counted per name and per address (a moving
window, by the `limits` library), and password hashing runs a few at a time, so neither
guessing nor a flood of sign-ins can take the server's memory or its time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from limits import parse, storage, strategies


@dataclass(frozen=True)
class ThrottleSettings:
    per_name: str = "5/15 minutes"
    """Wrong passwords for one user name before it must wait."""
    per_address: str = "30/15 minutes"
    """Wrong passwords from one address (many names guessed) before it must wait."""
    concurrent_hashes: int = 2
    """argon2id verifications at once: each takes 64 MiB and most of a core."""
    wait_for_hash: float = 3.0
    """Seconds a sign-in waits for a turn to hash before it is told to come back."""


class SignInThrottle:
    """In this server process; behind several processes each counts its own share."""

    def __init__(self, settings: ThrottleSettings | None = None) -> None:
        self.settings = settings or ThrottleSettings()
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._limits = {
            "name": parse(self.settings.per_name),
            "address": parse(self.settings.per_address),
        }
        self._hashing = threading.BoundedSemaphore(self.settings.concurrent_hashes)

    def _keys(self, name: str, address: str) -> list[tuple[str, str]]:
        return [("name", name.strip().casefold()), ("address", address)]

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds before this name or address may try again; None when it may now."""
        for scope, key in self._keys(name, address):
            limit = self._limits[scope]
            if not self._limiter.test(limit, scope, key):
                reset = self._limiter.get_window_stats(limit, scope, key).reset_time
                return max(1, int(reset - time.time()) + 1)
        return None

    def failed(self, name: str, address: str) -> None:
        for scope, key in self._keys(name, address):
            self._limiter.hit(self._limits[scope], scope, key)

    @contextmanager
    def hashing(self) -> Iterator[bool]:
        """A turn to hash a password: True when one came within `wait_for_hash`."""
        acquired = self._hashing.acquire(timeout=self.settings.wait_for_hash)
        try:
            yield acquired
        finally:
            if acquired:
                self._hashing.release()
