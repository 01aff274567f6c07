"""Texts written by jobs are in each person's language, also in the scheduler's worker threads.

`linli scheduler` runs jobs in APScheduler's threads, where there is no Flask app context; the
translation must not depend on one.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

import portal.models  # noqa: F401
from portal.db import Base, make_engine, make_session_factory, utcnow
from portal.i18n import _l, force_locale, translate_for
from portal.models import OutboundMessage, SchedulerHeartbeat, ServiceRequest
from portal.services import DomainError
from portal.services.requests import new_reference, service_name

ROOT = Path(__file__).resolve().parents[2]
NOT_UNDERSTOOD = "Sorry, we did not understand that."


def in_a_bare_thread(fn):
    """Run `fn` the way APScheduler runs a job: another thread, no app or request context."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=fn()))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return result["value"]


def test_translate_for_needs_no_flask_context():
    zh, en = in_a_bare_thread(lambda: (translate_for("zh_Hans", NOT_UNDERSTOOD), translate_for("en", NOT_UNDERSTOOD)))
    assert zh == "对不起，我们没看懂您的短信。"
    assert en == NOT_UNDERSTOOD
    # an unknown locale speaks Chinese, the default
    assert in_a_bare_thread(lambda: translate_for("fr", NOT_UNDERSTOOD)) == zh


def test_lazy_strings_and_domain_errors_translate_without_flask():
    error = DomainError(_l("You cannot check in at your own home."))

    def speak():
        with force_locale("en"):
            english = str(error.message), service_name("en", "meal")
        return translate_for("zh_Hans", error.message), english, service_name("zh_Hans", "meal"), str(error.message)

    chinese, english, meal_zh, default = in_a_bare_thread(speak)
    assert chinese == "不能在自己家签到。"
    assert english == ("You cannot check in at your own home.", "Meals")
    assert meal_zh == "助餐"
    # nothing forced and no Flask context: the message id, as before (a text always names its locale)
    assert default == "You cannot check in at your own home."
    with_values = _l("That is more minutes than can be moved at once (at most %(max)s).", max=600)
    translated = in_a_bare_thread(lambda: translate_for("zh_Hans", with_values))
    assert "600" in translated and "minutes" not in translated  # the values travel with the lazy string


def test_pages_keep_the_requests_locale(app):
    from portal.i18n import gettext

    with app.test_request_context("/?lang=en"):
        assert gettext(NOT_UNDERSTOOD) == NOT_UNDERSTOOD
        assert translate_for("zh_Hans", NOT_UNDERSTOOD) == "对不起，我们没看懂您的短信。"
        assert gettext(NOT_UNDERSTOOD) == NOT_UNDERSTOOD  # forcing for one text did not change the page
    with app.test_request_context("/?lang=zh_Hans"):
        assert gettext(NOT_UNDERSTOOD) == "对不起，我们没看懂您的短信。"


# --- the real `linli scheduler` process --------------------------------------------------------

def _wait_for(what: str, check, seconds: float, process, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"the scheduler exited ({process.returncode}) before {what}:\n{log.read_text()}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}:\n{log.read_text()}")


def _linli_command() -> list[str]:
    script = Path(sys.executable).parent / "linli"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from portal.cli import main; main()"]


def test_the_scheduler_process_texts_each_person_in_their_language(tmp_path):
    """Two workers, zh_Hans and en, each with a request nobody accepted: the job in the scheduler's
    worker thread (not catch-up, which runs in the main thread inside an app context) tells each
    in their own language."""
    from tests.factories import build_world

    url = f"sqlite:///{tmp_path / 'scheduler.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    session_factory = make_session_factory(engine)

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("LINLI_", "TWILIO_", "FLASK_"))}
    env.update(LINLI_DATABASE_URL=url, LINLI_INSTANCE_PATH=str(tmp_path / "instance"), LINLI_ENV="development",
               LINLI_LOG_FORMAT="text", PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    log = tmp_path / "scheduler.log"
    with log.open("wb") as output:
        process = subprocess.Popen([*_linli_command(), "scheduler"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def heartbeat():
            with session_factory() as session:
                return session.get(SchedulerHeartbeat, "scheduler")

        # The heartbeat is the scheduler's first job: catch-up is over and the worker threads run.
        _wait_for("the scheduler's heartbeat", heartbeat, 90, process, log)

        with session_factory() as session:
            world = build_world(session)
            world.worker_b.locale = "en"
            now = utcnow()
            for elder in (world.elder_a, world.elder_b):
                session.add(ServiceRequest(
                    reference=new_reference(session), elder_id=elder.person_id, placed_by_id=elder.person_id,
                    placed_via="sms", service="meal", scheduled_at=now + timedelta(days=1), details={},
                    status="open", community_id=elder.community_id, urgent=False, created_at=now - timedelta(hours=3),
                ))
                session.flush()
            session.commit()
            phones = {"zh_Hans": world.worker_a.phone, "en": world.worker_b.phone}

        def texts():
            with session_factory() as session:
                rows = session.scalars(select(OutboundMessage).where(
                    OutboundMessage.to_phone.in_(phones.values()))).all()
                found = {row.to_phone: row.body for row in rows}
            return found if len(found) == 2 else None

        # requests.unaccepted runs every minute: its first scheduled run is at most a minute away.
        bodies = _wait_for("the workers' texts", texts, 120, process, log)
        chinese, english = bodies[phones["zh_Hans"]], bodies[phones["en"]]
        assert "还没有人接" in chinese and "助餐" in chinese and "Nobody" not in chinese, chinese
        assert english.startswith("[Linli] Nobody has accepted request") and "Meals" in english, english
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        engine.dispose()
