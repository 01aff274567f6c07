"""SMS and voice understanding (issue 11, points 12–15): the loop guard, opt-out words, the last
question asked, free text, switching service, help, and a call taking over a text conversation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.channels import sms_webhook
from portal.channels.inbound import dispatch_sms
from portal.channels.twilio_hooks import sign
from portal.conversation import engine
from portal.conversation.flows import REQUEST_FLOW
from portal.models import (
    ContactStatus,
    ConversationState,
    InboundMessage,
    OutboundMessage,
    RequestEvent,
    ServiceRequest,
    Visit,
)
from portal.services import questions
from portal.services import requests as service_requests
from portal.services import visits as visit_service
from portal.services.sms_text import signed
from tests.channels.helpers import SHANGHAI, TOKEN, reply_of, text

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def clock(monkeypatch):
    moment = {"now": NOW}
    monkeypatch.setattr(sms_webhook, "utcnow", lambda: moment["now"])
    return moment


def sms(app, session, person, body, now=NOW):
    with app.test_request_context():
        reply = dispatch_sms(session, person, body, now)
        session.commit()
        return reply


def state_of(session, person):
    session.expire_all()
    return session.scalar(select(ConversationState).where(ConversationState.person_id == person.id))


def family_order(app, session, world, now=NOW):
    with app.app_context():
        order = service_requests.create_request(session, world.elder_a, world.family_a, "web", "cleaning", {},
                                                now + timedelta(days=1), now)
        session.commit()
    return order


def finished_visit(app, session, world, now=NOW):
    with app.app_context():
        volunteer = world.volunteer_a.person
        visit = visit_service.check_in(session, volunteer, world.elder_a, "door_code", now - timedelta(hours=1))
        visit_service.check_out(session, visit, volunteer, now, "door_code")
        session.commit()
    return visit


# --- 12. the loop guard ------------------------------------------------------------------

def test_an_emergency_word_sent_five_times_in_a_row_alerts_and_answers_every_time(client, session, world, clock):
    phone = world.elder_a.person.phone
    replies = []
    for minute in range(5):
        clock["now"] = NOW + timedelta(minutes=minute)
        replies.append(reply_of(text(client, phone, "救命")))
    assert all(reply and "120" in reply for reply in replies)
    session.expire_all()
    assert [m.status for m in session.scalars(select(InboundMessage))] == ["handled"] * 5
    emergency = session.scalar(select(ServiceRequest).where(ServiceRequest.service == "emergency"))
    kinds = [e.kind for e in session.scalars(select(RequestEvent).where(RequestEvent.request_id == emergency.id))]
    assert kinds == ["created"] + ["repeated"] * 4
    alerted = session.scalars(select(OutboundMessage.to_phone).where(OutboundMessage.urgent)).all()
    assert world.worker_a.phone in alerted


def test_the_loop_guard_spares_cancel_stop_start_and_answers_but_not_unknown_texts(client, session, world, clock):
    phone = world.elder_a.person.phone
    text(client, phone, "订餐")
    answered = []
    for minute, body in enumerate(["取消", "订餐", "取消", "订餐", "取消"]):
        clock["now"] = NOW + timedelta(minutes=minute)
        answered.append(reply_of(text(client, phone, body)))
    assert all(answered)
    for minute in range(3):
        clock["now"] = NOW + timedelta(minutes=6 + minute)
        reply = reply_of(text(client, phone, "今天天气好不好"))
    assert reply is None  # the third identical unknown text is silenced
    for minute in range(3):
        clock["now"] = NOW + timedelta(minutes=9 + minute)
        text(client, phone, "STOP")
        assert reply_of(text(client, phone, "START"))
    session.expire_all()
    assert session.get(ContactStatus, phone).status == "active"
    statuses = [m.status for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert statuses.count("looped") == 1


def test_a_repeated_answer_to_the_question_just_asked_is_not_silenced(client, session, world, clock, app):
    phone = world.elder_a.person.phone
    text(client, phone, "明天陪我去医院")
    for minute in range(3):  # the same (wrong) answer three times: each is an answer to the question asked
        clock["now"] = NOW + timedelta(minutes=minute)
        assert "6点到晚上8点" in reply_of(text(client, phone, "晚上9点"))


# --- 13. opt-out words, and a digit answers the last question asked ------------------------

def test_quit_in_the_middle_of_an_order_opts_out_as_twilio_does_and_says_so(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    assert sms(app, session, person, "quit") == ""  # the confirmation goes through the outbox
    session.expire_all()
    assert session.get(ContactStatus, person.phone).status == "stopped"
    assert state_of(session, person) is None
    confirmation = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "opt_out_confirmation"))
    # plainly: texts are stopped, START (the only word that lifts Twilio's block) brings them back, the
    # hotline with its number, and the half-finished order was not placed — one text, one segment
    assert confirmation.body.startswith("【邻里】本机短信已停发") and "要恢复请回START" in confirmation.body
    assert "热线12349" in confirmation.body and confirmation.body.endswith("订到一半的服务没有下单。")
    assert len(confirmation.body) <= 70


def test_tuiding_mid_order_stops_linlis_own_texts_and_says_the_order_was_not_placed(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    assert sms(app, session, person, "退订") == ""
    session.expire_all()
    assert session.get(ContactStatus, person.phone).status == "stopped" and state_of(session, person) is None
    confirmation = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "opt_out_confirmation"))
    assert "回“订阅”可恢复" in confirmation.body and "紧急求助提醒照常" in confirmation.body
    assert confirmation.body.endswith("订到一半的服务没有下单。") and len(confirmation.body) <= 70


def test_the_conversation_backs_out_with_words_no_provider_reserves(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    assert "没有下单" in sms(app, session, person, "取消")
    assert state_of(session, person) is None
    for again in ("start again", "重来"):
        sms(app, session, person, "打扫")
        assert "您需要什么" in sms(app, session, person, again)
        assert state_of(session, person).data == {}
    session.expire_all()
    contact = session.get(ContactStatus, person.phone)
    assert contact is None or contact.status == "active"  # texts stay on


def test_not_wanted_is_no_on_a_yes_no_step_and_cancel_elsewhere(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "明天上午9点陪我去医院")
    assert state_of(session, person).step == "return_trip"
    sms(app, session, person, "不要了")
    assert state_of(session, person).data["return_trip"] == "no"


@pytest.mark.parametrize(("asked_last", "answer", "heard", "visit_status", "order_status"), [
    ("order", "1", "照常", "done", "open"),         # a "1" meant for the order does not confirm the visit
    ("visit", "没来", "工作人员", "disputed", "open"),  # a "no" meant for the visit does not refuse the order
])
def test_a_short_answer_answers_the_question_asked_last(app, session, world, asked_last, answer, heard,
                                                         visit_status, order_status):
    if asked_last == "order":
        visit = finished_visit(app, session, world, NOW - timedelta(minutes=30))
        order = family_order(app, session, world, NOW - timedelta(minutes=5))
    else:
        order = family_order(app, session, world, NOW - timedelta(minutes=30))
        visit = finished_visit(app, session, world, NOW - timedelta(minutes=5))
    assert heard in sms(app, session, world.elder_a.person, answer)
    session.expire_all()
    assert session.get(Visit, visit.id).status == visit_status
    assert session.get(ServiceRequest, order.id).status == order_status


def test_an_answer_to_an_expired_question_is_told_so_and_changes_nothing(app, session, world):
    visit = finished_visit(app, session, world, NOW - timedelta(days=5))
    reply = sms(app, session, world.elder_a.person, "1")
    assert "过期" in reply
    session.expire_all()
    assert session.get(Visit, visit.id).status == "done"
    assert questions.last_asked(session, world.elder_a.person_id, NOW) is None


def test_the_last_question_is_recorded_when_the_text_is_sent(app, session, world):
    order = family_order(app, session, world)
    asked = questions.last_asked(session, world.elder_a.person_id, NOW)
    assert (asked.kind, asked.subject_id, asked.expired) == ("refuse", order.id, False)
    sms(app, session, world.elder_a.person, "订餐")
    assert questions.last_asked(session, world.elder_a.person_id, NOW).kind == "conversation"
    # now a "2" answers the conversation's question (dinner), not the family order
    sms(app, session, world.elder_a.person, "2")
    session.expire_all()
    assert session.get(ServiceRequest, order.id).status == "open"
    assert state_of(session, world.elder_a.person).data["meals"] == "dinner"


# --- 14. free text, switching service, help ---------------------------------------------

@pytest.mark.parametrize(("first", "service", "step"), [
    ("我要吃饭", "meal", "meals"),
    ("明天打扫卫生", "cleaning", "half_day"),
    ("后天上午陪我去医院", "escort", "time"),
    ("你好", None, "service"),
    ("陪我去卫生站", "escort", "date"),
    ("明天中午送饭", "meal", "days"),
])
def test_a_first_text_in_plain_words_skips_what_it_answers(app, session, world, first, service, step):
    person = world.elder_a.person
    reply = sms(app, session, person, first)
    state = state_of(session, person)
    assert state.data.get("service") == service and state.step == step, (reply, state.data)


def test_another_service_named_during_a_question_asks_whether_to_switch(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    reply = sms(app, session, person, "我要洗澡")
    assert "改成" in reply and state_of(session, person).data["service"] == "meal"
    reply = sms(app, session, person, "1")
    assert state_of(session, person).data == {"service": "bathing"}
    sms(app, session, person, "取消")
    sms(app, session, person, "订餐")
    sms(app, session, person, "洗澡")
    sms(app, session, person, "2")  # carry on
    assert state_of(session, person).data == {"service": "meal"} and state_of(session, person).step == "meals"


def test_the_pending_question_is_asked_again_after_help(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    for word in ("帮助", "咋个用", "今天天气好不好"):
        reply = sms(app, session, person, word)
        assert "救命" in reply and reply.rstrip().splitlines()[-1].startswith("请回数字") and "午" in reply


def order_at_check(app, session, person, channel, now=NOW):
    """A meal order walked to its check step by text, then left on `channel` (as if a call had opened it)."""
    for answer in ("明天中午送饭", "1", "1"):
        sms(app, session, person, answer, now=now)
    state = state_of(session, person)
    assert state.step == "check", state.data
    state.channel = channel
    session.commit()
    return state


def test_cancel_by_text_ends_every_open_order_whatever_channel_opened_it(app, session, world):
    person = world.elder_a.person
    order_at_check(app, session, person, "voice", NOW - timedelta(minutes=5))  # left at the check on a call
    with app.app_context():
        engine.begin(session, person, "sms", REQUEST_FLOW, NOW - timedelta(minutes=2), {"service": "bathing"})
        session.commit()
    assert "没有下单" in sms(app, session, person, "取消")
    session.expire_all()
    assert session.scalars(select(ConversationState).where(ConversationState.person_id == person.id)).all() == []
    reply = sms(app, session, person, "明天打扫卫生")
    assert "请核对" not in reply and "助餐" not in reply, reply
    assert state_of(session, person).data["service"] == "cleaning"


@pytest.mark.parametrize("answer", ["2", "1"])
def test_another_service_named_at_the_check_asks_whether_to_switch(app, session, world, answer):
    person = world.elder_a.person
    order_at_check(app, session, person, "sms")
    reply = sms(app, session, person, "明天打扫卫生")
    assert "没看懂" not in reply and "改成" in reply and "助洁" in reply, reply
    assert len(signed(reply)) <= 70
    assert state_of(session, person).data["service"] == "meal"
    reply = sms(app, session, person, answer)
    state = state_of(session, person)
    if answer == "2":  # carry on: the check again
        assert "请核对" in reply and state.step == "check" and state.data["service"] == "meal"
    else:  # change: the new order, with the day the text already gave
        tomorrow = (NOW.astimezone(SHANGHAI).date() + timedelta(days=1)).isoformat()
        assert state.data == {"service": "cleaning", "date": tomorrow} and state.step == "half_day", state.data


# --- 15. a call takes over a half-finished text conversation ----------------------------

def voice(client, path, form, query=None):
    url = path + ("?" + urlencode(query) if query else "")
    return client.post(url, data=form, headers={"X-Twilio-Signature": sign("https://linli.example.org" + url, form,
                                                                           TOKEN)})


def test_a_call_says_what_is_in_progress_and_offers_to_start_again(app, session, world, client):
    person = world.elder_a.person
    sms(app, session, person, "订餐", now=datetime.now(UTC))
    call = {"CallSid": "CA-takeover", "From": person.phone}
    said = voice(client, "/twilio/voice", call).get_data(as_text=True)
    assert "您刚才在订餐" in said and "哪一顿" in said and "重新开始请按8" in said and "restart=1" in said
    again = voice(client, "/twilio/voice/answer", {**call, "Digits": "8"}, {"kind": "flow", "t": 2, "restart": 1})
    assert "您需要什么" in again.get_data(as_text=True)
    assert state_of(session, person).data == {}


def test_texts_to_the_elder_read_as_sentences_with_the_sender_and_the_weekday(app, session, world):
    with app.app_context():
        meal = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "meal",
                                               {"meals": "lunch"}, NOW + timedelta(days=1), NOW)
        service_requests.accept(session, meal.id, world.volunteer_a.person, NOW)
        session.commit()
    told = session.scalars(select(OutboundMessage.body).where(OutboundMessage.to_phone == world.elder_a.person.phone)).all()
    accepted = next(body for body in told if "会来" in body)
    assert accepted.startswith("【邻里】") and "会来给您送饭" in accepted and "12月2日（周三）" in accepted
    assert len(accepted) <= 70


@pytest.mark.parametrize("answer", ["2", "1"])
def test_on_a_call_another_service_said_at_the_check_asks_whether_to_switch(app, session, world, client, answer):
    from tests.channels.test_voice_prompts import Call

    person = world.elder_a.person
    now = datetime.now(UTC)
    order_at_check(app, session, person, "voice", now)
    call = Call(client, person, f"CA-check-switch-{answer}")
    call.ring()
    assert "核对" in call.prompts[-1][0] or "确认" in call.prompts[-1][0], call.prompts[-1][0]
    call.press(speech="明天打扫卫生")
    assert "改成" in call.prompts[-1][0] and "打扫卫生" in call.prompts[-1][0], call.prompts[-1][0]
    assert state_of(session, person).data["service"] == "meal"
    call.press(answer)
    state = state_of(session, person)
    if answer == "2":
        assert state.step == "check" and state.data["service"] == "meal" and "_switch" not in state.data
    else:
        tomorrow = (now.astimezone(SHANGHAI).date() + timedelta(days=1)).isoformat()
        assert state.data == {"service": "cleaning", "date": tomorrow} and state.step == "half_day", state.data


def test_a_switch_question_asked_on_a_call_is_not_answered_by_a_text_that_takes_over(app, session, world):
    person = world.elder_a.person
    sms(app, session, person, "订餐")
    sms(app, session, person, "我要洗澡")  # 改成助浴吗? — then the call takes the order over and hangs up
    state = state_of(session, person)
    assert "_switch" in state.data
    state.channel = "voice"
    session.commit()
    sms(app, session, person, "1")  # a text taking it over answers the meal question, not the switch
    state = state_of(session, person)
    assert state.data["service"] == "meal" and "_switch" not in state.data, state.data
