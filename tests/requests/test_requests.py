"""Service requests: one conversation over web, SMS and voice; accepting, refusing, emergencies."""
from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from portal.channels.inbound import dispatch_sms
from portal.channels.twilio_hooks import sign
from portal.clock import local_tz
from portal.db import utcnow
from portal.models import ConversationState, OutboundMessage, Pairing, RequestEvent, ServiceRequest
from portal.services import DomainError
from portal.services import requests as service_requests
from tests.factories import PASSWORD, make_volunteer

TOKEN = "test-twilio-token"


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def sms(app, session, person, text, now=None):
    with app.test_request_context():
        reply = dispatch_sms(session, person, text, now or utcnow())
        session.commit()
        return reply


def voice(client, path, form, query=None):
    url = path + ("?" + urlencode(query) if query else "")
    signature = sign("https://linli.example.org" + url, form, TOKEN)
    return client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def requests_of(session, elder_id):
    session.expire_all()
    return session.scalars(select(ServiceRequest).where(ServiceRequest.elder_id == elder_id)
                           .order_by(ServiceRequest.id)).all()


def web_meal(browser, elder):
    browser.login(elder.person.phone)
    assert browser.get("/requests/new?service=meal").status_code == 303
    for answer in ("lunch", "tomorrow", "3", "low_salt"):
        response = browser.post("/requests/step", {"answer": answer})
        assert response.status_code == 303, response.get_data(as_text=True)
    check = browser.get("/requests/check").get_data(as_text=True)
    assert "午饭" in check and "少盐" in check and "修改" in check
    response = browser.post("/requests/check", {})
    assert response.status_code == 303
    return response.headers["Location"]


def test_one_meal_request_over_web_sms_and_voice(world, app, session, browser, client):
    elder = world.elder_a
    placed = web_meal(browser, elder)
    page = browser.get(placed).get_data(as_text=True)
    ref = requests_of(session, elder.person_id)[0].reference
    assert ref in page and "tel:" in page

    # SMS, as the webhook will call it: keyword, digits (full-width too), free text
    person = elder.person
    assert "1 午饭" in sms(app, session, person, "订餐")
    assert "哪天" in sms(app, session, person, "１")
    sms(app, session, person, "明天")
    sms(app, session, person, "3")
    check = sms(app, session, person, "少盐")
    assert "少盐" in check and "回1确认" in check.replace(" ", "")
    done = sms(app, session, person, "1")
    assert "编号" in done

    # voice, signed webhooks
    call = {"CallSid": "CA1", "From": person.phone, "To": "+8612349"}
    greeting = voice(client, "/twilio/voice", call).get_data(as_text=True)
    assert "您好，这里是邻里" in greeting and 'language="cmn-CN"' in greeting and "<Gather" in greeting
    for turn, digit in enumerate(["1", "1", "2", "2", "2", "1"], start=1):
        response = voice(client, "/twilio/voice/answer", {**call, "Digits": digit}, {"kind": "flow", "t": turn})
        assert response.status_code == 200
    assert "<Hangup" in response.get_data(as_text=True)

    made = requests_of(session, elder.person_id)
    assert [r.placed_via for r in made] == ["web", "sms", "voice"]
    assert {r.service for r in made} == {"meal"}
    assert all(r.details["meals"] == "lunch" and r.details["diet"] == "low_salt" for r in made)
    assert len({r.reference for r in made}) == 3

    # a Twilio retry of the last step acts once
    again = voice(client, "/twilio/voice/answer", {**call, "Digits": "1"}, {"kind": "flow", "t": 6})
    assert again.get_data(as_text=True) == response.get_data(as_text=True)
    assert len(requests_of(session, elder.person_id)) == 3
    # an unsigned webhook is refused
    assert client.post("/twilio/voice", data=call).status_code == 403


def test_start_by_call_and_finish_by_text(world, app, session, client):
    person = world.elder_a.person
    call = {"CallSid": "CA2", "From": person.phone}
    voice(client, "/twilio/voice", call)
    voice(client, "/twilio/voice/answer", {**call, "Digits": "2"}, {"kind": "flow", "t": 2})  # cleaning
    reply = sms(app, session, person, "2")  # tomorrow (today may have no time left: this test sets no clock)
    assert "上午" in reply
    sms(app, session, person, "2")
    assert "编号" in sms(app, session, person, "1")
    assert requests_of(session, person.id)[0].service == "cleaning"


def test_bad_sms_input(world, app, session):
    person = world.elder_a.person
    sms(app, session, person, "打扫")
    past = (utcnow() - timedelta(days=3)).astimezone(local_tz())
    reply = sms(app, session, person, f"{past.month}月{past.day}日")
    assert "已经过去" in reply
    # text that matches nothing gets the help text, and the open conversation is kept
    assert "没看懂" in sms(app, session, person, "你" * 1600)
    assert "没看懂" in sms(app, session, person, "😀🙏")
    state = session.scalar(select(ConversationState).where(ConversationState.person_id == person.id))
    assert state.step == "date"
    assert sms(app, session, person, "明天").startswith("上午还是下午")
    assert requests_of(session, person.id) == []


def test_emergency_by_text_alerts_everyone_by_sms_and_call(world, app, session, browser):
    elder = world.elder_a
    elder.emergency_contacts = [{"name": "王强", "phone": "+8613911112222", "relation": "儿子"}]
    session.add(Pairing(volunteer_id=world.volunteer_a.person_id, elder_id=elder.person_id))
    session.commit()
    assert "120" in sms(app, session, elder.person, "救命")
    sms(app, session, elder.person, "SOS")  # a second press starts no second round
    messages = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "emergency")).all()
    pairs = {(m.to_phone, m.channel) for m in messages}
    for phone in (world.worker_a.phone, "+8613911112222", world.volunteer_a.person.phone):
        assert (phone, "sms") in pairs and (phone, "call") in pairs
    assert len(messages) == 6 and all(m.urgent for m in messages)
    browser.login(world.worker_a.phone, PASSWORD)
    home = browser.get("/worker/").get_data(as_text=True)
    assert "紧急" in home and "甲老人" in home
    ref = requests_of(session, elder.person_id)[0].reference
    browser.post(f"/worker/requests/{ref}/acknowledge", {}, page="/worker/")
    # handled is not closed: the banner stays, saying who is going, until a worker resolves it
    banner = browser.get("/worker/").get_data(as_text=True).split("<h1>")[0]
    assert "有人正在赶来" in banner and "我来处理" not in banner


def test_emergency_one_tap_on_the_web(world, browser, session):
    browser.login(world.elder_a.person.phone)
    response = browser.post("/requests/emergency", {}, page="/elder/")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="tel:120"' in page
    assert session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.channel == "call")) >= 1


def test_family_orders_and_elder_refuses_by_sms(world, app, session, browser):
    browser.login(world.family_a.phone)
    browser.get(f"/requests/new?elder={world.elder_a.person_id}")
    for answer in ("cleaning", "tomorrow", "morning"):
        assert browser.post("/requests/step", {"answer": answer}).status_code == 303
    # a change link from the check page goes back to that one question and returns to the check
    response = browser.post("/requests/step", {"answer": "afternoon"}, page="/requests/step?step=half_day")
    assert response.headers["Location"].endswith("/requests/check")
    assert "下午" in browser.get("/requests/check").get_data(as_text=True)
    assert browser.post("/requests/check", {}).status_code == 303
    req = requests_of(session, world.elder_a.person_id)[0]
    assert req.placed_by_id == world.family_a.id and req.service == "cleaning"
    told = session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == world.elder_a.person.phone)).all()
    assert any("甲家属" in m.body for m in told)
    reply = sms(app, session, world.elder_a.person, "2")
    assert "取消" in reply
    assert requests_of(session, world.elder_a.person_id)[0].status == "refused"
    assert session.scalar(select(OutboundMessage).where(OutboundMessage.to_phone == world.family_a.phone,
                                                        OutboundMessage.body.contains("不需要"))) is not None


def test_family_of_another_elder_is_refused(world, browser, session):
    browser.login(world.family_a.phone)
    response = browser.get(f"/requests/new?elder={world.elder_b.person_id}")
    assert response.status_code == 403 and "已同意" in response.get_data(as_text=True)
    with pytest.raises(DomainError):
        service_requests.create_request(session, world.elder_b, world.family_a, "web", "meal", {},
                                        utcnow() + timedelta(days=1), utcnow())
    assert session.scalar(select(func.count(ServiceRequest.id))) == 0


def _place(app, session, world, now=None):
    now = now or utcnow()
    with app.app_context():
        req = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "meal",
                                              {"meals": "lunch"}, now + timedelta(days=1), now)
        session.commit()
    return req


def test_exactly_one_volunteer_can_accept(committed, world, app, session):
    req = _place(app, session, world)
    others = [make_volunteer(session, world.community_a, "志愿者" + "甲乙丙丁"[i], verified_by=world.worker_a) for i in range(4)]
    session.commit()
    factory = app.extensions["linli"].session_factory
    results, barrier = [], threading.Barrier(len(others))

    def attempt(volunteer_id):
        with app.test_request_context(), factory() as own:
            from portal.models import Person

            volunteer = own.get(Person, volunteer_id)
            barrier.wait()
            try:
                service_requests.accept(own, req.id, volunteer, utcnow())
                own.commit()
                results.append("ok")
            except DomainError:
                own.rollback()
                results.append("taken")

    with app.app_context():
        threads = [threading.Thread(target=attempt, args=(v.person_id,)) for v in others]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == ["ok", "taken", "taken", "taken"]
    session.expire_all()
    final = session.get(ServiceRequest, req.id)
    assert final.status == "accepted" and final.volunteer_id in {v.person_id for v in others}
    assert session.scalar(select(func.count(RequestEvent.id)).where(RequestEvent.kind == "accepted")) == 1


def test_volunteer_flow_confirm_by_sms_and_rating(world, app, session, browser):
    req = _place(app, session, world)
    browser.login(world.volunteer_a.person.phone)
    assert req.reference in browser.get("/volunteer/requests/").get_data(as_text=True)
    for action in ("accept", "start", "finish"):
        assert browser.post(f"/volunteer/requests/{req.reference}/{action}", {},
                            page="/volunteer/requests/").status_code == 303
    assert requests_of(session, world.elder_a.person_id)[0].status == "done"
    assert "谢谢" in sms(app, session, world.elder_a.person, "1")
    assert requests_of(session, world.elder_a.person_id)[0].status == "confirmed"


def test_cancelled_request_cannot_be_accepted_and_undo_window(world, app, session, browser):
    old = _place(app, session, world, utcnow() - timedelta(minutes=11))
    browser.login(world.elder_a.person.phone)
    browser.post(f"/requests/{old.reference}/cancel", {}, page=f"/requests/{old.reference}")
    assert requests_of(session, world.elder_a.person_id)[0].status == "open"  # too late to undo
    fresh = _place(app, session, world)
    page = browser.post(f"/requests/{fresh.reference}/cancel", {}, page=f"/requests/{fresh.reference}",
                        follow_redirects=True).get_data(as_text=True)
    assert "已取消" in page
    with app.test_request_context(), pytest.raises(DomainError, match="cancelled|取消"):
        service_requests.accept(session, fresh.id, world.volunteer_a.person, utcnow())


def test_nobody_answered_jobs_are_idempotent(world, app, session):
    from jobs.registry import load_jobs

    jobs = load_jobs()
    created = utcnow() - timedelta(hours=3)
    req = _place(app, session, world, created)
    with app.app_context():
        assert jobs["requests.unaccepted"].fn(session, utcnow())["alerted"] == 1
        assert jobs["requests.unaccepted"].fn(session, utcnow())["alerted"] == 0
        to_worker = session.scalar(select(func.count(OutboundMessage.id)).where(
            OutboundMessage.to_phone == world.worker_a.phone))
        assert to_worker == 1
        later = req.scheduled_at + timedelta(hours=3)
        assert jobs["requests.expire"].fn(session, later)["expired"] == 1
        assert jobs["requests.expire"].fn(session, later)["expired"] == 0
    assert requests_of(session, world.elder_a.person_id)[0].status == "expired"


def test_voice_low_confidence_reprompts_and_a_person(world, app, session, client):
    person = world.elder_a.person
    call = {"CallSid": "CA9", "From": person.phone}
    voice(client, "/twilio/voice", call)
    heard = voice(client, "/twilio/voice/answer", {**call, "SpeechResult": "洗澡", "Confidence": "0.3"},
                  {"kind": "flow", "t": 2}).get_data(as_text=True)
    assert "kind=lowconf" in heard and "按1" in heard  # confirm by key
    voice(client, "/twilio/voice/answer", {**call, "Digits": "1"}, {"kind": "lowconf", "t": 3})
    session.expire_all()
    state = session.scalar(select(ConversationState).where(ConversationState.person_id == person.id))
    assert state.data["service"] == "bathing" and state.step == "date"
    replies = [voice(client, "/twilio/voice/answer", {**call, "Digits": "8"}, {"kind": "flow", "t": t})
               .get_data(as_text=True) for t in (4, 5, 6)]
    assert "<Dial" not in replies[0] and "<Dial" not in replies[1] and "<Dial>" in replies[2]
    assert world.worker_a.phone in replies[2]
    assert "<Dial>" in voice(client, "/twilio/voice/answer", {**call, "Digits": "0"}, {"kind": "flow", "t": 7}).get_data(as_text=True)
    unknown = voice(client, "/twilio/voice", {"CallSid": "CA10", "From": "+8613999999999"}).get_data(as_text=True)
    assert "12349" in unknown.replace(" ", "") and "<Hangup" in unknown
    assert session.scalar(select(func.count(ServiceRequest.id))) == 0


def test_voice_key_9_is_an_emergency(world, app, session, client):
    person = world.elder_a.person
    call = {"CallSid": "CA11", "From": person.phone}
    voice(client, "/twilio/voice", call)
    asked = voice(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "flow", "t": 2})
    assert "确定要紧急求助吗" in asked.get_data(as_text=True)  # a mis-press is asked about once...
    reply = voice(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "sos", "t": 3})
    assert "120" in reply.get_data(as_text=True)  # ...and a second 9 goes through
    assert requests_of(session, person.id)[0].service == "emergency"
    assert session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to_phone == world.worker_a.phone,
                                                                     OutboundMessage.channel == "call")) == 1


def test_volunteer_sees_where_to_go_and_what_is_needed_before_and_after_accepting(world, app, session, browser):
    import re

    now = utcnow()
    world.elder_a.notes = "耳背，请大声敲门"
    with app.app_context():
        req = service_requests.create_request(
            session, world.elder_a, world.elder_a.person, "web", "escort",
            {"time": "09:00", "destination": "hospital", "return_trip": "yes"}, now + timedelta(days=1), now)
        session.commit()
    browser.login(world.volunteer_a.person.phone)

    def card(html, kind):
        return next(c for c in re.findall(rf'<li class="card {kind}">(.*?)</li>', html, re.DOTALL) if req.reference in c)

    offer = card(browser.get("/volunteer/requests/").get_data(as_text=True), "offer")
    # before accepting: community, street, how near, what and when — no address, no phone
    assert "甲社区" in offer and "甲街道" in offer and "同一个社区" in offer
    assert "医院" in offer and "回程" in offer and "要送回家" in offer
    assert world.elder_a.address not in offer and "tel:" not in offer
    browser.post(f"/volunteer/requests/{req.reference}/accept", {}, page="/volunteer/requests/")
    task = card(browser.get("/volunteer/requests/").get_data(as_text=True), "task")
    assert world.elder_a.address in task and f'href="tel:{world.elder_a.person.phone}"' in task
    assert "耳背，请大声敲门" in task and "医院" in task
    for action in ("start", "finish"):
        browser.post(f"/volunteer/requests/{req.reference}/{action}", {}, page="/volunteer/requests/")
    assert world.elder_a.address in card(browser.get("/volunteer/requests/").get_data(as_text=True), "task")
    # a day after the visit the address and phone are gone from her view
    session.get(ServiceRequest, req.id).done_at = utcnow() - timedelta(days=1, minutes=1)
    session.commit()
    task = card(browser.get("/volunteer/requests/").get_data(as_text=True), "task")
    assert world.elder_a.address not in task and "tel:" not in task and "地址不再显示" in task


def test_a_call_from_the_elders_own_phone_checks_the_expected_volunteer_in(world, app, session, client):
    from portal.models import Visit

    now = utcnow()
    with app.app_context():
        req = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "meal",
                                              {"meals": "lunch"}, now + timedelta(minutes=20), now - timedelta(hours=3))
        service_requests.accept(session, req.id, world.volunteer_a.person, now - timedelta(hours=2))
        session.commit()
    # someone else's phone: no check-in, only the hotline
    stranger = voice(client, "/twilio/voice", {"CallSid": "CA-x", "From": "+8613100000000"}).get_data(as_text=True)
    assert "热线" in stranger or "hotline" in stranger
    reply = voice(client, "/twilio/voice", {"CallSid": "CA-door", "From": world.elder_a.person.phone}).get_data(as_text=True)
    assert "甲志愿者已在您家签到" in reply and "<Hangup" in reply
    session.expire_all()
    visit = session.scalar(select(Visit).where(Visit.elder_id == world.elder_a.person_id))
    assert visit.method == "caller_id" and visit.volunteer_id == world.volunteer_a.person_id
    assert visit.request_id == req.id and session.get(ServiceRequest, req.id).status == "in_progress"
    assert visit.counts_for_compliance          # a caller-ID check-in counts, like the door code
    # a second call does not check her in twice
    again = voice(client, "/twilio/voice", {"CallSid": "CA-2nd", "From": world.elder_a.person.phone}).get_data(as_text=True)
    assert "已在您家签到" not in again
