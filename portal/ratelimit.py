"""Fixed-window rate limits on the `limits` package's storages: memory by default (one process, the
demo, tests), its Redis storage when several web workers must share the counts (production).

A count lives in one storage key per (key, window length, window number) and expires with its
window, so nothing is ever cleared wholesale: a flood of new keys cannot reset a lockout. The window
number comes from `now` (a timestamp) when given, so jobs and tests that set the time get the
window of that time.
"""
from __future__ import annotations

import time

from limits.storage import MemoryStorage, RedisStorage


class Limiter:
    """hit / peek / reset over a `limits` storage."""

    def __init__(self, storage, prefix: str = "linli:rl:"):
        self.storage = storage
        self.prefix = prefix

    def _bucket(self, key: str, window_seconds: int, now: float | None) -> str:
        now = time.time() if now is None else now
        return f"{self.prefix}{key}:{window_seconds}:{int(now // window_seconds)}"

    def hit(self, key: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
        """Count one hit (one atomic increment, shared by every worker on Redis); True when it is
        within `limit` for the current window."""
        return self.storage.incr(self._bucket(key, window_seconds, now), window_seconds + 5) <= limit

    def peek(self, key: str, window_seconds: int, now: float | None = None) -> int:
        """How many hits `key` has in the current window, without counting one."""
        return int(self.storage.get(self._bucket(key, window_seconds, now)) or 0)

    def reset(self) -> None:
        """Forget every count of this limiter (tests, and an operator after an incident)."""
        if isinstance(self.storage, MemoryStorage):
            self.storage.reset()
            return
        client = self.storage.storage
        for found in client.scan_iter(f"{self.storage.key_prefix}:{self.prefix}*"):
            client.delete(found)


class MemoryLimiter(Limiter):
    def __init__(self):
        super().__init__(MemoryStorage())


class RedisLimiter(Limiter):
    def __init__(self, url: str, prefix: str = "linli:rl:"):
        super().__init__(RedisStorage(url, socket_timeout=2), prefix=prefix)


def make_limiter(redis_url: str | None):
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()
