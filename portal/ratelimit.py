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
