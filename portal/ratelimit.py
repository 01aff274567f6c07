"""Fixed-window rate limits. In memory by default; Redis when several web workers must share them."""
from __future__ import annotations

import threading
import time


class MemoryLimiter:
    """Counts per key and window in this process (one worker, tests, the demo)."""

    def __init__(self):
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
        """Count one hit; True when it is within `limit` for the current window."""
        now = time.time() if now is None else now
        window = int(now // window_seconds)
        bucket = f"{key}:{window_seconds}"
        with self._lock:
            current_window, count = self._counts.get(bucket, (window, 0))
            if current_window != window:
                count = 0
            count += 1
            self._counts[bucket] = (window, count)
            if len(self._counts) > 100_000:  # keep memory bounded under a flood of numbers
                self._counts.clear()
        return count <= limit

    def peek(self, key: str, window_seconds: int, now: float | None = None) -> int:
        """How many hits `key` has in the current window, without counting one."""
        now = time.time() if now is None else now
        window = int(now // window_seconds)
        with self._lock:
            current_window, count = self._counts.get(f"{key}:{window_seconds}", (window, 0))
        return count if current_window == window else 0

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisLimiter:
    """The same counts in Redis, shared by every web worker."""

    def __init__(self, url: str, prefix: str = "linli:rl:"):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self.prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        window = int(now // window_seconds)
        bucket = f"{self.prefix}{key}:{window_seconds}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(bucket)
        pipe.expire(bucket, window_seconds + 5)
        count, _ = pipe.execute()
        return int(count) <= limit

    def peek(self, key: str, window_seconds: int, now: float | None = None) -> int:
        now = time.time() if now is None else now
        value = self._redis.get(f"linli:rl:{key}:{window_seconds}:{int(now // window_seconds)}")
        return int(value or 0)

    def reset(self) -> None:
        for key in self._redis.scan_iter(f"{self.prefix}*"):
            self._redis.delete(key)


def make_limiter(redis_url: str | None):
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()
