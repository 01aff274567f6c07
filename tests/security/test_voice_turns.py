"""Concurrent copies of one voice turn (issue 12, point 9): Twilio retries and duplicate deliveries of
the same call step arriving at once act exactly once, and every copy gets the same TwiML — never a 500.

Each voice webhook claims the turn (call, URL and fields) in a transaction of its own before it acts;
the copies that lose wait for the winner's answer and replay it."""
from __future__ import annotations

import itertools
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from portal.channels.twilio_hooks import sign
from portal.conversation.engine import CHECK
from portal.db import utcnow
from portal.models import ConversationState, Emergency, ServiceRequest, Transfer, Visit, VoiceTurn
from tests.security.helpers import all_at_once
from tests.timebank.helpers import T0, visit

TOKEN = "test-twilio-token"
CALLS = itertools.count(1)


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def _post(client, path: str, form: dict, query: dict | None = None):
    url = path + ("?" + urlencode(query) if query else "")
    return client.post(url, data=form, headers={"X-Twilio-Signature": sign("https://linli.example.org" + url, form,
                                                                           TOKEN)})


def _race(app, path: str, form: dict, query: dict | None, copies: int) -> list:
    def deliver():
        response = _post(app.test_client(), path, form, query)
        return response.status_code, response.get_data(as_text=True)

    return all_at_once(deliver, copies)


def _one_answer(answers: list, copies: int) -> str:
    assert len(answers) == copies
    assert all(isinstance(answer, tuple) for answer in answers), answers
    assert {status for status, _ in answers} == {200}, [status for status, _ in answers]
    assert len({body for _, body in answers}) == 1  # every copy gets the winner's TwiML
    return answers[0][1]


@pytest.mark.parametrize("copies", [2, 6])
def test_copies_of_the_first_turn_open_one_conversation(copies, committed, app, world, session):
    call = {"CallSid": f"CA-race-first-{next(CALLS)}", "From": world.elder_a.person.phone}
    said = _one_answer(_race(app, "/twilio/voice", call, None, copies), copies)
    assert "<Gather" in said
    session.expire_all()
    assert session.scalar(select(func.count(ConversationState.id))
                          .where(ConversationState.person_id == world.elder_a.person_id)) == 1
    assert session.scalar(select(func.count(VoiceTurn.id)).where(VoiceTurn.call_sid == call["CallSid"])) == 1


@pytest.mark.parametrize("copies", [2, 6])
def test_copies_of_the_confirming_turn_place_one_request(copies, committed, app, world, session):
    call = {"CallSid": f"CA-race-order-{next(CALLS)}", "From": world.elder_a.person.phone}
    client = app.test_client()
    assert _post(client, "/twilio/voice", call).status_code == 200
    for turn, digit in enumerate(["2", "2", "2"], start=1):  # cleaning, tomorrow, afternoon
        assert _post(client, "/twilio/voice/answer", {**call, "Digits": digit}, {"kind": "flow", "t": turn}).status_code == 200
    session.expire_all()
    state = session.scalar(select(ConversationState).where(ConversationState.person_id == world.elder_a.person_id))
    assert state.step == CHECK, state.step
    before = session.scalar(select(func.count(ServiceRequest.id)).where(ServiceRequest.elder_id == world.elder_a.person_id))
    said = _one_answer(_race(app, "/twilio/voice/answer", {**call, "Digits": "1"}, {"kind": "flow", "t": 4}, copies),
                       copies)
    assert "<Hangup" in said
    session.expire_all()
    assert session.scalar(select(func.count(ServiceRequest.id))
                          .where(ServiceRequest.elder_id == world.elder_a.person_id)) == before + 1


@pytest.mark.parametrize("copies", [2, 6])
def test_copies_of_a_confirmed_emergency_raise_one_alarm(copies, committed, app, world, session):
    call = {"CallSid": f"CA-race-sos-{next(CALLS)}", "From": world.elder_a.person.phone}
    client = app.test_client()
    _post(client, "/twilio/voice", call)
    _post(client, "/twilio/voice/answer", {**call, "Digits": "9"}, {"kind": "flow", "t": 1})
    said = _one_answer(_race(app, "/twilio/voice/answer", {**call, "Digits": "1"}, {"kind": "sos", "t": 2}, copies),
                       copies)
    assert "<Dial" in said
    session.expire_all()
    assert session.scalar(select(func.count(Emergency.request_id))
                          .join(ServiceRequest, ServiceRequest.id == Emergency.request_id)
                          .where(ServiceRequest.elder_id == world.elder_a.person_id)) == 1


@pytest.mark.parametrize("copies", [2, 6])
def test_copies_of_the_visit_call_answer_confirm_and_credit_once(copies, committed, app, world, session):
    done = visit(session, world.volunteer_a.person, world.elder_a, start=T0 - timedelta(days=1))
    session.commit()
    call = {"CallSid": f"CA-race-visit-{next(CALLS)}", "To": world.elder_a.person.phone, "Direction": "outbound-api"}
    said = _one_answer(_race(app, f"/twilio/voice/visit/{done.id}/answer", {**call, "Digits": "1"}, None, copies),
                       copies)
    assert "<Say" in said
    session.expire_all()
    assert session.get(Visit, done.id).status == "verified"
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.visit_id == done.id)) == 1


def test_a_retry_after_the_answer_replays_it(app, world, session):
    call = {"CallSid": "CA-retry", "From": world.elder_a.person.phone}
    client = app.test_client()
    first = _post(client, "/twilio/voice", call).get_data(as_text=True)
    assert _post(client, "/twilio/voice", call).get_data(as_text=True) == first
    assert session.scalar(select(VoiceTurn.response).where(VoiceTurn.call_sid == call["CallSid"])) == first


def test_a_turn_that_failed_is_released_for_the_retry(app, world, session, monkeypatch):
    from portal.conversation import engine

    real_begin = engine.begin
    failures = iter([RuntimeError("the database went away")])

    def failing_begin(*args, **kwargs):
        error = next(failures, None)
        if error is not None:
            raise error
        return real_begin(*args, **kwargs)

    monkeypatch.setattr(engine, "begin", failing_begin)
    call = {"CallSid": "CA-fails-once", "From": world.elder_a.person.phone}
    client = app.test_client()
    with pytest.raises(RuntimeError):
        _post(client, "/twilio/voice", call)
    assert session.scalar(select(func.count(VoiceTurn.id)).where(VoiceTurn.call_sid == call["CallSid"])) == 0
    retry = _post(client, "/twilio/voice", call)
    assert retry.status_code == 200 and "<Gather" in retry.get_data(as_text=True)


def test_a_copy_that_waits_too_long_gets_valid_twiml_and_an_abandoned_turn_is_taken_over(app, world, session,
                                                                                        monkeypatch):
    from portal.channels import voice_turns

    call = {"CallSid": "CA-slow", "From": world.elder_a.person.phone}
    client = app.test_client()
    url = "/twilio/voice"
    digest = _digest_of(app, url, call)
    session.add(VoiceTurn(digest=digest, call_sid=call["CallSid"], response=voice_turns.PENDING,
                          created_at=utcnow()))
    session.commit()
    monkeypatch.setattr(voice_turns, "WAIT_SECONDS", 0.2)
    waiting = _post(client, url, call)
    assert waiting.status_code == 200
    assert "<Pause" in waiting.get_data(as_text=True) and "<Redirect" in waiting.get_data(as_text=True)
    assert session.scalar(select(func.count(ConversationState.id))
                          .where(ConversationState.person_id == world.elder_a.person_id)) == 0
    # the first copy's process died: a minute later the turn is taken over and answered
    turn = session.scalar(select(VoiceTurn).where(VoiceTurn.digest == digest))
    turn.created_at = utcnow() - voice_turns.ABANDONED - timedelta(seconds=1)
    session.commit()
    answered = _post(client, url, call)
    assert "<Gather" in answered.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(VoiceTurn.response).where(VoiceTurn.digest == digest)) == answered.get_data(as_text=True)


def _digest_of(app, url: str, form: dict) -> str:
    from portal.channels.voice_turns import _digest

    with app.test_request_context(url, method="POST", data=form):
        return _digest()
