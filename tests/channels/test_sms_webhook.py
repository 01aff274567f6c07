"""POST /twilio/sms: signatures, replays, concurrent duplicates, keywords, loop guard, bad input."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.channels import outbox, sms_webhook
from portal.db import utcnow
from portal.i18n import translate_for
from portal.models import ContactStatus, InboundMessage, OutboundMessage, Person
from portal.services.outbox import enqueue
from portal.services.sms_text import signed
from tests.channels.helpers import PUBLIC_URL, TOKEN, new_sid, post_signed, reply_of, text


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture()
def dispatches(monkeypatch):
    """Counts calls to the inbound handlers (the real ones still run)."""
    calls = []
    real = sms_webhook.dispatch_sms

    def counting(session, person, body, now):
        calls.append(body)
        return real(session, person, body, now)

    monkeypatch.setattr(sms_webhook, "dispatch_sms", counting)
    return calls


def inbound_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(InboundMessage.id)))


# --- signatures ---------------------------------------------------------------------------

def test_unsigned_wrongly_signed_and_spoofed_requests_are_refused(client, session, world):
    phone = world.elder_a.person.phone
    params = {"MessageSid": new_sid(), "From": phone, "Body": "帮助"}
    assert client.post("/twilio/sms", data=params).status_code == 403
    assert client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": "bm90IGl0"}).status_code == 403
    assert post_signed(client, "/twilio/sms", params, token="someone-elses-token").status_code == 403
    # Signed for the attacker's own host and sent with that Host header: we check LINLI_PUBLIC_URL, not Host.
    spoofed = post_signed(client, "/twilio/sms", params, signed_url="https://evil.example.com/twilio/sms",
                          headers={"Host": "evil.example.com"})
    assert spoofed.status_code == 403
    # A signature for other parameters does not cover a changed body.
    assert post_signed(client, "/twilio/sms", params, signed_url=PUBLIC_URL + "/twilio/sms?x=1").status_code == 403
    assert inbound_count(session) == 0


def test_the_query_string_is_part_of_what_is_signed(client, session, world):
    phone = world.elder_a.person.phone
    params = {"MessageSid": new_sid(), "From": phone, "Body": "帮助"}
    unsigned_query = post_signed(client, "/twilio/sms?source=twilio", params, signed_url=PUBLIC_URL + "/twilio/sms")
    assert unsigned_query.status_code == 403
    signed_query = post_signed(client, "/twilio/sms?source=twilio", params)
    assert signed_query.status_code == 200
    assert "热线" in reply_of(signed_query)


def test_a_signed_request_with_a_spoofed_host_header_still_works(client, world):
    response = text(client, world.elder_a.person.phone, "帮助", headers={"Host": "evil.example.com"})
    assert response.status_code == 200


# --- replays and concurrent duplicates -----------------------------------------------------

def test_a_replayed_message_acts_once(client, session, world, dispatches, transport):
    phone = world.elder_a.person.phone
    sid = new_sid()
    responses = [text(client, phone, "退订", sid=sid) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert inbound_count(session) == 1
    assert dispatches == ["退订"]
    confirmations = [m for m in transport.messages_to(phone) if m.kind == "opt_out_confirmation"]
    assert len(confirmations) == 1
    assert all(reply_of(r) is None for r in responses[1:])


def test_concurrent_duplicate_deliveries_act_once(committed, app, session, world, monkeypatch):
    phone = world.elder_a.person.phone
    calls = []
    real = sms_webhook.dispatch_sms

    def slow_dispatch(db_session, person, body, now):
        calls.append(body)
        time.sleep(0.3)  # hold the first delivery open while the duplicates arrive
        return real(db_session, person, body, now)

    monkeypatch.setattr(sms_webhook, "dispatch_sms", slow_dispatch)
    sid = new_sid()
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        client = app.test_client()
        barrier.wait()
        results.append(text(client, phone, "帮助", sid=sid))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.status_code for r in results) == [200] * 4
    assert len(calls) == 1
    assert inbound_count(session) == 1
    assert sum(1 for r in results if reply_of(r)) == 1


def test_a_message_without_a_message_sid_is_refused(client, session, world):
    response = post_signed(client, "/twilio/sms", {"From": world.elder_a.person.phone, "Body": "帮助"})
    assert response.status_code == 400
    assert inbound_count(session) == 0


# --- keywords ---------------------------------------------------------------------------

def test_stop_opts_out_and_start_opts_back_in(client, session, world, transport):
    elder = world.elder_a.person
    queued_before = enqueue(session, elder.phone, "明天有义诊", kind="notice", elder_quiet_hours=False)
    session.commit()

    response = text(client, elder.phone, "ＳＴＯＰ")  # full-width, as some phones send it
    assert response.status_code == 200 and reply_of(response) is None
    session.expire_all()
    assert session.get(ContactStatus, elder.phone).status == "stopped"
    confirmation = [m for m in transport.messages_to(elder.phone) if m.kind == "opt_out_confirmation"]
    assert len(confirmation) == 1 and "要恢复请回START" in confirmation[0].body  # only START lifts Twilio's block

    # Nothing else reaches the phone: not at enqueue time, not what was queued before STOP.
    assert enqueue(session, elder.phone, "活动通知", kind="notice") is None
    sent_before = len(transport.sent)
    outbox.send_due(session, transport, now=utcnow() + timedelta(days=1))
    assert len(transport.sent) == sent_before
    session.refresh(queued_before)
    assert queued_before.status == "opted_out"

    response = text(client, elder.phone, "订阅")
    assert reply_of(response) == signed(translate_for(
        "zh_Hans", "Linli: you will get our texts again. Send 帮助 or HELP to see what you can send."))
    session.expire_all()
    assert session.get(ContactStatus, elder.phone).status == "active"
    again = enqueue(session, elder.phone, "活动通知", kind="notice", elder_quiet_hours=False)
    assert again is not None


@pytest.mark.parametrize("word", ["退订", "退订。", "stop", "Unsubscribe", " STOP! "])
def test_stop_words(client, session, world, word):
    elder = world.elder_a.person
    text(client, elder.phone, word)
    session.expire_all()
    assert session.get(ContactStatus, elder.phone).status == "stopped"


def test_help_answers_in_the_persons_language(client, session, world):
    elder = world.elder_a.person
    assert "救命" in reply_of(text(client, elder.phone, "帮助")) and "热线" in reply_of(text(client, elder.phone, "HELP"))
    volunteer = world.volunteer_a.person
    volunteer.locale = "en"
    session.commit()
    reply = reply_of(text(client, volunteer.phone, "help"))
    assert "Hotline" in reply and "STOP" in reply


def test_text_that_matches_nothing_gets_the_help_text(client, session, world):
    reply = reply_of(text(client, world.elder_a.person.phone, "今天天气怎么样"))
    assert reply.startswith(signed(translate_for("zh_Hans", "Sorry, we did not understand that.")))
    for keyword in ("救命", "送饭", "退订", "热线"):
        assert keyword in reply


def test_an_unknown_number_gets_the_hotline_and_nothing_is_created(client, session, world, transport):
    people_before = session.scalar(select(func.count(Person.id)))
    response = text(client, "+8613912345678", "订餐")
    assert "12349" in reply_of(response)
    english = reply_of(text(client, "+8613912345678", "I want a meal"))
    assert "hotline" in english.lower()
    session.expire_all()
    assert session.scalar(select(func.count(Person.id))) == people_before
    assert session.scalar(select(func.count(OutboundMessage.id))) == 0
    stored = session.scalars(select(InboundMessage)).all()
    assert len(stored) == 2 and all(m.person_id is None for m in stored)


def test_a_sender_that_is_not_a_phone_number_is_stored_and_answered(client, session, world):
    response = text(client, "LINLI-TEST", "hello")
    assert response.status_code == 200 and reply_of(response)
    assert session.scalar(select(InboundMessage.from_phone)) == "LINLI-TEST"


# --- loop guard -------------------------------------------------------------------------

def test_a_burst_of_identical_texts_gets_no_auto_reply(client, session, world, dispatches, monkeypatch):
    phone = world.elder_a.person.phone
    start = utcnow()
    clock = {"now": start}
    monkeypatch.setattr(sms_webhook, "utcnow", lambda: clock["now"])
    replies = []
    for minute in (0, 2, 4, 6):
        clock["now"] = start + timedelta(minutes=minute)
        replies.append(reply_of(text(client, phone, "你好")))
    assert replies[0] and replies[1]
    assert replies[2] is None and replies[3] is None
    assert len(dispatches) == 2
    statuses = [m.status for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert statuses == ["handled", "handled", "looped", "looped"]
    # A different text is answered, and so is the same one once the burst is over.
    assert reply_of(text(client, phone, "帮助"))
    clock["now"] = start + timedelta(minutes=30)
    assert reply_of(text(client, phone, "你好"))


# --- bad input --------------------------------------------------------------------------

def test_long_texts_emoji_mixed_scripts_and_full_width_digits(client, session, world):
    phone = world.elder_a.person.phone
    long_body = ("我想订餐 please 👵🏽🍚 Ｏｋ１ ") * 80  # 1,600 characters exactly
    assert len(long_body) == 1600
    reply = reply_of(text(client, phone, long_body))
    assert reply and len(reply) <= 1600
    stored = session.scalars(select(InboundMessage)).one()
    assert len(stored.body) <= 1600 and "👵🏽🍚" in stored.body and "Ok1" in stored.body  # NFKC: Ｏｋ１ → Ok1

    family = "👨‍👩‍👧"
    too_long = "字" * 1598 + family + "尾" * 50
    response = text(client, phone, too_long + "\x00")
    assert response.status_code == 200
    session.expire_all()
    latest = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert len(latest.body) <= 1600
    assert latest.body == "字" * 1598  # cut before the emoji family, never inside it
    assert "\x00" not in latest.body


def test_a_failing_handler_still_keeps_the_text_and_apologises(client, session, world, monkeypatch):
    def broken(*_args):
        raise RuntimeError("bug")

    monkeypatch.setattr(sms_webhook, "dispatch_sms", broken)
    reply = reply_of(text(client, world.elder_a.person.phone, "订餐"))
    assert "12349" in reply
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.status == "error" and stored.body == "订餐"


# --- production without a Twilio token ----------------------------------------------------

def test_production_without_a_twilio_token_refuses_every_webhook(committed, database_url, transport, world, monkeypatch):
    import pytest

    from portal import create_app
    from portal import production as production_check

    config = {"TESTING": True, "SECRET_KEY": "x", "LINLI_DATABASE_URL": database_url, "LINLI_TRANSPORT": transport,
              "LINLI_PUBLIC_URL": PUBLIC_URL, "LINLI_ENV": "production", "LINLI_DEV_TOOLS": True,
              "LINLI_WEBHOOK_TOKEN": "dev-token", "TWILIO_AUTH_TOKEN": ""}
    with pytest.raises(production_check.ProductionConfigError):
        create_app(config)  # dev tools in production never start
    # and should the start-up check be bypassed, the webhook guard still refuses the dev token
    monkeypatch.setattr(production_check, "check_production_config", lambda config: None)
    production = create_app(config)
    client = production.test_client()
    params = {"MessageSid": new_sid(), "From": world.elder_a.person.phone, "Body": "帮助"}
    assert post_signed(client, "/twilio/sms", params, token="dev-token").status_code == 403
    assert post_signed(client, "/twilio/sms", params, token="").status_code == 403
    production.extensions["linli"].engine.dispose()

    config["LINLI_ENV"] = "development"
    development = create_app(config)
    assert post_signed(development.test_client(), "/twilio/sms", params, token="dev-token").status_code == 200
    development.extensions["linli"].engine.dispose()
