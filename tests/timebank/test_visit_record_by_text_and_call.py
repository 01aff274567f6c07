"""The 探访 visit record by text and by call after check-out: short numbered questions, one per text
or prompt, answered with a digit (the pending-questions model); a gas hazard opens a follow-up."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.channels.inbound import dispatch_sms
from portal.channels.twilio_hooks import sign
from portal.conversation.understand import read_choice
from portal.models import FollowUp, PendingQuestion, VisitRecord
from portal.services import visit_record_questions as record_questions
from portal.services import visits as visit_service
from portal.services.visit_records import HEADINGS
from tests.channels.helpers import TOKEN
from tests.timebank.helpers import T0

# the answers, in the order asked: all fine, but a gas hazard (3rd choice of "gas"); "needs" is
# asked in two parts (nothing more / something, then the four needs)
FINE_BUT_GAS = {"gas": 3}


def keys_for(answers: dict[str, int]) -> list[str]:
    keys = []
    for heading in HEADINGS:
        keys.append(str(answers.get(heading.key, 1)))
    return keys


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def sms(app, session, person, text, now):
    with app.test_request_context("/twilio/sms", method="POST"):
        reply = dispatch_sms(session, person, text, now)
        session.commit()
        return reply


@pytest.mark.parametrize("raw, expected", [("2", 2), ("２", 2), ("二", 2), ("选2", 2), ("第2个", 2), ("6", None),
                                           ("0", None), ("救命", None), ("好的", None), ("", None)])
def test_a_numbered_choice_is_read_from_a_short_reply(raw, expected):
    assert read_choice(raw, 5) == expected


def test_no_question_offers_more_than_four_keys():
    answers: dict[str, str] = {}
    asked = []
    while (question := record_questions.next_question(answers)) is not None:
        assert 2 <= len(question.options) <= 4
        asked.append(question.code)
        answers[question.key] = question.options[-1][0]  # the last choice: "something" opens part two
    assert asked[-2:] == ["needs-first", "needs"] and len(asked) == len(HEADINGS) + 1


def test_the_record_by_text_after_checking_out_by_text(app, world, session):
    volunteer, elder = world.volunteer_a.person, world.elder_a
    code = elder.door_code
    sms(app, session, volunteer, f"到 {code}", T0)
    reply = sms(app, session, volunteer, f"走 {code}", T0 + timedelta(minutes=40))
    assert "40" in reply and "探访记录1/11：身体状况如何？回复1良好" in reply
    pending = session.get(PendingQuestion, volunteer.id)
    assert pending.kind == "visit_record" and pending.answers == {}

    # a reply that is not one of the numbers gets the same question again
    again = sms(app, session, volunteer, "9", T0 + timedelta(minutes=41))
    assert "请回复其中一个数字" in again and "1/11" in again
    # a long text that is not a number is not taken as an answer
    assert "1/11" not in (sms(app, session, volunteer, "我明天再去看看她", T0 + timedelta(minutes=41)) or "")

    replies = [sms(app, session, volunteer, key, T0 + timedelta(minutes=42 + index))
               for index, key in enumerate(keys_for(FINE_BUT_GAS))]  # the last: needs, 1 nothing more
    assert "2/11" in replies[0] and "11/11" in replies[-2]
    assert "探访记录已保存" in replies[-1] and "1项已交给社区工作人员跟进" in replies[-1]
    record = session.scalars(select(VisitRecord)).one()
    assert record.channel == "sms" and record.answers["gas"] == "hazard" and record.answers["needs"] == "none"
    follow_up = session.scalars(select(FollowUp).where(FollowUp.reason == "record:gas")).one()
    assert follow_up.due_at is not None
    assert session.get(PendingQuestion, volunteer.id) is None
    # a later digit answers nothing about the visit
    assert session.scalar(select(func.count(VisitRecord.id))) == 1


def test_every_text_of_the_record_fits_one_segment(app, world, session):
    from portal.services.sms_text import signed

    answers: dict[str, str] = {}
    while (question := record_questions.next_question(answers)) is not None:
        text = signed(record_questions.question_text(question, "zh_Hans", "sms"))
        assert len(text) <= 70, text
        english = record_questions.question_text(question, "en", "sms")
        assert re.match(r"Visit record \d+/11: ", english), english
        answers[question.key] = question.options[-1][0]


def _call(client, person, url, digits=None, sid="CA-record"):
    form = {"CallSid": sid, "From": person.phone}
    if digits is not None:
        form["Digits"] = digits
    signature = sign("https://linli.example.org" + url, form, TOKEN)
    xml = client.post(url, data=form, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)
    root = ET.fromstring(xml)
    gather = next(root.iter("Gather"), None)
    return xml, (gather.get("action") if gather is not None else None)


def checked_out(session, world, minutes=40):
    from portal.db import utcnow

    volunteer = world.volunteer_a.person
    start = utcnow() - timedelta(hours=1)
    visit = visit_service.check_in(session, volunteer, world.elder_a, "door_code", start)
    visit_service.check_out(session, visit, volunteer, start + timedelta(minutes=minutes), "door_code")
    session.commit()
    return visit


def test_the_record_by_call_with_keys_a_retry_answers_nothing_twice(app, world, session, client):
    volunteer = world.volunteer_a.person
    visit = checked_out(session, world)
    xml, action = _call(client, volunteer, "/twilio/voice")  # she calls Linli's number
    assert "/twilio/voice/record" in xml
    xml, action = _call(client, volunteer, "/twilio/voice/record")
    assert "第1题，共11题。身体状况如何？良好请按1" in xml and xml.count("有急事请按9，找工作人员请按0") == 1
    first_action = action
    xml, action = _call(client, volunteer, action, "1")
    assert "第2题" in xml
    # Twilio retries the first answer: the second question is asked again, nothing is answered twice
    xml, _again = _call(client, volunteer, first_action, "1")
    assert "第2题" in xml
    assert session.get(PendingQuestion, volunteer.id).answers == {"health": "good"}
    for key in keys_for(FINE_BUT_GAS)[1:-1]:
        xml, action = _call(client, volunteer, action, key)
    assert "第11题" in xml and "有需要请按2" in xml
    xml, action = _call(client, volunteer, action, "2")     # something: the four needs
    assert "生活照料请按1" in xml
    xml, action = _call(client, volunteer, action, "4")     # home adaptation
    assert "探访记录已保存" in xml and "2项" in xml and action is None
    record = session.scalars(select(VisitRecord).where(VisitRecord.visit_id == visit.id)).one()
    assert record.channel == "call" and record.answers["needs"] == "adaptation"
    reasons = set(session.scalars(select(FollowUp.reason).where(FollowUp.visit_id == visit.id)))
    assert reasons == {"record:gas", "record:needs"}
    # nothing left to record: a call now hears the hotline like any caller
    xml, _ = _call(client, volunteer, "/twilio/voice", sid="CA-later")
    assert "/twilio/voice/record" not in xml


def test_a_call_left_half_way_is_finished_by_text(app, world, session, client):
    volunteer = world.volunteer_a.person
    checked_out(session, world)
    _xml, action = _call(client, volunteer, "/twilio/voice/record")
    for key in ("1", "1", "1"):
        _xml, action = _call(client, volunteer, action, key)
    from portal.db import utcnow

    reply = sms(app, session, volunteer, "2", utcnow())
    assert "5/11" in reply
    assert session.get(PendingQuestion, volunteer.id).answers == {"health": "good", "mood": "good", "food": "yes",
                                                                  "medicine": "no"}


def test_0_reaches_a_person_and_9_raises_the_alarm_for_the_elder_visited(app, world, session, client):
    from portal.models import ServiceRequest

    volunteer = world.volunteer_a.person
    checked_out(session, world)
    _xml, action = _call(client, volunteer, "/twilio/voice/record")
    xml, _ = _call(client, volunteer, action, "0")
    assert "<Dial>" in xml
    xml, sos = _call(client, volunteer, action, "9")
    assert "要为甲老人紧急求助吗" in xml
    _call(client, volunteer, sos, "9")
    alarm = session.scalars(select(ServiceRequest).where(ServiceRequest.service == "emergency")).one()
    assert alarm.elder_id == world.elder_a.person_id
    assert session.scalar(select(func.count(VisitRecord.id))) == 0


def test_a_volunteer_who_checked_out_on_the_web_asks_for_the_record_by_text(app, world, session):
    from portal.db import utcnow

    volunteer = world.volunteer_a.person
    assert "没有需要记录的探访了" in sms(app, session, volunteer, "记录", utcnow())
    checked_out(session, world)
    reply = sms(app, session, volunteer, "记录", utcnow())
    assert reply.startswith("探访记录1/11：")
    assert "2/11" in sms(app, session, volunteer, "1", utcnow())
    # "记录" again carries on where she left off
    assert "2/11" in sms(app, session, volunteer, "记录", utcnow())
    # an elder texting 记录 is not a volunteer: nothing here answers her
    assert "探访记录" not in (sms(app, session, world.elder_b.person, "记录", utcnow()) or "")
