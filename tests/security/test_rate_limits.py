"""Rate limits cannot be reset or raced (issue 12, point 6): the `limits` storages keep every count
until its window ends; production with several workers needs Redis; a login code is tried and used
by one conditional UPDATE each, so concurrent submits get one winner and never more tries than
allowed."""
from __future__ import annotations

import threading

import pytest

from portal.db import utcnow
from portal.production import production_problems
from portal.ratelimit import MemoryLimiter
from portal.services import DomainError, login
from portal.services.login import request_code, verify_code
from tests.security.helpers import all_at_once


def test_a_flood_of_new_keys_does_not_reset_a_lockout():
    limiter = MemoryLimiter()
    for _ in range(5):
        limiter.hit("verify:phone:+8613800000001", 5, 300)
    assert not limiter.hit("verify:phone:+8613800000001", 5, 300)
    for number in range(120_000):
        limiter.hit(f"code:phone:+86139{number:08d}", 1, 60)
    assert not limiter.hit("verify:phone:+8613800000001", 5, 300)


@pytest.mark.parametrize("workers, redis, refused", [("4", "", True), ("4", "redis://127.0.0.1:6379/0", False),
                                                     ("1", "", False)])
def test_production_with_several_workers_needs_redis(workers, redis, refused):
    config = {"LINLI_ENV": "production", "LINLI_SECRET_KEY_FROM_ENV": True, "LINLI_LEDGER_KEY": "k" * 64,
              "LINLI_DATABASE_URL": "postgresql://x", "LINLI_PUBLIC_URL": "https://x", "LINLI_REDIS_URL": redis,
              "LINLI_WEB_WORKERS": int(workers)}
    assert any("LINLI_REDIS_URL" in problem for problem in production_problems(config)) == refused


def _race(app, count: int, attempt) -> list:
    """`attempt(session)` in `count` threads at once, each with its own session (a refused try is
    committed, as the web view does); the outcomes."""
    factory = app.extensions["linli"].session_factory

    def run():
        session = factory()
        try:
            outcome = attempt(session)
        except DomainError as error:
            outcome = error
        session.commit()
        session.close()
        return outcome

    return all_at_once(run, count)


def _issue_code(app, session, transport, phone) -> str:
    request_code(session, MemoryLimiter(), phone, "127.0.0.1", utcnow())
    session.commit()
    import re

    from sqlalchemy import select

    from portal.models import OutboundMessage

    body = session.scalars(select(OutboundMessage.body).where(OutboundMessage.to_phone == phone)
                           .order_by(OutboundMessage.id.desc())).first()
    return re.search(r"\d{6}", body).group(0)


@pytest.mark.parametrize("count", [2, 6])
def test_concurrent_submits_of_one_valid_code_make_one_session(count, committed, app, world, session, transport):
    phone = world.elder_a.person.phone
    code = _issue_code(app, session, transport, phone)
    outcomes = _race(app, count, lambda s: verify_code(s, MemoryLimiter(), phone, code, utcnow()))
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(outcomes) == count and len(winners) == 1


def test_concurrent_wrong_guesses_get_no_more_checks_than_allowed(committed, app, world, session, transport, monkeypatch):
    phone = world.elder_a.person.phone
    _issue_code(app, session, transport, phone)
    checks = []
    real = login._code_hasher
    lock = threading.Lock()

    class Counted:
        def verify(self, hash_, code):
            with lock:
                checks.append(code)
            return real.verify(hash_, code)

    monkeypatch.setattr(login, "_code_hasher", Counted())
    outcomes = _race(app, 12, lambda s: verify_code(s, MemoryLimiter(), phone, "000000", utcnow()))
    assert all(isinstance(o, DomainError) for o in outcomes)
    assert len(checks) <= 5
