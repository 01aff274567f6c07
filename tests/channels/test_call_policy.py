"""Outbound calls that come back: quiet hours for elders, busy / no-answer retried at the policy's
pauses, an answering machine turns a reminder call into a text, and after the last failed try of
an urgent call the next person on the elder's list is called. The fake Twilio's scripted answers
drive it: each call it takes is answered as scripted and reported back as Twilio's status callback."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.channels import outbox
from portal.models import OutboundMessage, Pairing
from portal.services.outbox import enqueue
from tests.channels.helpers import TOKEN, post_signed, shanghai, twilio
from tests.factories import make_person

# What Twilio reports in its status callback for each scripted answer.
CALLBACKS = {"busy": ("busy", ""), "no-answer": ("no-answer", ""), "machine": ("completed", "machine_start"),
             "human": ("completed", "human")}


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def transport(fake):
    return twilio(fake)


class Provider:
    """Sends what is due at `now`, then reports each new call's scripted answer back to Linli."""

    def __init__(self, session, transport, fake):
        self.session, self.transport, self.fake, self.reported = session, transport, fake, 0

    def step(self, now: datetime) -> list[dict]:
        outbox.send_due(self.session, self.transport, now=now)
        calls = [c for c in self.fake.created if c["path"].endswith("/Calls.json")]
        new = calls[self.reported:]
        for created in new:
            status, answered_by = CALLBACKS[created["answer"] or "human"]
            outbox.receive_status(self.session, created["sid"], status, now=now, answered_by=answered_by)
        self.reported = len(calls)
        return new


def _calls_to(fake, phone: str) -> list[dict]:
    return [c for c in fake.created if c["path"].endswith("/Calls.json") and c["form"]["To"] == phone]


def test_busy_and_no_answer_are_retried_at_the_policy_pauses(session, world, transport, fake):
    elder = world.elder_a.person
    start = shanghai(2026, 11, 24, 10, 0)
    call = enqueue(session, elder.phone, "http://linli.test/twilio/voice/visit/1", kind="visit_confirm",
                   person=elder, channel="call", sms_fallback="志愿者今天来看过您吗？是请回复1", now=start)
    session.commit()
    fake.call_answers = ["busy", "no-answer", "busy", "human"]
    provider = Provider(session, transport, fake)
    placed_at = []
    for minutes in (0, 4, 5, 19, 20, 49, 50):  # pauses 5, 15, 30 minutes after each failed try
        if provider.step(start + timedelta(minutes=minutes)):
            placed_at.append(minutes)
    assert placed_at == [0, 5, 20, 50]
    session.refresh(call)
    assert call.status == "completed" and call.attempts == 4
    assert fake.created[0]["form"].get("MachineDetection") == "Enable"  # a reminder asks for detection


def test_an_answering_machine_turns_a_reminder_call_into_a_text(session, world, transport, fake):
    elder = world.elder_a.person
    now = shanghai(2026, 11, 24, 10, 0)
    call = enqueue(session, elder.phone, "http://linli.test/twilio/voice/visit/2", kind="visit_confirm",
                   person=elder, channel="call", sms_fallback="志愿者今天来看过您吗？是请回复1", now=now)
    session.commit()
    fake.call_answers = ["machine"]
    provider = Provider(session, transport, fake)
    provider.step(now)
    provider.step(now + timedelta(minutes=1))  # the text leaves; no second call
    session.refresh(call)
    assert call.status == "machine"
    assert len(_calls_to(fake, elder.phone)) == 1
    assert fake.bodies_created() == ["【邻里】志愿者今天来看过您吗？是请回复1"]  # every text names its sender


def test_quiet_hours_hold_a_call_to_an_elder_but_not_an_urgent_one(session, world, transport, fake):
    elder = world.elder_a.person
    evening = shanghai(2026, 11, 24, 20, 15)  # after the calls' quiet start (20:00), before texts' (21:00)
    reminder = enqueue(session, elder.phone, "明天上午义诊", person=elder, channel="call", now=evening)
    urgent = enqueue(session, elder.phone, "志愿者马上到", person=elder, channel="call", urgent=True, now=evening)
    session.commit()
    assert reminder.next_attempt_at == shanghai(2026, 11, 25, 8, 30)
    provider = Provider(session, transport, fake)
    provider.step(evening)
    assert [c["form"]["To"] for c in fake.created] == [elder.phone]  # only the urgent one
    provider.step(shanghai(2026, 11, 25, 8, 29))
    assert len(fake.created) == 1
    provider.step(shanghai(2026, 11, 25, 8, 30))
    assert len(fake.created) == 2
    session.refresh(urgent)
    assert urgent.status == "completed"


def test_after_an_urgent_calls_last_failure_the_next_person_on_her_list_is_called(session, world, transport, fake):
    elder = world.elder_a
    son = make_person(session, "甲儿子")
    elder.emergency_contacts = [{"name": son.name, "phone": son.phone, "relation": "儿子"}]
    session.add(Pairing(volunteer_id=world.volunteer_a.person_id, elder_id=elder.person_id))
    session.commit()
    now = shanghai(2026, 11, 24, 23, 0)  # at night: urgent calls are not held
    enqueue(session, son.phone, "您母亲需要帮助，请回电", person=son, channel="call", urgent=True,
            about_elder=elder.person, chain_key="test:chain", now=now)
    session.commit()
    # The son: busy four times (three retries); then the paired volunteer: no answer four times;
    # then the worker answers.
    fake.call_answers = ["busy"] * 4 + ["no-answer"] * 4 + ["human"]
    provider = Provider(session, transport, fake)
    for minutes in range(0, 200, 5):
        provider.step(now + timedelta(minutes=minutes))
    assert len(_calls_to(fake, son.phone)) == 4
    assert len(_calls_to(fake, world.volunteer_a.person.phone)) == 4
    assert len(_calls_to(fake, world.worker_a.phone)) == 1
    order = [c["form"]["To"] for c in fake.created]
    assert order.index(world.worker_a.phone) > max(i for i, to in enumerate(order) if to != world.worker_a.phone)
    chain = session.scalars(select(OutboundMessage).where(OutboundMessage.chain_key == "test:chain")).all()
    assert [m.status for m in chain] == ["busy", "no-answer", "completed"]


def test_the_status_webhook_passes_answered_by(client, session, world):
    from tests.channels.helpers import new_sid

    elder = world.elder_a.person
    call = enqueue(session, elder.phone, "提醒电话", person=elder, channel="call", sms_fallback="提醒短信",
                   elder_quiet_hours=False)
    session.commit()
    sid = new_sid("CA")
    call.status, call.provider_sid, call.attempts = "sent", sid, 1
    session.commit()
    response = post_signed(client, "/twilio/status",
                           {"CallSid": sid, "CallStatus": "completed", "AnsweredBy": "machine_end_beep"})
    assert response.status_code == 204
    session.expire_all()
    assert session.get(OutboundMessage, call.id).status == "machine"
    texts = session.scalars(select(OutboundMessage).where(OutboundMessage.channel == "sms")).all()
    assert [m.body for m in texts] == ["【邻里】提醒短信"]
