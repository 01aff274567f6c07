"""Taken off a visit or a request (the day-25 reassignment, her deactivation, a request cancelled,
refused or expired): the volunteer is told once, in her language, and her queued reminders stop."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import OutboundMessage, ServiceRequest
from portal.services import compliance
from portal.services import requests as service_requests
from tests.factories import make_volunteer
from tests.jobs.test_compliance_month import at, month, obligation, run  # noqa: F401 (a fixture)


def messages(session, person_id, pattern):
    session.expire_all()
    return session.scalars(select(OutboundMessage).where(OutboundMessage.person_id == person_id,
                                                         OutboundMessage.dedupe_key.like(pattern))
                           .order_by(OutboundMessage.id)).all()


def test_the_day_25_reassignment_tells_the_visitor_once_in_her_language_and_stops_her_reminders(
        app, session, month):  # noqa: F811 (the fixture imported above)
    m = month
    m.spare.person.locale = "en"
    session.commit()
    run(app, "plan-visits", at("2026-11-01T00:10"))
    chen = obligation(session, m.chen)
    assert chen.assigned_to_id == m.spare.person_id
    run(app, "visit-reminders", at("2026-11-20T09:30"))
    reminders = messages(session, m.spare.person_id, f"obl:{chen.id}:remind:%")
    assert reminders and all(r.status == "queued" for r in reminders)  # not sent yet (the sender is not running)

    run(app, "visit-reminders", at("2026-11-25T09:30"))
    assert obligation(session, m.chen).assigned_to_id != m.spare.person_id
    off = messages(session, m.spare.person_id, f"obl:{chen.id}:off:%")
    assert len(off) == 1 and "You no longer need to visit 陈爷爷" in off[0].body and "[Linli]" in off[0].body
    assert all(r.status == "cancelled" for r in messages(session, m.spare.person_id, f"obl:{chen.id}:remind:%"))
    # reruns (the same day, the next day) tell nobody twice
    run(app, "visit-reminders", at("2026-11-25T15:00"))
    run(app, "visit-reminders", at("2026-11-26T09:30"))
    assert len(messages(session, m.spare.person_id, f"obl:{chen.id}:off:%")) == 1


def test_a_deactivated_volunteer_is_told_of_each_visit_and_request_she_was_taken_off(
        app, session, month):  # noqa: F811 (the fixture imported above)
    m = month
    volunteer = m.w.volunteer_a
    run(app, "plan-visits", at("2026-11-01T00:10"))
    run(app, "visit-reminders", at("2026-11-10T09:30"))
    liu = obligation(session, m.liu)
    assert liu.assigned_to_id == volunteer.person_id
    assert messages(session, volunteer.person_id, f"obl:{liu.id}:remind:%")[0].status == "queued"
    # she also accepted a meal for 陈爷爷, given to her by the worker (a queued text tells her)
    now = at("2026-11-12T08:00")
    request = service_requests.create_request(session, m.chen, m.chen.person, "web", "meal", {"meal": "lunch"},
                                              at("2026-11-13T11:00"), now)
    service_requests.accept(session, request.id, volunteer.person, now, by=m.w.worker_a)
    session.commit()

    compliance.deactivate_volunteer(session, volunteer, m.w.worker_a.id, at("2026-11-12T10:00"))
    session.commit()
    assert obligation(session, m.liu).assigned_to_id != volunteer.person_id
    off = messages(session, volunteer.person_id, f"obl:{liu.id}:off:%")
    assert len(off) == 1 and "不用您去探访刘奶奶" in off[0].body
    assert messages(session, volunteer.person_id, f"obl:{liu.id}:remind:%")[0].status == "cancelled"
    request = session.get(ServiceRequest, request.id)
    assert request.status == "open" and request.volunteer_id is None
    assert [e.kind for e in request.events][-1] == "released"
    told = messages(session, volunteer.person_id, f"req:{request.id}:vol-off:%")
    assert len(told) == 1 and request.reference in told[0].body
    assert messages(session, volunteer.person_id, f"req:{request.id}:vol-assigned")[0].status == "cancelled"


def _accepted_meal(session, world, now):
    other = make_volunteer(session, world.community_a, "乙志愿者", verified_by=world.worker_a)
    request = service_requests.create_request(session, world.elder_a, world.family_a, "web", "meal",
                                              {"meal": "lunch"}, now + timedelta(days=1), now)
    alerts = messages(session, other.person_id, f"req:{request.id}:vol:%")
    assert alerts and alerts[0].status == "queued"
    service_requests.accept(session, request.id, world.volunteer_a.person, now)
    return request, other


def test_a_cancelled_request_tells_its_volunteer_and_stops_the_other_alerts(app, session, world):
    now = at("2026-11-12T08:00")
    request, other = _accepted_meal(session, world, now)
    service_requests.cancel(session, request, world.family_a, "web", now + timedelta(minutes=2))
    session.commit()
    assert messages(session, other.person_id, f"req:{request.id}:vol:%")[0].status == "cancelled"
    told = messages(session, world.volunteer_a.person_id, f"req:{request.id}:vol-cancel")
    assert len(told) == 1 and "不用去了" in told[0].body


def test_a_refused_request_tells_its_volunteer_and_stops_the_other_alerts(app, session, world):
    now = at("2026-11-12T08:00")
    request, other = _accepted_meal(session, world, now)
    service_requests.refuse(session, request, world.elder_a.person, "sms", now + timedelta(minutes=20))
    session.commit()
    assert messages(session, other.person_id, f"req:{request.id}:vol:%")[0].status == "cancelled"
    assert len(messages(session, world.volunteer_a.person_id, f"req:{request.id}:vol-cancel")) == 1


def test_an_expired_request_stops_its_alerts(app, session, world):
    now = at("2026-11-12T08:00")
    other = make_volunteer(session, world.community_a, "乙志愿者", verified_by=world.worker_a)
    request = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "meal",
                                              {"meal": "lunch"}, now + timedelta(hours=3), now)
    assert service_requests.expire_unaccepted(session, now + timedelta(days=3)) == 1
    session.commit()
    assert messages(session, other.person_id, f"req:{request.id}:vol:%")[0].status == "cancelled"
