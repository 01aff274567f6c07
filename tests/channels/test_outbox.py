"""The outbox: provider outages and time-outs against a fake Twilio API, quiet hours, opt-out at
send time, bounded call retries, the status callback and the send-outbox job."""
from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.channels import outbox
from portal.db import utcnow
from portal.models import OutboundMessage
from portal.services.inbox import set_contact_status
from portal.services.outbox import enqueue
from tests.channels.helpers import TOKEN, new_sid, post_signed, shanghai, twilio


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def statuses(session) -> list[str]:
    session.expire_all()
    return [m.status for m in session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_nothing_is_lost_while_the_provider_is_down_and_each_text_is_sent_once(session, world, fake):
    transport = twilio(fake)
    now = shanghai(2026, 11, 22, 10, 0)
    volunteer = world.volunteer_a.person
    for number in range(3):
        enqueue(session, volunteer.phone, f"通知 {number}", now=now)
    session.commit()

    fake.down = True
    assert outbox.send_due(session, transport, now=now) == 3
    assert statuses(session) == ["queued"] * 3  # 500: kept for a retry
    assert outbox.send_due(session, transport, now=now + timedelta(seconds=10)) == 0  # backing off
    assert outbox.send_due(session, transport, now=now + timedelta(seconds=31)) == 3  # still down
    assert fake.created == [] and len(fake.requests) == 6

    fake.down = False
    later = now + timedelta(minutes=5)
    assert outbox.send_due(session, transport, now=later) == 3
    assert statuses(session) == ["sent"] * 3
    assert outbox.send_due(session, transport, now=later + timedelta(hours=1)) == 0
    assert Counter(fake.bodies_created()) == {"【邻里】通知 0": 1, "【邻里】通知 1": 1, "【邻里】通知 2": 1}
    message = session.scalars(select(OutboundMessage)).first()
    assert message.attempts == 3 and message.provider_sid.startswith("SM") and message.last_error is None
    assert fake.created[0]["form"]["To"] == volunteer.phone and fake.created[0]["form"]["From"] == "+8610690000000"


def test_429_is_retried_and_other_4xx_fail_at_once(session, world, fake):
    transport = twilio(fake)
    now = shanghai(2026, 11, 22, 10, 0)
    enqueue(session, world.volunteer_a.person.phone, "too many", now=now)
    session.commit()
    fake.down, fake.down_status = True, 429
    outbox.send_due(session, transport, now=now)
    assert statuses(session) == ["queued"]

    fake.down_status = 400  # e.g. an invalid number: retrying cannot help
    outbox.send_due(session, transport, now=now + timedelta(minutes=1))
    assert statuses(session) == ["failed"]
    assert outbox.send_due(session, transport, now=now + timedelta(hours=1)) == 0
    failed = session.scalars(select(OutboundMessage)).one()
    assert "400" in failed.last_error and failed.attempts == 2


def test_a_provider_that_keeps_failing_gives_up_after_the_last_attempt(session, world, fake):
    transport = twilio(fake)
    now = shanghai(2026, 11, 22, 10, 0)
    enqueue(session, world.volunteer_a.person.phone, "x", now=now)
    session.commit()
    fake.down = True
    for _ in range(10):
        now += timedelta(hours=1)
        outbox.send_due(session, transport, now=now)
    assert statuses(session) == ["failed"]
    assert len(fake.requests) == 6  # policy messages.max_attempts


def test_a_time_out_is_looked_up_at_the_provider_and_never_sent_twice(session, world, fake):
    transport = twilio(fake, timeout=0.5)
    now = shanghai(2026, 11, 22, 10, 0)
    enqueue(session, world.volunteer_a.person.phone, "慢", now=now)
    session.commit()
    fake.delay_next = 1.0  # Twilio takes the text but answers after our time-out
    outbox.send_due(session, transport, now=now)
    message = session.scalars(select(OutboundMessage)).one()
    assert message.status == "unknown" and "unreachable" in message.last_error
    assert message.next_attempt_at > now
    deadline = time.monotonic() + 5
    while not fake.created and time.monotonic() < deadline:
        time.sleep(0.05)
    outbox.send_due(session, transport, now=now + timedelta(minutes=1))
    assert statuses(session) == ["sent"]
    session.refresh(message)
    # Found in Twilio's list of messages to that number: recorded, not sent again.
    assert message.provider_sid == fake.created[0]["sid"] and len(fake.created) == 1
    assert [r.get("method", "POST") for r in fake.requests] == ["POST", "GET"]


def test_a_time_out_the_provider_has_no_record_of_is_sent_again(session, world, fake):
    transport = twilio(fake, timeout=0.5)
    now = shanghai(2026, 11, 22, 10, 0)
    enqueue(session, world.volunteer_a.person.phone, "再试", now=now)
    session.commit()
    fake.down, fake.delay_next = True, 1.0  # timed out, and Twilio did not take it
    outbox.send_due(session, transport, now=now)
    assert statuses(session) == ["unknown"]
    fake.down = False
    outbox.send_due(session, transport, now=now + timedelta(minutes=1))
    assert statuses(session) == ["sent"] and fake.bodies_created() == ["【邻里】再试"]


def test_a_login_code_is_never_sent_twice(session, world, fake):
    transport = twilio(fake, timeout=0.5)
    now = utcnow()
    enqueue(session, world.volunteer_a.person.phone, "Linli login code: 123456", kind="login_code", now=now)
    session.commit()
    fake.down, fake.delay_next = True, 1.0
    outbox.send_due(session, transport, now=now)
    assert statuses(session) == ["unknown"]
    fake.down = False
    outbox.send_due(session, transport, now=now + timedelta(seconds=15))
    message = session.scalars(select(OutboundMessage)).one()
    assert message.status == "failed" and message.body == "[login code]"
    assert fake.created == []  # not found at the provider, and not sent blindly again
    assert outbox.send_due(session, transport, now=now + timedelta(minutes=1)) == 0


def test_quiet_hours_hold_an_elders_ordinary_text_until_eight(session, world, transport):
    elder = world.elder_a.person
    evening = shanghai(2026, 11, 22, 22, 30)
    ordinary = enqueue(session, elder.phone, "明天上午社区有义诊", person=elder, now=evening)
    urgent = enqueue(session, elder.phone, "志愿者马上到", person=elder, urgent=True, now=evening)
    to_volunteer = enqueue(session, world.volunteer_a.person.phone, "新的请求", now=evening)
    session.commit()
    assert ordinary.next_attempt_at == shanghai(2026, 11, 23, 8, 0)

    outbox.send_due(session, transport, now=evening)
    assert [m.body for m in transport.sent] == ["【邻里】志愿者马上到", "【邻里】新的请求"]  # every text names its sender
    outbox.send_due(session, transport, now=shanghai(2026, 11, 23, 7, 59))
    assert len(transport.sent) == 2
    outbox.send_due(session, transport, now=shanghai(2026, 11, 23, 8, 0))
    assert [m.body for m in transport.sent][-1] == "【邻里】明天上午社区有义诊"
    session.refresh(urgent)
    assert urgent.quiet_hours is False


def test_a_late_sender_does_not_wake_an_elder(session, world, transport):
    elder = world.elder_a.person
    message = enqueue(session, elder.phone, "提醒", person=elder, now=shanghai(2026, 11, 22, 20, 50),
                             elder_quiet_hours=True)
    session.commit()
    # The sender was down from 20:50 and catches up at 23:10: the text waits for the morning.
    outbox.send_due(session, transport, now=shanghai(2026, 11, 22, 23, 10))
    session.refresh(message)
    assert len(transport.sent) == 0
    assert message.status == "queued" and message.attempts == 0
    assert message.next_attempt_at == shanghai(2026, 11, 23, 8, 0)


def test_busy_and_unanswered_calls_are_retried_a_bounded_number_of_times(client, session, world, transport):
    elder = world.elder_a.person
    now = utcnow()  # the status callback is handled at the real time
    call = enqueue(session, elder.phone, "您有一个新的服务请求", channel="call", urgent=True, now=now)
    session.commit()
    placed = []
    for answer in ("busy", "no-answer", "no-answer", "busy"):
        outbox.send_due(session, transport, now=now)
        session.refresh(call)
        assert call.status == "sent"
        placed.append(call.provider_sid)
        response = post_signed(client, "/twilio/status", {"CallSid": call.provider_sid, "CallStatus": answer})
        assert response.status_code == 204
        session.refresh(call)
        now += timedelta(minutes=40)
    assert len(set(placed)) == 4 and [r.channel for r in transport.sent] == ["call"] * 4
    assert call.status == "busy" and call.attempts == 4  # three retries (policy call_retry_minutes)
    assert outbox.send_due(session, transport, now=now + timedelta(hours=1)) == 0


def test_status_only_moves_forward(client, session, world, transport):
    message = enqueue(session, world.volunteer_a.person.phone, "hi", elder_quiet_hours=False)
    session.commit()
    outbox.send_due(session, transport)
    session.refresh(message)
    sid = message.provider_sid
    assert post_signed(client, "/twilio/status", {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 204
    assert post_signed(client, "/twilio/status", {"MessageSid": sid, "MessageStatus": "sent"}).status_code == 204
    assert post_signed(client, "/twilio/status", {"MessageSid": sid, "MessageStatus": "queued"}).status_code == 204
    session.refresh(message)
    assert message.status == "delivered"
    # unknown sids and statuses are ignored; unsigned callbacks refused
    assert post_signed(client, "/twilio/status", {"MessageSid": new_sid(), "MessageStatus": "delivered"}).status_code == 204
    assert post_signed(client, "/twilio/status", {"MessageSid": sid, "MessageStatus": "exploded"}).status_code == 204
    assert client.post("/twilio/status", data={"MessageSid": sid, "MessageStatus": "failed"}).status_code == 403
    session.refresh(message)
    assert message.status == "delivered"


def test_opt_out_after_enqueue_is_honoured_at_send_time(session, world, transport):
    phone = world.volunteer_a.person.phone
    message = enqueue(session, phone, "活动", elder_quiet_hours=False)
    session.commit()
    set_contact_status(session, phone, "stopped", utcnow())
    session.commit()
    outbox.send_due(session, transport)
    session.refresh(message)
    assert message.status == "opted_out" and len(transport.sent) == 0
    assert enqueue(session, phone, "again") is None
    assert enqueue(session, phone, "Linli login code: 123456", kind="login_code", urgent=True) is not None


def test_the_send_outbox_job_sends_what_is_due(app, session, world, transport):
    from jobs.registry import load_jobs

    jobs = load_jobs()
    assert jobs["send-outbox"].trigger == "interval" and jobs["send-outbox"].trigger_args["seconds"] <= 10
    now = shanghai(2026, 11, 22, 10, 0)
    enqueue(session, world.volunteer_a.person.phone, "job", now=now)
    session.commit()
    session.info["transport"] = transport
    assert jobs["send-outbox"].fn(session, now) == {"attempted": 1}
    assert jobs["send-outbox"].fn(session, now) == {"attempted": 0}  # idempotent
    assert [m.body for m in transport.sent] == ["[Linli] job"]
