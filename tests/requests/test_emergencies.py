"""助急 after the alarm (issue 11, points 9–11): stand down within 2 minutes, someone is coming (who),
resolved by a worker only with an outcome; shown to the elder, the family and the worker; the voice
menu says 0 and 9; a mis-pressed 9 is confirmed but a second 9 or silence goes through."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.channels.inbound import dispatch_sms
from portal.channels.twilio_hooks import sign
from portal.models import Emergency, OutboundMessage, Pairing, ServiceRequest
from portal.services import DomainError, emergencies
from tests.conftest import Browser
from tests.factories import PASSWORD
from tests.page_text import text, texts

TOKEN = "test-twilio-token"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def clock(monkeypatch):
    """The time every web view sees (portal.db.utcnow as imported by the request views)."""
    now = {"t": T0}
    for module in ("portal.web.requests", "portal.web.worker_requests", "portal.channels.voice"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now["t"])
    return now


def texts_to(session, phone):
    session.expire_all()
    return [m.body for m in session.scalars(select(OutboundMessage).where(
        OutboundMessage.to_phone == phone, OutboundMessage.channel == "sms").order_by(OutboundMessage.id))]


def the_emergency(session, elder_id) -> ServiceRequest:
    session.expire_all()
    return session.scalar(select(ServiceRequest).where(ServiceRequest.elder_id == elder_id,
                                                       ServiceRequest.service == "emergency"))


def state_line(html: str) -> str:
    return text(html, cls="emergency-state")


@pytest.fixture()
def alarmed(world, session):
    world.elder_a.emergency_contacts = [{"name": "王强", "phone": "+8613911112222", "relation": "儿子"}]
    session.add(Pairing(volunteer_id=world.volunteer_a.person_id, elder_id=world.elder_a.person_id))
    session.commit()
    return world


def test_elder_taps_help_by_mistake_and_stands_it_down_within_two_minutes(alarmed, browser, session, clock):
    world = alarmed
    browser.login(world.elder_a.person.phone)
    response = browser.post("/requests/emergency", {}, page="/elder/")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    buttons = texts(page, "button")
    assert "按错了，取消" in buttons
    assert "已通知社区和家人" in state_line(page)
    clock["t"] = T0 + timedelta(seconds=90)
    ref = the_emergency(session, world.elder_a.person_id).reference
    after = browser.post(f"/requests/emergency/{ref}/stand-down", {}, page=f"/requests/emergency/{ref}")
    page = browser.get(after.headers["Location"]).get_data(as_text=True)
    assert "已取消" in state_line(page)
    assert "按错了，取消" not in page
    for phone in (world.worker_a.phone, "+8613911112222", world.volunteer_a.person.phone):
        assert any("按错" in body and "不用上门" in body for body in texts_to(session, phone)), phone
    found = the_emergency(session, world.elder_a.person_id)
    assert found.status == "cancelled" and session.get(Emergency, found.id).state == "stood_down"
    # the worker's banner no longer shows it
    browser.logout()
    browser.login(world.worker_a.phone, PASSWORD)
    assert not texts(browser.get("/worker/").get_data(as_text=True), cls="alert-banner")


def test_the_cancel_button_goes_after_two_minutes_and_a_late_cancel_is_refused(alarmed, browser, session, clock):
    world = alarmed
    browser.login(world.elder_a.person.phone)
    location = browser.post("/requests/emergency", {}, page="/elder/").headers["Location"]
    clock["t"] = T0 + timedelta(minutes=2, seconds=5)
    page = browser.get(location).get_data(as_text=True)
    assert "按错了，取消" not in page
    ref = the_emergency(session, world.elder_a.person_id).reference
    after = browser.post(f"/requests/emergency/{ref}/stand-down", {}, page=location)
    page = browser.get(after.headers["Location"]).get_data(as_text=True)
    assert "社区热线" in text(page, cls="notice")
    assert the_emergency(session, world.elder_a.person_id).status != "cancelled"


def test_only_the_elder_herself_stands_down(alarmed, session):
    found = emergencies.raise_alarm(session, alarmed.elder_a, "web", T0)
    with pytest.raises(DomainError):
        emergencies.stand_down(session, found, alarmed.family_a, T0 + timedelta(seconds=10))


def test_worker_says_who_is_coming_then_resolves_and_everyone_sees_it(alarmed, app, browser, transport, session,
                                                                      clock):
    world = alarmed
    found = emergencies.raise_alarm(session, world.elder_a, "web", T0)
    session.commit()
    ref = found.reference
    family, elder = Browser(app.test_client(), transport), Browser(app.test_client(), transport)
    family.login(world.family_a.phone)
    elder.login(world.elder_a.person.phone)
    browser.login(world.worker_a.phone, PASSWORD)
    clock["t"] = T0 + timedelta(minutes=3)
    browser.post(f"/worker/requests/{ref}/acknowledge", {}, page="/worker/")
    page = browser.get(f"/worker/requests/{ref}/emergency").get_data(as_text=True)
    assert "有人正在赶来" in state_line(page) and "甲工作者" in state_line(page)
    assert any("甲工作者正在赶来" in body for body in texts_to(session, world.elder_a.person.phone))
    # the worker sends the paired volunteer instead
    browser.post(f"/worker/requests/{ref}/emergency/coming", {"responder_id": world.volunteer_a.person_id},
                 page=f"/worker/requests/{ref}/emergency")
    assert any("甲志愿者正在赶来" in body for body in texts_to(session, world.elder_a.person.phone))

    family_home = family.get("/family/").get_data(as_text=True)
    assert "有人正在赶来" in text(family_home, cls="family-emergency") and "甲志愿者" in text(family_home, cls="family-emergency")
    family_view = family.get(f"/requests/{ref}").get_data(as_text=True)
    assert "甲志愿者" in state_line(family_view) and "等志愿者接单" not in family_view
    elder_view = elder.get(f"/requests/emergency/{ref}").get_data(as_text=True)
    assert "甲志愿者正在赶来" in state_line(elder_view)
    assert "有人正在赶来" in text(elder.get("/elder/").get_data(as_text=True), cls="list")

    empty = browser.post(f"/worker/requests/{ref}/emergency/resolve", {}, page=f"/worker/requests/{ref}/emergency")
    assert empty.status_code == 200 and "请选择处理结果" in text(empty.get_data(as_text=True), cls="error-summary")
    browser.post(f"/worker/requests/{ref}/emergency/resolve", {"outcome": "hospital"},
                 page=f"/worker/requests/{ref}/emergency")
    page = browser.get(f"/worker/requests/{ref}/emergency").get_data(as_text=True)
    assert "已结束" in state_line(page) and "已送医院" in state_line(page)
    assert any("已送医院" in body for body in texts_to(session, "+8613911112222"))
    assert "已送医院" in state_line(family.get(f"/requests/{ref}").get_data(as_text=True))
    assert "已送医院" in state_line(elder.get(f"/requests/emergency/{ref}").get_data(as_text=True))


def test_a_worker_of_another_community_cannot_handle_it(alarmed, browser, session, clock):
    found = emergencies.raise_alarm(session, alarmed.elder_a, "web", T0)
    session.commit()
    browser.login(alarmed.worker_b.phone, PASSWORD)
    token_page = "/worker/"
    for path, data in (("coming", {"responder_id": 0}), ("resolve", {"outcome": "false_alarm"})):
        response = browser.post(f"/worker/requests/{found.reference}/emergency/{path}", data, page=token_page)
        assert response.status_code == 404
    assert session.get(Emergency, found.id).state == "alerted"
    with pytest.raises(DomainError):
        emergencies.resolve(session, found, alarmed.worker_b, "visited", T0)
    with pytest.raises(DomainError):  # a volunteer cannot close it either
        emergencies.resolve(session, found, alarmed.volunteer_a.person, "visited", T0)


def voice(client, path, form, query=None):
    url = path + ("?" + urlencode(query) if query else "")
    signature = sign("https://linli.example.org" + url, form, TOKEN)
    return client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def said(response) -> str:
    return " ".join(texts(response.get_data(as_text=True), "say"))


def test_every_voice_menu_says_0_and_9(world, client, clock):
    call = {"CallSid": "CA1", "From": world.elder_a.person.phone}
    first = said(voice(client, "/twilio/voice", call))
    assert first.endswith("有急事请按9，找工作人员请按0。")
    after = said(voice(client, "/twilio/voice/answer", {**call, "Digits": "1"}, {"kind": "flow", "t": 2}))
    assert after.endswith("有急事请按9，找工作人员请按0。")


@pytest.mark.parametrize("second", [{"Digits": "9"}, {"Digits": "1"}, {}], ids=["9 again", "1", "silence"])
def test_a_9_in_a_menu_asks_once_and_a_second_9_or_silence_goes_through(world, client, session, clock, second):
    call = {"CallSid": "CA2", "From": world.elder_a.person.phone}
    voice(client, "/twilio/voice", call)
    asked = said(voice(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "flow", "t": 2}))
    assert "确定要紧急求助吗" in asked and "按1确定" in asked
    assert the_emergency(session, world.elder_a.person_id) is None
    query = {"kind": "sos", "t": 3, **({} if second else {"silent": 1})}
    reply = voice(client, "/twilio/voice/answer", {**call, **second}, query).get_data(as_text=True)
    assert "120" in reply
    assert the_emergency(session, world.elder_a.person_id) is not None


def test_a_9_then_2_goes_back_to_the_menu_without_an_alarm(world, client, session, clock):
    call = {"CallSid": "CA3", "From": world.elder_a.person.phone}
    voice(client, "/twilio/voice", call)
    voice(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "flow", "t": 2})
    back = said(voice(client, "/twilio/voice/answer", {**call, "Digits": "2"}, {"kind": "sos", "t": 3}))
    assert "不发紧急求助" in back and "您需要什么帮助" in back
    assert the_emergency(session, world.elder_a.person_id) is None


def test_saying_jiuming_on_a_call_goes_straight_through(world, client, session, clock):
    call = {"CallSid": "CA4", "From": world.elder_a.person.phone}
    voice(client, "/twilio/voice", call)
    voice(client, "/twilio/voice/answer", {**call, "SpeechResult": "救命", "Confidence": "0.9"}, {"kind": "flow", "t": 2})
    assert the_emergency(session, world.elder_a.person_id) is not None


def test_an_unknown_number_is_told_to_call_120_first_then_the_hotline(world, app, session, client):
    heard = said(voice(client, "/twilio/voice", {"CallSid": "CA5", "From": "+8613999999999"}))
    assert heard.index("120") < heard.replace(" ", "").index("12349")
    with app.test_request_context():
        reply = dispatch_sms(session, None, "救命", T0)
    assert "120" in reply and "12349" in reply and reply.index("120") < reply.index("12349")


def test_the_visit_confirmation_call_says_0_and_9_and_a_second_9_goes_through(world, client, session):
    from tests.timebank.helpers import visit

    done = visit(session, world.volunteer_a.person, world.elder_a)
    session.commit()
    menu = said(voice(client, f"/twilio/voice/visit/{done.id}", {}))
    assert "按2。有急事请按9，找工作人员请按0。" in menu  # the question's own keys, then 9 and 0
    asked = voice(client, f"/twilio/voice/visit/{done.id}/answer", {"Digits": "9"}).get_data(as_text=True)
    assert "确定要紧急求助吗" in " ".join(texts(asked, "say"))
    assert the_emergency(session, world.elder_a.person_id) is None
    voice(client, f"/twilio/voice/visit/{done.id}/sos", {"Digits": "9"})
    assert the_emergency(session, world.elder_a.person_id) is not None
    person = voice(client, f"/twilio/voice/visit/{done.id}/answer", {"Digits": "0"}).get_data(as_text=True)
    assert world.worker_a.phone in texts(person, "dial")


def test_an_emergency_raised_by_text_shows_its_own_state_on_every_page(alarmed, app, browser, transport, session,
                                                                       client):
    """One emergency, one state: the family's month page, the family's orders, the worker's 服务单 list say
    已通知社区和家人 (then who is going), never 等志愿者接单; the worker's list has no volunteer picker for
    it; the volunteer feed does not offer it (her paired volunteer was alerted directly)."""
    from tests.channels.helpers import text as sms

    world = alarmed
    sms(client, world.elder_a.person.phone, "救命", token=TOKEN)
    found = the_emergency(session, world.elder_a.person_id)
    ref = found.reference
    family, volunteer = Browser(app.test_client(), transport), Browser(app.test_client(), transport)
    family.login(world.family_a.phone)
    volunteer.login(world.volunteer_a.person.phone)
    browser.login(world.worker_a.phone, PASSWORD)

    month = family.get(f"/family/elders/{world.elder_a.person_id}").get_data(as_text=True)
    assert "等志愿者接单" not in month and "已通知社区和家人" in text(month, cls="alert-banner")
    worker_list = browser.get("/worker/requests/").get_data(as_text=True)
    row = next(line for line in texts(worker_list, "tr") if ref in line)
    assert "已通知社区和家人" in row and "等志愿者接单" not in row and "安排" not in row
    feed = volunteer.get("/volunteer/requests/").get_data(as_text=True)
    assert ref not in feed and "紧急求助" not in feed
    with pytest.raises(DomainError):  # nor can it be taken another way
        from portal.services import requests as service_requests

        service_requests.accept(session, found.id, world.volunteer_a.person, T0)

    browser.post(f"/worker/requests/{ref}/acknowledge", {}, page="/worker/")
    row = next(line for line in texts(browser.get("/worker/requests/").get_data(as_text=True), "tr") if ref in line)
    assert "有人正在赶来" in row and "甲工作者" in row
    month = family.get(f"/family/elders/{world.elder_a.person_id}").get_data(as_text=True)
    assert "有人正在赶来" in text(month, cls="alert-banner")
