"""Times that have passed are not offered by text or by call either (issue 11, point 5): at 16:12 in
Shanghai lunch and the morning of today are gone, so "今天" is not listed for them, the numbers in
the menu are those of the options shown, a typed or spoken "今天" is refused at once with the
question asked again, and a first text naming a time that has passed keeps everything else."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.channels import voice as voice_channel
from portal.channels.inbound import dispatch_sms
from portal.channels.twilio_hooks import sign
from portal.models import ConversationState, ServiceRequest
from tests.channels.helpers import TOKEN, shanghai

AFTERNOON = shanghai(2026, 12, 1, 16, 12)  # Tuesday: lunch (11:30), morning (9:00), afternoon (14:00) have passed
TOO_LATE = "这个时间已经过了"


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def sms(app, session, person, body, now=AFTERNOON):
    with app.test_request_context():
        reply = dispatch_sms(session, person, body, now)
        session.commit()
        return reply


def state_of(session, person):
    session.expire_all()
    return session.scalar(select(ConversationState).where(ConversationState.person_id == person.id))


def options(reply: str) -> list[str]:
    """The numbered lines of a question text ("1 明天" → "明天")."""
    return [line.split(" ", 1)[1] for line in reply.splitlines() if line[:1].isdigit() and " " in line]


def test_by_text_today_is_not_offered_for_lunch_and_1_is_the_first_day_shown(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    reply = sms(app, session, person, "1")  # lunch
    assert options(reply) == ["明天", "后天"]
    sms(app, session, person, "1")
    assert state_of(session, person).data["date"] == "2026-12-02"


def test_by_text_dinner_today_is_still_offered_at_four(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    assert options(sms(app, session, person, "2")) == ["今天", "明天", "后天"]


def test_by_text_a_typed_today_is_refused_at_once_and_the_question_asked_again(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "打扫")
    reply = sms(app, session, person, "今天")
    assert reply.startswith(TOO_LATE) and options(reply) == ["明天", "后天"]
    state = state_of(session, person)
    assert state.step == "date" and "date" not in state.data


def test_by_text_a_first_text_naming_a_passed_time_keeps_the_service_and_asks_the_day(app, session, world):
    person = world.elder_a.person
    reply = sms(app, session, person, "今天中午送饭")
    assert reply.startswith(TOO_LATE) and options(reply) == ["明天", "后天"]
    state = state_of(session, person)
    assert state.data == {"service": "meal", "meals": "lunch"} and state.step == "date"


def test_by_text_the_time_of_day_named_with_the_day_is_dropped_when_only_it_has_passed(app, session, world):
    person = world.elder_a.person
    morning = shanghai(2026, 12, 1, 10, 0)  # the afternoon of today is still open, the morning is not
    sms(app, session, person, "打扫", now=morning)
    reply = sms(app, session, person, "今天上午", now=morning)
    assert reply.startswith(TOO_LATE) and options(reply) == ["下午"]
    assert state_of(session, person).data == {"service": "cleaning", "date": "2026-12-01"}


def test_by_text_nothing_that_has_passed_reaches_the_check_or_the_volunteers(app, session, world):
    person = world.elder_a.person
    for body in ("订餐", "1", "今天", "1", "1", "1"):
        sms(app, session, person, body)
    state = state_of(session, person)
    assert state.data["date"] == "2026-12-02" and state.step == "check"
    assert "已收到" in sms(app, session, person, "1")
    placed = session.scalar(select(ServiceRequest).where(ServiceRequest.elder_id == world.elder_a.person_id))
    assert placed.scheduled_at.replace(tzinfo=AFTERNOON.tzinfo) > AFTERNOON


# --- voice -------------------------------------------------------------------------------

class Call:
    def __init__(self, client, person):
        self.client, self.person, self.turn = client, person, 1

    def post(self, path, form=None, query=None):
        url = path + ("?" + urlencode(query) if query else "")
        form = {"CallSid": "CA-late", "From": self.person.phone, **(form or {})}
        signature = sign("https://linli.example.org" + url, form, TOKEN)
        return self.client.post(url, data=form, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)

    def ring(self):
        return self.post("/twilio/voice")

    def press(self, key=None, speech=None):
        self.turn += 1
        form = {"Digits": key} if key else {"SpeechResult": speech, "Confidence": "0.9"}
        return self.post("/twilio/voice/answer", form, {"kind": "flow", "t": self.turn})


@pytest.fixture()
def call(client, world, monkeypatch):
    monkeypatch.setattr(voice_channel, "utcnow", lambda: AFTERNOON)
    return Call(client, world.elder_a.person)


def test_by_voice_today_is_not_offered_for_lunch_and_key_1_is_the_first_day_said(call, session, world):
    call.ring()
    call.press("1")  # a meal
    said = call.press("1")  # lunch
    assert "今天" not in said and "明天请按1" in said and "后天请按2" in said
    call.press("1")
    assert state_of(session, world.elder_a.person).data["date"] == "2026-12-02"


def test_by_voice_dinner_today_is_still_offered(call):
    call.ring()
    call.press("1")
    assert "今天请按1" in call.press("2")


def test_by_voice_a_spoken_today_is_refused_and_the_day_asked_again(call, session, world):
    call.ring()
    call.press("2")  # cleaning
    said = call.press(speech="今天")
    assert TOO_LATE in said and "明天请按1" in said and "今天请按" not in said
    assert "date" not in state_of(session, world.elder_a.person).data
