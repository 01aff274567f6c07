"""每日问安: a day of daily calls for the demo's elders living alone with the clock stepped — answers
by key and by text, a 9, and the missed-call escalation — then the worker's list, "someone saw
her", and a week of misses raised to the street officer."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.channels import outbox
from portal.channels.inbound import dispatch_sms
from portal.models import (
    CheckInDay,
    DailyCheckIn,
    ElderProfile,
    FamilyLink,
    OutboundMessage,
    Pairing,
    Person,
    ServiceRequest,
)
from portal.services import checkins, questions
from portal.services import requests as service_requests
from portal.services.demo import seed_demo
from tests.channels.helpers import TOKEN, post_signed, shanghai
from tests.factories import PASSWORD, make_elder, make_staff

DAY = (2026, 11, 24)


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def step_clock(session, transport, start: datetime, end: datetime, on_call=None) -> None:
    """Every 5 minutes: the job, then the sender; `on_call(message, now)` plays each elder's phone."""
    now = start
    while now <= end:
        checkins.run_checkins(session, now)
        session.commit()
        before = len(transport.sent)
        outbox.send_due(session, transport, now=now)
        for record in list(transport.sent)[before:]:
            if record.channel == "call" and record.kind == checkins.CHECKIN_KIND and on_call:
                on_call(record, now)
        now += timedelta(minutes=5)


def test_a_day_of_daily_calls_for_the_demos_elders_living_alone(app, client, session, transport):
    seed_demo(session, datetime(*DAY).date())
    session.commit()
    subscribed = session.scalars(select(DailyCheckIn)).all()
    alone = session.scalars(select(ElderProfile).where(ElderProfile.living_situation == "alone")).all()
    assert subscribed and {s.elder_id for s in subscribed} == {e.person_id for e in alone}
    by_phone = {e.person.phone: e for e in alone}
    wang = session.scalar(select(Person).where(Person.name == "王秀英"))
    # Who does what: 王秀英 presses 1 on the first call; one elder texts 1; one presses 9; one
    # answers only the retry; the rest never answer.
    others = sorted((e for e in alone if e.person_id != wang.id), key=lambda e: e.person_id)
    texter, presses_nine, answers_retry = others[0], others[1], others[2]
    calls_seen: dict[int, int] = {}

    def phone(record, now):
        elder = by_phone[record.to]
        day_id = int(record.body.rsplit("/", 1)[1])
        calls_seen[elder.person_id] = calls_seen.get(elder.person_id, 0) + 1
        form = {"CallSid": f"CA{day_id:08d}{calls_seen[elder.person_id]}", "From": "+8610690000000",
                "To": record.to, "Direction": "outbound-api"}
        greeting = post_signed(client, f"/twilio/voice/checkin/{day_id}", form).get_data(as_text=True)
        assert "您今天好吗" in greeting and "按1" in greeting and "按9" in greeting
        digit = None
        if elder.person_id == wang.id:
            assert "王奶奶" in greeting and "早上好" in greeting
            digit = "1"
        elif elder.person_id == presses_nine.person_id:
            digit = "9"
        elif elder.person_id == answers_retry.person_id and calls_seen[elder.person_id] == 2:
            digit = "1"
        elif elder.person_id == texter.person_id:
            with app.test_request_context():
                assert dispatch_sms(session, texter.person, "1", now) == "收到，知道您今天挺好，谢谢！"
            session.commit()
            return
        if digit:
            post_signed(client, f"/twilio/voice/checkin/{day_id}/answer", {**form, "Digits": digit})

    step_clock(session, transport, shanghai(*DAY, 7, 55), shanghai(*DAY, 11, 30), on_call=phone)
    session.expire_all()
    days = {d.elder_id: d for d in session.scalars(select(CheckInDay))}
    assert set(days) == {e.person_id for e in alone}  # everyone living alone was called today
    assert days[wang.id].status == "ok" and days[wang.id].calls == 1 and days[wang.id].answered_via == "call"
    assert days[texter.person_id].status == "ok" and days[texter.person_id].answered_via == "sms"
    assert days[presses_nine.person_id].status == "emergency"
    assert days[answers_retry.person_id].status == "ok" and days[answers_retry.person_id].calls == 2
    missed = [e for e in alone if days[e.person_id].status == "missed"]
    assert len(missed) == len(alone) - 4
    assert all(days[e.person_id].calls == 2 for e in missed)  # one retry, 30 minutes later
    first, last = days[missed[0].person_id].first_call_at, days[missed[0].person_id].last_call_at
    assert last - first == timedelta(minutes=30)
    # The 9 raised an emergency alert to her list.
    sos = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "emergency")).all()
    assert sos and all(presses_nine.person.name in m.body for m in sos)
    # Each missed elder's paired volunteer and a family member were texted, in Chinese.
    told = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "checkin_missed")).all()
    for elder in missed:
        expected = set()
        pairing = session.scalar(select(Pairing).where(Pairing.elder_id == elder.person_id, Pairing.active)
                                 .order_by(Pairing.id))
        if pairing:
            expected.add(pairing.volunteer.phone)
        link = session.scalar(select(FamilyLink).where(FamilyLink.elder_id == elder.person_id,
                                                       FamilyLink.status == "approved").order_by(FamilyLink.id))
        if link:
            expected.add(link.family.phone)
        elif elder.emergency_contacts:
            expected.add(elder.emergency_contacts[0]["phone"])
        texts = [m for m in told if elder.person.name in m.body]
        assert {m.to_phone for m in texts} == expected, elder.person.name
        pronoun = "她" if elder.gender == "f" else "他"
        assert all(m.body == f"【邻里】今天没有接到{elder.person.name}的问安电话，请看看{pronoun}" for m in texts)
    # Idempotent: running the job again changes nothing.
    count = session.query(OutboundMessage).count()
    assert checkins.run_checkins(session, shanghai(*DAY, 11, 35)) == {"placed": 0, "retried": 0, "missed": 0}
    session.commit()
    assert session.query(OutboundMessage).count() == count


@pytest.fixture()
def alone(world, session):
    elder = world.elder_a
    elder.living_situation, elder.gender = "alone", "f"
    session.add(Pairing(volunteer_id=world.volunteer_a.person_id, elder_id=elder.person_id))
    checkins.subscribe(session, elder, "09:00", world.worker_a, shanghai(*DAY, 8, 0))
    session.commit()
    return elder


def _miss_a_day(session, transport, day: datetime) -> None:
    step_clock(session, transport, day.replace(hour=0, minute=55), day.replace(hour=2, minute=10))


def test_the_worker_sees_a_miss_until_someone_records_seeing_her(world, browser, session, transport, alone):
    _miss_a_day(session, transport, shanghai(*DAY, 8, 0))  # 09:00 local = 01:00 UTC
    browser.login(world.worker_a.phone, PASSWORD)
    page = browser.get("/worker/checkins/").get_data(as_text=True)
    assert 'id="checkin-unseen"' in page and alone.person.name in page.split('id="history-title"')[0]
    day = session.scalar(select(CheckInDay).where(CheckInDay.elder_id == alone.person_id))

    # a worker of another community cannot mark her seen
    other = browser.client.application.test_client()
    from tests.conftest import Browser

    outsider = Browser(other, transport)
    outsider.login(world.worker_b.phone, PASSWORD)
    assert outsider.post("/worker/checkins/seen", {"day_id": str(day.id)}, page="/worker/checkins/").status_code == 404
    session.refresh(day)
    assert day.seen_at is None

    response = browser.post("/worker/checkins/seen", {"day_id": str(day.id)}, page="/worker/checkins/")
    assert response.status_code == 303
    session.refresh(day)
    assert day.seen_by_id == world.worker_a.id
    page = browser.get("/worker/checkins/").get_data(as_text=True)
    assert 'id="checkin-unseen-none"' in page
    # her last 30 days at a glance: today's miss is the last mark
    row = page.split(f'data-elder="{alone.person_id}"')[1].split("</tr>")[0]
    assert row.count("<span") == 30


def test_opting_in_checks_the_time_and_the_scope(world, browser, session, alone):
    other = world.elder_b
    other.living_situation = "alone"
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    bad = browser.post("/worker/checkins/opt-in", {"elder_id": str(other.person_id), "call_time": "25:00"},
                       page="/worker/checkins/")
    assert bad.status_code == 200 and "error-summary" in bad.get_data(as_text=True)
    out_of_scope = browser.post("/worker/checkins/opt-in", {"elder_id": str(other.person_id), "call_time": "09:00"},
                                page="/worker/checkins/")
    assert out_of_scope.status_code == 200 and "error-summary" in out_of_scope.get_data(as_text=True)
    assert session.get(DailyCheckIn, other.person_id) is None  # elder B is not in worker A's list at all
    neighbour = make_elder(session, world.community_a, "甲独居老人", living_situation="alone")
    session.commit()
    done = browser.post("/worker/checkins/opt-in", {"elder_id": str(neighbour.person_id), "call_time": "08:30"},
                        page="/worker/checkins/")
    assert done.status_code == 303
    session.expire_all()
    assert session.get(DailyCheckIn, neighbour.person_id).call_time == "08:30"


def test_a_week_of_misses_nobody_followed_up_reaches_the_street_officer(world, session, transport, alone):
    street_officer = make_staff(session, "officer", world.street_a, "街道干部")
    session.commit()
    start = shanghai(*DAY, 8, 0)
    for offset in range(7):
        _miss_a_day(session, transport, start + timedelta(days=offset))
    told = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "checkin_officer")).all()
    assert [m.to_phone for m in told] == [street_officer.phone]
    assert alone.person.name in told[0].body and "7" in told[0].body
    _miss_a_day(session, transport, start + timedelta(days=7))  # the 8th day: told once, not again
    assert session.query(OutboundMessage).filter(OutboundMessage.kind == "checkin_officer").count() == 1


def test_a_seen_day_stops_the_weekly_escalation(world, session, transport, alone):
    make_staff(session, "officer", world.street_a, "街道干部")
    session.commit()
    start = shanghai(*DAY, 8, 0)
    for offset in range(7):
        _miss_a_day(session, transport, start + timedelta(days=offset))
        if offset == 3:
            day = session.scalars(select(CheckInDay).order_by(CheckInDay.day.desc())).first()
            checkins.record_seen(session, day, world.worker_a, start + timedelta(days=offset, hours=3))
            session.commit()
    assert session.query(OutboundMessage).filter(OutboundMessage.kind == "checkin_officer").count() == 0


class TestThePhoneSimulatorPlaysTheElder:
    @pytest.fixture()
    def app_config(self, app_config):
        app_config.update(LINLI_DEV_TOOLS=True, TWILIO_AUTH_TOKEN="")
        return app_config

    def test_answering_the_daily_call_in_the_simulator(self, browser, session, transport, alone):
        checkins.run_checkins(session, shanghai(*DAY, 9, 1))
        session.commit()
        page = browser.get(f"/dev/phone?person={alone.person_id}").get_data(as_text=True)
        assert 'id="answer-portal-call"' in page and "接听平台的来电" in page
        action = page.split('id="answer-portal-call"')[1].split('name="action" value="')[1].split('"')[0]
        assert action.startswith("/twilio/voice/checkin/")
        answered = browser.post("/dev/phone/call", {"person": str(alone.person_id), "action": action},
                                page=f"/dev/phone?person={alone.person_id}").get_data(as_text=True)
        assert "甲奶奶，早上好，您今天好吗？好请按1，需要帮助请按9" in answered
        keypad_action = answered.split('class="keypad"')[1].split('name="action" value="')[1].split('"')[0]
        done = browser.post("/dev/phone/call", {"person": str(alone.person_id), "action": keypad_action,
                                                "digits": "1"}, page=f"/dev/phone?person={alone.person_id}")
        assert "祝您今天愉快" in done.get_data(as_text=True)
        session.expire_all()
        day = session.scalar(select(CheckInDay).where(CheckInDay.elder_id == alone.person_id))
        assert day.status == "ok" and day.answered_via == "call"


# --- one model for every digit: the 问安 call is the question asked last -------------------

def _text(app, session, person, body, now):
    with app.test_request_context():
        reply = dispatch_sms(session, person, body, now)
        session.commit()
        return reply


@pytest.mark.parametrize("asked_last", ["checkin", "family order"])
def test_a_1_answers_whichever_question_was_asked_last(app, session, world, transport, alone, asked_last):
    call_at = shanghai(*DAY, 9, 1)
    order_at = call_at + timedelta(minutes=10 if asked_last == "family order" else -10)
    steps = [("order", order_at), ("call", call_at)]
    for what, at in sorted(steps, key=lambda step: step[1]):
        with app.app_context():
            if what == "order":
                order = service_requests.create_request(session, alone, world.family_a, "web", "cleaning", {},
                                                        at + timedelta(days=1), at)
            else:
                checkins.run_checkins(session, at)
            session.commit()
    assert questions.last_asked(session, alone.person_id, call_at + timedelta(minutes=15)).kind == (
        "checkin" if asked_last == "checkin" else "refuse")
    reply = _text(app, session, alone.person, "1", call_at + timedelta(minutes=20))
    session.expire_all()
    day = session.scalar(select(CheckInDay).where(CheckInDay.elder_id == alone.person_id))
    if asked_last == "checkin":
        assert reply == "收到，知道您今天挺好，谢谢！" and day.status == "ok" and day.answered_via == "sms"
    else:
        assert "照常" in reply and day.status == "calling"  # the order is kept; the call is still unanswered
    assert session.get(ServiceRequest, order.id).status == "open"


def test_a_text_of_9_after_the_call_is_an_emergency_and_a_key_on_the_call_closes_the_question(
        app, session, world, transport, alone):
    call_at = shanghai(*DAY, 9, 1)
    checkins.run_checkins(session, call_at)
    session.commit()
    reply = _text(app, session, alone.person, "9", call_at + timedelta(minutes=3))
    assert "120" in reply
    session.expire_all()
    day = session.scalar(select(CheckInDay).where(CheckInDay.elder_id == alone.person_id))
    assert day.status == "emergency"
    assert session.scalar(select(ServiceRequest).where(ServiceRequest.service == "emergency",
                                                       ServiceRequest.elder_id == alone.person_id)) is not None
    # another day: she presses 1 on the call, and a later "1" answers nothing of it
    next_day = call_at + timedelta(days=1)
    checkins.run_checkins(session, next_day)
    session.commit()
    day = session.scalar(select(CheckInDay).where(CheckInDay.elder_id == alone.person_id,
                                                  CheckInDay.day == next_day.astimezone(checkins.local_tz()).date()))
    checkins.answer(session, day, "1", "call", next_day + timedelta(minutes=1))
    session.commit()
    assert questions.last_asked(session, alone.person_id, next_day + timedelta(minutes=2)) is None


def test_the_question_of_the_call_closes_at_the_end_of_her_day(app, session, world, transport, alone):
    call_at = shanghai(*DAY, 9, 1)
    checkins.run_checkins(session, call_at)
    session.commit()
    assert not questions.last_asked(session, alone.person_id, shanghai(*DAY, 23, 59)).expired
    assert questions.last_asked(session, alone.person_id, shanghai(2026, 11, 25, 0, 1)).expired
