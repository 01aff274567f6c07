"""The sender claims and records in batches (issue 16: outbox throughput): two commits a batch,
not two a message; the most urgent still leave first; nothing is sent twice; at a slow provider
rate a batch is one message, so an emergency alert never waits behind a long claimed batch."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from portal.channels.sender import MAX_BATCH, Sender
from portal.channels.transport import ConsoleTransport
from portal.db import Base, make_engine, make_session_factory, utcnow
from portal.models import OutboundMessage
from portal.ratelimit import MemoryTokenBucket
from portal.services.outbox import EMERGENCY_KIND, enqueue


def _outbox(tmp_path, notices: int):
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    Base.metadata.create_all(engine)
    earlier = utcnow() - timedelta(minutes=1)
    with make_session_factory(engine)() as session:
        for i in range(notices):
            enqueue(session, f"+86139{i:08d}", f"通知 {i}", kind="notice", elder_quiet_hours=False, now=earlier)
        enqueue(session, "+8613800000001", "紧急", emergency=True)
        session.commit()
    return engine


def test_a_fast_provider_gets_batches_with_one_commit_each(tmp_path):
    engine = _outbox(tmp_path, 60)
    commits = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    transport = ConsoleTransport()
    sender = Sender(make_session_factory(engine), transport, MemoryTokenBucket(rate=1000, burst=100))
    assert sender.batch_size == MAX_BATCH
    assert sender.run(until_empty=True) == 61
    assert transport.sent[0].kind == EMERGENCY_KIND  # the emergency lane first, batches or not
    assert len({(m.to, m.body) for m in transport.sent}) == len(transport.sent) == 61
    assert len(commits) <= 3 * (61 // MAX_BATCH + 1) + 2, len(commits)  # was two per message (122)
    with make_session_factory(engine)() as session:
        assert set(session.scalars(select(OutboundMessage.status))) == {"sent"}
        assert all(session.scalars(select(OutboundMessage.provider_sid)))
    engine.dispose()


def test_at_one_message_a_second_a_batch_is_one_message(tmp_path):
    engine = _outbox(tmp_path, 1)
    sender = Sender(make_session_factory(engine), ConsoleTransport(), MemoryTokenBucket(rate=1, burst=5))
    assert sender.batch_size == 1
    engine.dispose()
