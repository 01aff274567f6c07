"""Every TwiML prompt Linli speaks follows the prompt rules (issue 17):

* at most four options, each said option first and key second (送饭请按1, never 请按1送饭);
* every prompt that waits for a key ends with 有急事请按9，找工作人员请按0 — and those keys work;
* references, phone numbers and 120 are read digit by digit (SSML say-as), times as 上午9点半,
  dates without the year; the call does not open with the elder's name.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.channels.twilio_hooks import sign
from portal.db import utcnow
from portal.models import ConversationState, ServiceRequest, Visit
from portal.services import requests as service_requests
from portal.services import visits as visit_service
from tests.channels.helpers import TOKEN

CLOSING = "有急事请按9，找工作人员请按0。"
OPTION_KEY = re.compile(r"请按(\d)")


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


class Call:
    def __init__(self, client, person, sid):
        self.client, self.person, self.sid = client, person, sid
        self.prompts: list[tuple[str, ET.Element]] = []  # (what a <Gather> says, the <Say>)
        self.spoken: list[ET.Element] = []
        self.action = None

    def post(self, url, extra=None):
        form = {"CallSid": self.sid, "From": self.person.phone, **(extra or {})}
        signature = sign("https://linli.example.org" + url, form, TOKEN)
        xml = self.client.post(url, data=form, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)
        root = ET.fromstring(xml)
        self.spoken += list(root.iter("Say"))
        self.action = None
        for gather in root.iter("Gather"):
            for say in gather.iter("Say"):
                self.prompts.append(("".join(say.itertext()), say))
            self.action = gather.get("action")
        return xml

    def ring(self):
        return self.post("/twilio/voice")

    def press(self, key=None, speech=None, confidence="0.9"):
        extra = {"Digits": key} if key else {"SpeechResult": speech, "Confidence": confidence}
        return self.post(self.action, extra)


def volunteer_finishes(app, session, world, request) -> None:
    with app.app_context():
        volunteer = world.volunteer_a.person
        service_requests.accept(session, request.id, volunteer, utcnow())
        service_requests.start(session, request, volunteer, utcnow())
        service_requests.finish(session, request, volunteer, utcnow())
        session.commit()


def finished_visit(app, session, world) -> Visit:
    with app.app_context():
        volunteer = world.volunteer_a.person
        visit = visit_service.check_in(session, volunteer, world.elder_a, "door_code", utcnow() - timedelta(hours=1))
        visit_service.check_out(session, visit, volunteer, utcnow(), "door_code")
        session.commit()
    return visit


def every_prompt(app, session, world, client) -> list[Call]:
    person = world.elder_a.person
    calls = []
    for number, keys in enumerate([["1", "3", "2", "3", "1"], ["2", "1", "2", "1"], ["3", "2", "1", "2", "1", "2"],
                                   ["4", "1", "1", "2"]]):
        session.execute(delete(ConversationState))  # each walk starts afresh
        session.commit()
        call = Call(client, person, f"CA-walk-{number}")
        call.ring()
        for key in keys:
            call.press(key)
        calls.append(call)
    # speech: low confidence, a switch of service, a person
    call = Call(client, person, "CA-speech")
    call.ring()
    call.press(speech="订餐", confidence="0.3")
    call.press("1")
    call.press(speech="我要洗澡")
    calls.append(call)
    # a family order to keep or refuse; a finished request to confirm, then rate
    with app.app_context():
        order = service_requests.create_request(session, world.elder_a, world.family_a, "web", "cleaning", {},
                                                utcnow() + timedelta(days=1), utcnow())
        session.commit()
    call = Call(client, person, "CA-family")
    call.ring()
    calls.append(call)
    with app.app_context():
        service_requests.refuse(session, order, person, "web", utcnow())
        own = service_requests.create_request(session, world.elder_a, person, "web", "meal", {"meals": "lunch"},
                                              utcnow() + timedelta(days=1), utcnow())
        session.commit()
    volunteer_finishes(app, session, world, own)
    call = Call(client, person, "CA-done")
    call.ring()
    call.press("1")
    calls.append(call)
    # the visit-confirmation call Linli makes
    visit = finished_visit(app, session, world)
    call = Call(client, person, "CA-visit")
    call.post(f"/twilio/voice/visit/{visit.id}")
    calls.append(call)
    # the volunteer gives the 探访 record of that visit by call, a key per question (needs: part two)
    call = Call(client, world.volunteer_a.person, "CA-record")
    assert "/twilio/voice/record" in call.ring()
    call.post("/twilio/voice/record")
    for key in ["1"] * 10 + ["2", "1"]:
        call.press(key)
    calls.append(call)
    return calls


def test_every_prompt_follows_the_rules(app, session, world, client):
    calls = every_prompt(app, session, world, client)
    prompts = [prompt for call in calls for prompt in call.prompts]
    assert len(prompts) >= 20
    for text, say in prompts:
        assert text.endswith(CLOSING), text
        options = [key for key in OPTION_KEY.findall(text) if key not in "908"]
        assert len(options) <= 4, text
        assert len(set(options)) == len(options), text
        # option first, key second: no clause starts with the key
        assert not re.search(r"(^|[。，？！\s])请?按\d", text), text
    for say in (say for call in calls for say in call.spoken):
        heard = "".join(say.itertext())
        assert not re.search(r"\d{1,2}:\d{2}", heard), heard
        assert not re.search(r"\d{4}年", heard), heard
        # a run of three or more digits is only ever inside <say-as interpret-as="digits">
        plain = (say.text or "") + "".join(child.tail or "" for child in say)
        assert not re.search(r"\d{3,}", plain), heard
        assert all(child.get("interpret-as") == "digits" for child in say if child.tag == "say-as")
    greeting = "".join(calls[0].spoken[0].itertext())
    assert world.elder_a.person.name not in greeting


def test_the_keys_the_prompts_offer_do_what_they_say(app, session, world, client):
    person = world.elder_a.person
    with app.app_context():
        order = service_requests.create_request(session, world.elder_a, world.family_a, "web", "bathing", {},
                                                utcnow() + timedelta(days=1), utcnow())
        session.commit()
    call = Call(client, person, "CA-keep")
    call.ring()
    xml = call.press("1")  # 要请按1: keep it, and hear so
    assert "照常安排" in xml and session.get(ServiceRequest, order.id).status == "open"
    volunteer_finishes(app, session, world, order)
    call = Call(client, person, "CA-not-done")
    call.ring()
    xml = call.press("2")  # 没有请按2: recorded, and the worker is told
    assert "工作人员" in xml
    session.expire_all()
    kinds = [kind for kind in session.scalars(select(ServiceRequest.status).where(ServiceRequest.id == order.id))]
    assert kinds == ["done"]
    from portal.models import OutboundMessage, RequestEvent

    assert session.scalar(select(RequestEvent).where(RequestEvent.request_id == order.id,
                                                     RequestEvent.kind == "elder_says_not_done"))
    assert session.scalar(select(OutboundMessage).where(OutboundMessage.to_phone == world.worker_a.phone))
    # the visit call's 9 and 0
    visit = finished_visit(app, session, world)
    call = Call(client, person, "CA-visit-0")
    call.post(f"/twilio/voice/visit/{visit.id}")
    assert "<Dial>" in call.post(f"/twilio/voice/visit/{visit.id}/answer", {"Digits": "0"})
    xml = call.post(f"/twilio/voice/visit/{visit.id}/answer", {"Digits": "9"})
    assert "确定要紧急求助吗" in xml  # a mis-pressed 9 is asked about once ...
    xml = call.post(f"/twilio/voice/visit/{visit.id}/sos", {"Digits": "9"})
    assert "120" in xml  # ... and a second 9 goes through
    assert session.scalar(select(ServiceRequest).where(ServiceRequest.service == "emergency"))
    assert session.get(Visit, visit.id).status == "done"  # neither key answered the visit question
