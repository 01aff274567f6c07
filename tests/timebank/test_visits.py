"""Visits and verification at the service level: what volunteers, elders and workers would notice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import FamilyLink, FollowUp, OutboundMessage, Transfer, Visit
from portal.ratelimit import MemoryLimiter
from portal.services import DomainError, ledger
from portal.services import visits as visit_service
from portal.services.door import door_token
from tests.factories import make_elder, make_volunteer
from tests.timebank.helpers import T0, visit

SECRET = "test-secret-key"


def transfers(session):
    return session.scalar(select(func.count(Transfer.id)))


def test_code_check_in_out_and_sms_confirmation_credit_exact_minutes(app, world, session):
    volunteer = world.volunteer_a.person
    v = visit(session, volunteer, world.elder_a, minutes=95)
    assert v.duration_minutes == 95 and v.status == "done" and v.counts_for_compliance
    asked = session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "visit_confirm"))
    assert asked.to_phone == world.elder_a.person.phone and "1" in asked.body
    visit_service.confirm_by_elder(session, v, world.elder_a.person, "sms", T0 + timedelta(hours=2))
    assert v.status == "verified" and v.credited_minutes == 95
    assert ledger.balance_of(session, volunteer.id) == 95


def test_duration_is_capped_per_visit(app, world, session):
    v = visit(session, world.volunteer_a.person, world.elder_a, minutes=400)
    assert v.duration_minutes == 240


def test_weight_of_the_service_type(app, world, session):
    volunteer = world.volunteer_a.person
    v = visit_service.check_in(session, volunteer, world.elder_a, "door_code", T0, service_type="bathing")
    visit_service.check_out(session, v, volunteer, T0 + timedelta(minutes=60), "door_code")
    visit_service.verify_by_worker(session, v, world.worker_a, T0 + timedelta(hours=1))
    assert ledger.balance_of(session, volunteer.id) == 90  # 60 × 1.5


def test_daily_cap_records_what_is_not_credited(app, world, session):
    volunteer = world.volunteer_a.person
    first = visit(session, volunteer, world.elder_a, start=T0, minutes=240)
    second = visit(session, volunteer, world.elder_a, start=T0 + timedelta(hours=5), minutes=240)
    third = visit(session, volunteer, world.elder_a, start=T0 + timedelta(hours=10), minutes=60)
    for v in (first, second, third):
        visit_service.verify_by_worker(session, v, world.worker_a, T0 + timedelta(hours=12))
    assert ledger.balance_of(session, volunteer.id) == 480
    assert third.credited_minutes == 0 and third.uncredited_minutes == 60 and third.uncredited_reason == "daily_cap"


def test_check_out_before_check_in_is_refused(app, world, session):
    volunteer = world.volunteer_a.person
    v = visit_service.check_in(session, volunteer, world.elder_a, "door_code", T0)
    with pytest.raises(DomainError) as error:
        visit_service.check_out(session, v, volunteer, T0 - timedelta(minutes=5), "door_code")
    assert "after check-in" in str(error.value.message)
    assert v.status == "open" and transfers(session) == 0


def test_overlapping_visits_by_one_volunteer_are_refused(app, world, session):
    volunteer = world.volunteer_a.person
    neighbour = make_elder(session, world.community_a, "甲邻居")  # within the volunteer's reach
    current = visit_service.check_in(session, volunteer, world.elder_a, "door_code", T0)
    with pytest.raises(DomainError, match="still checked in"):
        visit_service.check_in(session, volunteer, neighbour, "door_code", T0 + timedelta(minutes=10))
    visit_service.check_out(session, current, volunteer, T0 + timedelta(minutes=60), "door_code")
    visit(session, world.volunteer_a.person, neighbour, start=T0 - timedelta(hours=3), minutes=60)
    with pytest.raises(DomainError, match="already has a visit"):
        visit_service.record_by_worker(session, world.worker_a, volunteer, neighbour,
                                       T0 - timedelta(hours=2, minutes=30), T0 - timedelta(hours=1), T0)


def test_door_token_forged_or_replaced_card(app, world, session):
    token = door_token(SECRET, world.elder_a)
    volunteer_id = world.volunteer_a.person_id
    assert visit_service.elder_from_token(session, SECRET, token, volunteer_id).person_id == world.elder_a.person_id
    with pytest.raises(DomainError, match="not valid"):
        visit_service.elder_from_token(session, SECRET, token[:-3] + "abc", volunteer_id)
    with pytest.raises(DomainError, match="not valid"):
        visit_service.elder_from_token(session, "another-key", token, volunteer_id)
    world.elder_a.door_token_version += 1  # the worker reprinted the card
    session.flush()
    with pytest.raises(DomainError, match="replaced"):
        visit_service.elder_from_token(session, SECRET, token, volunteer_id)


def test_five_wrong_codes_lock_check_in_for_that_volunteer(app, world, session):
    limiter = MemoryLimiter()
    volunteer = world.volunteer_a.person
    other = make_volunteer(session, world.community_a, "另一位志愿者").person
    for attempt in range(4):
        with pytest.raises(DomainError, match="not right"):
            visit_service.elder_from_code(session, limiter, volunteer.id, "999999", T0)
    with pytest.raises(DomainError, match="Too many"):
        visit_service.elder_from_code(session, limiter, volunteer.id, "999999", T0)
    with pytest.raises(DomainError, match="Too many"):  # even the right code, for a while
        visit_service.elder_from_code(session, limiter, volunteer.id, world.elder_a.door_code, T0)
    assert visit_service.elder_from_code(session, limiter, other.id, world.elder_a.door_code, T0)
    later = T0 + timedelta(minutes=31)
    assert visit_service.elder_from_code(session, limiter, volunteer.id, world.elder_a.door_code, later)
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_wellbeing_flags_make_a_follow_up_for_the_worker(app, world, session):
    volunteer = world.volunteer_a.person
    v = visit_service.check_in(session, volunteer, world.elder_a, "door_code", T0)
    visit_service.check_out(session, v, volunteer, T0 + timedelta(minutes=30), "door_code",
                            notes="冰箱是空的", flags=["no_food", "unwell"])
    task = session.scalar(select(FollowUp))
    assert task.flags == ["no_food", "unwell"] and task.community_id == world.community_a.id
    with pytest.raises(DomainError):
        visit_service.clean_flags(["bogus"])


def test_dispute_credits_nothing_and_tells_the_worker(app, world, session):
    v = visit(session, world.volunteer_a.person, world.elder_a)
    visit_service.dispute_by_elder(session, v, world.elder_a.person, "sms", T0 + timedelta(hours=2))
    assert v.status == "disputed" and transfers(session) == 0
    assert session.scalar(select(FollowUp.reason)) == "disputed"


def test_nobody_verifies_their_own_visit(app, world, session):
    from tests.factories import make_volunteer as mv

    # The worker also volunteers; they cannot verify their own visit.
    profile = mv(session, world.community_a, phone=world.worker_a.phone, name=world.worker_a.name)
    v = visit(session, profile.person, world.elder_a)
    with pytest.raises(DomainError, match="own visit"):
        visit_service.verify_by_worker(session, v, world.worker_a, T0 + timedelta(hours=2))
    assert transfers(session) == 0


def test_a_volunteer_visiting_a_relative_needs_a_worker(app, world, session):
    volunteer = world.volunteer_a.person
    session.add(FamilyLink(family_id=volunteer.id, elder_id=world.elder_a.person_id, relation="女儿",
                           status="approved"))
    session.flush()
    v = visit(session, volunteer, world.elder_a)
    assert v.needs_worker
    visit_service.confirm_by_elder(session, v, world.elder_a.person, "sms", T0 + timedelta(hours=2))
    assert v.status == "done" and v.elder_confirmed_at is not None and transfers(session) == 0
    assert session.scalar(select(FollowUp.reason)) == "relative"
    visit_service.verify_by_worker(session, v, world.worker_a, T0 + timedelta(hours=3))
    assert ledger.balance_of(session, volunteer.id) == 90


def test_verification_signal_carries_the_verified_visit(app, world, session):
    from portal import events

    seen = []

    def listener(sender, session, now):
        seen.append((sender.id, sender.status))

    events.visit_verified.connect(listener)
    try:
        v = visit(session, world.volunteer_a.person, world.elder_a)
        visit_service.confirm_by_elder(session, v, world.elder_a.person, "web", T0 + timedelta(hours=2))
    finally:
        events.visit_verified.disconnect(listener)
    assert seen == [(v.id, "verified")]


def test_a_visit_shorter_than_the_policy_minimum_is_not_the_months_visit_and_says_why(app, world, session, browser):
    from portal.models import ElderVisitStat
    from portal.web.visits import visit_status_label

    volunteer = world.volunteer_a.person
    quick = visit(session, volunteer, world.elder_a, minutes=3)
    visit_service.confirm_by_elder(session, quick, world.elder_a.person, "sms", T0 + timedelta(hours=1))
    assert quick.status == "verified" and not quick.counts_for_compliance
    assert session.get(ElderVisitStat, world.elder_a.person_id) is None        # not the elder's last visit
    with app.test_request_context():
        assert "不足 10 分钟" in visit_status_label(quick)
    full = visit(session, volunteer, world.elder_a, start=T0 + timedelta(hours=3), minutes=10)
    assert full.counts_for_compliance


def test_a_request_served_is_a_visit_from_door_check_in_to_credit(app, world, session):
    """Accept → check in at the door → check out → the elder confirms → credit, and the request
    follows: started at the door, done at check-out, confirmed with the visit."""
    from portal.models import ServiceRequest
    from portal.services import requests as service_requests

    volunteer = world.volunteer_a.person
    with app.app_context():
        req = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "cleaning",
                                              {"half_day": "morning"}, T0 + timedelta(hours=1), T0 - timedelta(hours=5))
        service_requests.accept(session, req.id, volunteer, T0 - timedelta(hours=4))
        v = visit(session, volunteer, world.elder_a, start=T0, minutes=60)
    request = session.get(ServiceRequest, req.id)
    assert v.request_id == req.id and v.service_type == "cleaning"
    assert request.status == "done" and request.started_at == T0
    asked = session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == world.elder_a.person.phone,
                                                          OutboundMessage.created_at >= T0)).all()
    assert len([m for m in asked if m.kind == "visit_confirm"]) == 1 and not any("回复1" in m.body and
                                                                                   m.kind != "visit_confirm" for m in asked)
    visit_service.confirm_by_elder(session, v, world.elder_a.person, "sms", T0 + timedelta(hours=2))
    assert request.status == "confirmed" and v.credited_minutes and ledger.balance_of(session, volunteer.id) > 0
