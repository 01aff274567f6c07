"""Fixed-window rate limits on the `limits` package's storages: memory by default (one process, the
demo, tests), its Redis storage when several web workers must share the counts (production).

A count lives in one storage key per (key, window length, window number) and expires with its
window, so nothing is ever cleared wholesale: a flood of new keys cannot reset a lockout. The window
number comes from `now` (a timestamp) when given, so jobs and tests that set the time get the
window of that time.
"""
from __future__ import annotations

import threading
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


class MemoryTokenBucket:
    """The provider's pace in this process: `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int = 1):
        self.rate, self.burst = max(rate, 0.001), max(burst, 1)
        self._tokens, self._at = float(self.burst), time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take a token if one is there: 0.0; otherwise how many seconds until one is."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def wait(self, stop=None, max_wait: float = 60.0) -> bool:
        """Block until a token is taken (True), or `stop` is set / `max_wait` passes (False)."""
        deadline = time.monotonic() + max_wait
        while True:
            pause = self.take()
            if pause == 0.0:
                return True
            if time.monotonic() + pause > deadline or (stop is not None and stop.is_set()):
                return False
            time.sleep(min(pause, 0.25))


# One token bucket in Redis for every sender process: refill and take in one atomic script.
_TAKE_SCRIPT = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(now - at, 0) * rate)
local pause = 0
if tokens >= 1 then tokens = tokens - 1 else pause = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(pause)
"""


class RedisTokenBucket(MemoryTokenBucket):
    """The same bucket in Redis, shared by every sender (web workers, `linli sender`, the scheduler)."""

    def __init__(self, url: str, rate: float, burst: int = 1, key: str = "linli:provider-bucket"):
        import redis

        super().__init__(rate, burst)
        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._script = self._redis.register_script(_TAKE_SCRIPT)
        self.key = key

    def take(self) -> float:
        return float(self._script(keys=[self.key], args=[self.rate, self.burst, time.time()]))


def make_token_bucket(redis_url: str | None, rate: float, burst: int):
    return RedisTokenBucket(redis_url, rate, burst) if redis_url else MemoryTokenBucket(rate, burst)
