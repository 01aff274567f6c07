"""Calling off an emergency by text and by call (issue 11, point 9 beyond the web): the 救命 reply says
how ("按错了请在2分钟内回2"); 2 or 按错了 within the window stands the alarm down and everyone alerted is
told; after it, the elder is given the community hotline; an emergency word always raises the alarm."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.models import OutboundMessage, Pairing, ServiceRequest
from portal.services import emergencies
from tests.channels.helpers import TOKEN, post_signed, reply_of, text
from tests.page_text import texts

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def clock(monkeypatch):
    now = {"t": T0}
    for module in ("portal.channels.sms_webhook", "portal.channels.voice"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now["t"])
    return now


@pytest.fixture()
def alarmed(world, session):
    world.elder_a.emergency_contacts = [{"name": "王强", "phone": "+8613911112222", "relation": "儿子"}]
    session.add(Pairing(volunteer_id=world.volunteer_a.person_id, elder_id=world.elder_a.person_id))
    session.commit()
    return world


def the_emergency(session, elder_id) -> ServiceRequest | None:
    session.expire_all()
    return session.scalar(select(ServiceRequest).where(ServiceRequest.elder_id == elder_id,
                                                       ServiceRequest.service == "emergency"))


def called_off_texts(session, phone) -> list[str]:
    session.expire_all()
    return [m.body for m in session.scalars(select(OutboundMessage).where(
        OutboundMessage.to_phone == phone, OutboundMessage.channel == "sms",
        OutboundMessage.dedupe_key.like("%sos-stood-down%")))]


@pytest.mark.parametrize("word", ["2", "按错了", "打错了", "不用了", "没事", "取消", "mistake"])
def test_a_text_within_two_minutes_calls_it_off_and_everyone_alerted_is_told(alarmed, client, session, clock,
                                                                              word):
    phone = alarmed.elder_a.person.phone
    first = reply_of(text(client, phone, "救命"))
    assert "120" in first and "按错了请在2分钟内回2" in first
    alarm = the_emergency(session, alarmed.elder_a.person_id)
    assert emergencies.state_of(session, alarm).state == "alerted"
    clock["t"] = T0 + timedelta(seconds=90)
    answer = reply_of(text(client, phone, word))
    assert "已取消" in answer and "没看懂" not in answer
    session.expire_all()
    assert emergencies.state_of(session, alarm).state == "stood_down"
    assert alarm.status == "cancelled"
    for alerted in ("+8613911112222", alarmed.volunteer_a.person.phone):
        assert any("按错" in body and "不用上门" in body for body in called_off_texts(session, alerted)), alerted


def test_after_the_window_a_text_cannot_call_it_off_and_gives_the_hotline(alarmed, client, session, clock):
    phone = alarmed.elder_a.person.phone
    text(client, phone, "救命")
    clock["t"] = T0 + timedelta(minutes=3)
    answer = reply_of(text(client, phone, "按错了"))
    assert "短信取消" in answer and "12349" in answer and "没看懂" not in answer
    assert emergencies.state_of(session, the_emergency(session, alarmed.elder_a.person_id)).state == "alerted"
    assert called_off_texts(session, "+8613911112222") == []


def test_an_emergency_word_still_raises_the_alarm_after_calling_off(alarmed, client, session, clock):
    phone = alarmed.elder_a.person.phone
    text(client, phone, "救命")
    text(client, phone, "2")
    clock["t"] = T0 + timedelta(minutes=1)
    again = reply_of(text(client, phone, "按错了 不对 救命"))
    assert "正在通知" in again
    session.expire_all()
    alarms = session.scalars(select(ServiceRequest).where(ServiceRequest.elder_id == alarmed.elder_a.person_id,
                                                          ServiceRequest.service == "emergency")).all()
    assert len(alarms) == 2 and {a.status for a in alarms} == {"cancelled", "open"}


def test_a_2_without_an_alarm_is_not_a_call_off(alarmed, client, session, clock):
    reply = reply_of(text(client, alarmed.elder_a.person.phone, "按错了"))
    assert "已取消" not in (reply or "")
    assert the_emergency(session, alarmed.elder_a.person_id) is None


def voice(client, path, form, query=None):
    url = path + ("?" + urlencode(query) if query else "")
    return post_signed(client, url, form)


def said(response) -> str:
    return " ".join(texts(response.get_data(as_text=True), "say"))


def _alarm_by_call(client, elder_phone):
    call = {"CallSid": "CAoff1", "From": elder_phone}
    voice(client, "/twilio/voice", call)
    voice(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "flow", "t": 2})
    raised = voice(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "sos", "t": 3})
    return call, raised.get_data(as_text=True)


def test_on_a_call_2_after_the_alarm_calls_it_off(alarmed, client, session, clock):
    call, xml = _alarm_by_call(client, alarmed.elder_a.person.phone)
    assert "120" in xml and "如果按错了，请按2" in xml and "kind=sos_off" in xml
    alarm = the_emergency(session, alarmed.elder_a.person_id)
    assert alarm is not None
    clock["t"] = T0 + timedelta(seconds=30)
    off = said(voice(client, "/twilio/voice/answer", {**call, "Digits": "2"},
                     {"kind": "sos_off", "t": 4, "req": alarm.id}))
    assert "已取消" in off
    session.expire_all()
    assert emergencies.state_of(session, alarm).state == "stood_down"
    assert any("不用上门" in body for body in called_off_texts(session, "+8613911112222"))


@pytest.mark.parametrize("after", [{}, {"Digits": "1"}], ids=["silence", "another key"])
def test_on_a_call_silence_after_the_alarm_puts_her_through_to_a_person(alarmed, client, session, clock, after):
    call, _xml = _alarm_by_call(client, alarmed.elder_a.person.phone)
    alarm = the_emergency(session, alarmed.elder_a.person_id)
    query = {"kind": "sos_off", "t": 4, "req": alarm.id, **({} if after else {"silent": 1})}
    xml = voice(client, "/twilio/voice/answer", {**call, **after}, query).get_data(as_text=True)
    assert "<Dial" in xml
    assert emergencies.state_of(session, alarm).state == "alerted"


def test_on_a_call_2_after_the_window_does_not_call_it_off(alarmed, client, session, clock):
    call, _xml = _alarm_by_call(client, alarmed.elder_a.person.phone)
    alarm = the_emergency(session, alarmed.elder_a.person_id)
    clock["t"] = T0 + timedelta(minutes=3)
    xml = voice(client, "/twilio/voice/answer", {**call, "Digits": "2"},
                {"kind": "sos_off", "t": 4, "req": alarm.id}).get_data(as_text=True)
    assert "<Dial" in xml
    assert emergencies.state_of(session, alarm).state == "alerted"
