"""RedisLimiter: two limiters (two web workers) share one count, on a real Redis.

Redis at redis://127.0.0.1:6379/15 (a database of its own), or LINLI_TEST_REDIS_URL. No Redis
answering: skipped on a workstation, a failure on CI (the CI environment variable is set there,
and the CI machine runs one).
"""
from __future__ import annotations

import os
import uuid

import pytest
import redis

from portal.ratelimit import RedisLimiter

REDIS_URL = os.environ.get("LINLI_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture()
def limiters():
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        reason = f"no Redis answers at {REDIS_URL} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    prefix = f"linli-test:{uuid.uuid4().hex}:"  # parallel runs never share keys
    first, second = RedisLimiter(REDIS_URL, prefix=prefix), RedisLimiter(REDIS_URL, prefix=prefix)
    yield first, second
    first.reset()


def test_two_limiters_share_counts(limiters):
    first, second = limiters
    now = 1_800_000_000.0
    assert first.hit("code:phone:+8613800000001", 3, 60, now=now)
    assert second.hit("code:phone:+8613800000001", 3, 60, now=now)
    assert first.hit("code:phone:+8613800000001", 3, 60, now=now)
    assert not second.hit("code:phone:+8613800000001", 3, 60, now=now)  # the 4th, counted across both
    assert second.hit("code:phone:+8613800000002", 3, 60, now=now)  # another key is separate
    assert first.hit("code:phone:+8613800000001", 3, 60, now=now + 60)  # a new window


def test_reset_only_touches_its_own_prefix(limiters):
    first, _second = limiters
    other = RedisLimiter(REDIS_URL, prefix=f"linli-test:{uuid.uuid4().hex}:")
    now = 1_800_000_000.0
    other.hit("k", 1, 60, now=now)
    first.hit("k", 1, 60, now=now)
    first.reset()
    assert first.hit("k", 1, 60, now=now)
    assert not other.hit("k", 1, 60, now=now)
    other.reset()
