"""The sender, outside every request: webhooks return before the provider answers, an SOS goes
before a wave of 15,000 reminders, two sender processes never send a message twice, and a status
callback that beats the sid is kept and applied."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from portal.channels import outbox
from portal.channels.sender import Sender
from portal.db import Base, make_engine, make_session_factory, utcnow
from portal.models import PRIORITY_BULK, EarlyStatusCallback, OutboundMessage
from portal.ratelimit import MemoryTokenBucket
from portal.services.outbox import EMERGENCY_KIND, enqueue
from tests.channels.helpers import TOKEN, post_signed, text, twilio

ROOT = Path(__file__).resolve().parents[2]


def _wait(what: str, check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


class TestWebhooksDoNotWaitForTheProvider:
    @pytest.fixture()
    def app_config(self, app_config, fake):
        fake.delay_every = 2.0  # a provider answering every request in 2 s
        app_config.update(TWILIO_AUTH_TOKEN=TOKEN, LINLI_SENDER="process", LINLI_TRANSPORT=twilio(fake))
        return app_config

    def test_an_sos_webhook_returns_before_any_provider_call(self, app, client, session, world, fake):
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            response = text(client, world.elder_a.person.phone, "救命")
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
        # The webhook only committed the alerts: not one request reached the provider.
        assert fake.requests == []
        queued = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == EMERGENCY_KIND)).all()
        assert queued and {m.status for m in queued} == {"queued"}
        print(f"\nSOS webhook with a provider answering in 2 s: "
              f"{', '.join(f'{t * 1000:.0f} ms' for t in timings)} for {len(queued)} alerts queued")

        sender = Sender(app.extensions["linli"].session_factory, app.extensions["linli"].transport,
                        MemoryTokenBucket(100, 100))
        sender.drain()
        assert Counter(c["form"]["To"] for c in fake.created) == Counter(m.to_phone for m in queued)


def _bulk_reminders(session, count: int, now) -> None:
    rows = [{"channel": "sms", "to_phone": f"+86139{n:08d}", "kind": "reminder", "body": f"提醒 {n}",
             "urgent": False, "priority": PRIORITY_BULK, "quiet_hours": False, "status": "queued", "attempts": 0,
             "next_attempt_at": now, "created_at": now, "updated_at": now} for n in range(count)]
    for start in range(0, count, 5000):
        session.execute(insert(OutboundMessage), rows[start:start + 5000])
    session.commit()


def test_an_sos_reaches_the_provider_before_15000_queued_reminders(committed, app, session, world, fake):
    now = utcnow() - timedelta(seconds=1)
    _bulk_reminders(session, 15_000, now)
    sender = Sender(app.extensions["linli"].session_factory, twilio(fake), MemoryTokenBucket(100, 1),
                    poll_seconds=0.2)
    worker = threading.Thread(target=sender.run, daemon=True)
    worker.start()
    try:
        _wait("the reminder wave to start", lambda: len(fake.created) >= 20, 30)
        sos_at = time.monotonic()
        enqueue(session, world.worker_a.phone, "紧急求助：甲老人需要帮助", emergency=True)
        session.commit()
        sender.wake()
        first = _wait("the SOS at the provider", lambda: next(
            (c for c in list(fake.created) if "紧急求助" in c["form"].get("Body", "")), None), 10)
    finally:
        sender.stop.set()
        worker.join(10)
    reminders_before = sum(1 for c in fake.created if c["monotonic"] < first["monotonic"])
    waited = first["monotonic"] - sos_at
    print(f"\nSOS to its provider call with 15,000 reminders queued: {waited * 1000:.0f} ms "
          f"({reminders_before} reminders had gone before it, at 100 texts/s)")
    queued_left = session.scalar(select(func.count()).select_from(OutboundMessage)
                                 .where(OutboundMessage.status == "queued"))
    assert queued_left > 10_000  # the SOS did not wait for the wave


def test_a_status_callback_that_arrives_before_the_sid_is_saved_is_applied(app, client, session, world):
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    early_sid = "SM" + "e" * 32

    class ProviderThatCallsBackFirst:
        def send_sms(self, to, body, kind="notice"):
            # Twilio's "delivered" callback reaches us before `create` has answered.
            assert post_signed(client, "/twilio/status",
                               {"MessageSid": early_sid, "MessageStatus": "delivered"}).status_code == 204
            return early_sid

    message = enqueue(session, world.volunteer_a.person.phone, "早到的回执", elder_quiet_hours=False)
    session.commit()
    outbox.send_due(session, ProviderThatCallsBackFirst())
    session.expire_all()
    assert session.get(OutboundMessage, message.id).status == "delivered"
    assert session.get(EarlyStatusCallback, early_sid) is None  # applied, not left lying around


# --- two `linli sender` processes ------------------------------------------------------------------

def _linli_command() -> list[str]:
    script = Path(sys.executable).parent / "linli"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from portal.cli import main; main()"]


def _redis_url() -> str:
    try:
        import redis

        url = "redis://127.0.0.1:6379/13"
        redis.Redis.from_url(url, socket_timeout=1).ping()
        return url
    except Exception:
        return ""


def test_two_sender_processes_send_1000_messages_none_twice(tmp_path, fake):
    url = os.environ.get("LINLI_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'senders.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        _bulk_reminders(session, 1000, utcnow() - timedelta(seconds=1))
    redis_url = _redis_url()  # the provider's bucket shared by both processes, when Redis is there
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).delete("linli:provider-bucket")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("LINLI_", "TWILIO_", "FLASK_"))}
    env.update(LINLI_DATABASE_URL=url, LINLI_INSTANCE_PATH=str(tmp_path / "instance"), LINLI_ENV="development",
               LINLI_LOG_LEVEL="WARNING", TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=TOKEN,
               TWILIO_FROM_NUMBER="+8610690000000", TWILIO_API_BASE=fake.url, LINLI_REDIS_URL=redis_url,
               LINLI_PROVIDER_RATE_PER_SECOND="2000", LINLI_PROVIDER_BURST="50")
    started = time.perf_counter()
    processes = [subprocess.Popen([*_linli_command(), "sender", "--until-empty"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=240)[0])
        finally:
            if process.poll() is None:
                process.kill()
    elapsed = time.perf_counter() - started
    assert all(process.returncode == 0 for process in processes), outputs
    bodies = Counter(fake.bodies_created())
    assert len(bodies) == 1000 and set(bodies.values()) == {1}  # every one sent, none twice
    shares = [int(out.split("sender stopped: ")[1].split()[0]) for out in outputs]
    assert sum(shares) == 1000 and all(shares), shares  # both processes took part
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)
                              .where(OutboundMessage.status == "sent")) == 1000
    engine.dispose()
    print(f"\ntwo sender processes ({engine.dialect.name}, bucket {'Redis' if redis_url else 'per process'}): "
          f"1,000 texts in {elapsed:.1f} s including start-up = {1000 / elapsed:.0f} texts/s; split {shares}")


class TestTheDemosSenderThread:
    @pytest.fixture()
    def app_config(self, app_config):
        app_config.update(TWILIO_AUTH_TOKEN=TOKEN, LINLI_SENDER="thread")
        return app_config

    def test_a_text_queued_by_a_webhook_leaves_from_the_thread_within_a_second(self, committed, app, client, world,
                                                                               transport):
        from portal.channels.sender import start_sender_thread

        sender = start_sender_thread(app)
        try:
            started = time.perf_counter()
            assert text(client, world.elder_a.person.phone, "帮助").status_code == 200
            assert text(client, world.elder_a.person.phone, "救命").status_code == 200
            _wait("the alert from the sender thread",
                  lambda: any(m.kind == EMERGENCY_KIND for m in transport.sent), 5)
            print(f"\ndemo: SOS webhook to the console transport via the sender thread: "
                  f"{(time.perf_counter() - started) * 1000:.0f} ms")
        finally:
            sender.stop.set()
