"""A relative sees her mother's month: visits with the visitor's name, the month's visit, her own
requests (not only the ones he placed) and emergencies; nothing of an elder he is not linked to."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.models import AuditEvent, ServiceRequest
from portal.services import DomainError, compliance
from portal.services import requests as service_requests
from tests.jobs.test_compliance_month import verify_visit


def test_family_sees_the_mothers_month(app, session, world, browser):
    now = utcnow()
    compliance.plan_visits(session, now)
    visit = verify_visit(session, world.elder_a.person_id, world.volunteer_a.person_id, now - timedelta(minutes=50))
    from portal.services.visit_records import HEADINGS, record_visit

    record_visit(session, visit, {**{h.key: h.choices[0][0] for h in HEADINGS}, "gas": "hazard"},
                 world.volunteer_a.person_id, "web", now - timedelta(minutes=5))
    session.commit()
    with app.app_context():
        own = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "cleaning",
                                              {"half_day": "morning"}, now + timedelta(days=1), now)
        session.commit()
    browser.login(world.family_a.phone)
    home = browser.get("/family/").get_data(as_text=True)
    assert f'href="/family/elders/{world.elder_a.person_id}"' in home
    html = browser.get(f"/family/elders/{world.elder_a.person_id}").get_data(as_text=True)
    visits = html[html.index('class="table visits"'):html.index("</table>")]
    row = re.search(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>(\d+)</td><td>([^<]+)</td></tr>", visits)
    assert row and row.group(1) == "甲志愿者" and row.group(2) == "40" and row.group(3).startswith("已确认")
    assert "本月探访已完成" in html
    summary = html[html.index('class="facts visit-record-summary"'):]
    assert re.search(r"<dt>燃气</dt><dd class=\"risky\">有隐患", summary)
    # her own request, placed by herself, is listed without a link to its page
    assert "助洁" in html and own.reference not in html
    assert session.scalar(select(AuditEvent).where(AuditEvent.actor_id == world.family_a.id,
                                                   AuditEvent.action == "view"))
    # another elder's month does not exist for him; a bad month goes back with a message
    assert browser.get(f"/family/elders/{world.elder_b.person_id}").status_code == 404
    response = browser.get(f"/family/elders/{world.elder_a.person_id}?period=2999-01", follow_redirects=True)
    assert response.status_code == 200 and re.search("还没有开始", response.get_data(as_text=True))
    assert session.scalar(select(ServiceRequest.id).where(ServiceRequest.id == own.id))


def _day(session, elder, day, status, now):
    from portal.models import CheckInDay

    row = CheckInDay(elder_id=elder.person_id, day=day, status=status, calls=1, first_call_at=now, last_call_at=now,
                     answered_at=now if status == "ok" else None)
    session.add(row)
    session.flush()
    return row


def test_the_month_shows_her_daily_check_in_answers(app, session, world, browser):
    from portal.services import checkins
    from portal.services.compliance.periods import local_date

    now = utcnow()
    checkins.subscribe(session, world.elder_a, "08:30", world.elder_a.person, now)
    today = local_date(now)
    _day(session, world.elder_a, today, "ok", now)
    if today.day > 1:
        _day(session, world.elder_a, today - timedelta(days=1), "missed", now - timedelta(days=1))
    session.commit()
    browser.login(world.family_a.phone)
    html = browser.get(f"/family/elders/{world.elder_a.person_id}").get_data(as_text=True)
    table = html[html.index('class="table checkins"'):]
    table = table[:table.index("</table>")]
    assert "每天早上08:30给老人打问安电话" in html and "接了，挺好" in table
    if today.day > 1:
        assert '<td class="risky">没接' in table


def test_a_relative_opts_in_to_texts_and_only_for_her_own_elder(app, session, world, browser):
    from portal.models import FamilyLink, OutboundMessage
    from portal.services import visits as visit_service

    def texts_to(person):
        session.expire_all()
        return [m.body for m in session.scalars(select(OutboundMessage).where(OutboundMessage.to_phone == person.phone,
                                                                              OutboundMessage.kind == "notice"))]

    now = utcnow()
    first = verify_visit(session, world.elder_a.person_id, world.volunteer_a.person_id, now - timedelta(hours=3))
    assert not any("上门探访" in body for body in texts_to(world.family_a))  # not chosen yet
    browser.login(world.family_a.phone)
    page = f"/family/elders/{world.elder_a.person_id}"
    assert "发短信告诉我" in browser.get(page).get_data(as_text=True)
    # an elder he is not linked to: 404, nothing changes
    response = browser.post(f"/family/elders/{world.elder_b.person_id}/notifications", {"notify_visits": "y"},
                            page=page)
    assert response.status_code == 404
    link = session.scalar(select(FamilyLink).where(FamilyLink.family_id == world.family_a.id))
    assert not link.notify_visits
    response = browser.post(f"/family/elders/{world.elder_a.person_id}/notifications", {"notify_visits": "y"},
                            page=page)
    assert response.status_code == 303
    session.expire_all()
    assert link.notify_visits and not link.notify_checkins
    html = browser.get(page).get_data(as_text=True)
    assert '<input checked id="notify_visits"' in html and '<input id="notify_checkins"' in html
    second = verify_visit(session, world.elder_a.person_id, world.volunteer_a.person_id, now - timedelta(hours=1))
    told = [body for body in texts_to(world.family_a) if "上门探访了甲老人" in body]
    assert len(told) == 1 and "甲志愿者" in told[0]
    assert first.id != second.id
    # a worker's verification of the same visit again tells nobody twice
    with pytest.raises(DomainError):
        visit_service.verify_by_worker(session, second, world.worker_a, now)
    session.rollback()
    assert len([body for body in texts_to(world.family_a) if "上门探访了甲老人" in body]) == 1


def test_a_relative_who_opted_in_hears_of_a_missed_check_in_and_a_missed_month(app, session, world):
    from portal.models import FamilyLink, OutboundMessage
    from portal.services import checkins
    from portal.services.compliance.periods import local_date
    from tests.factories import make_person
    from tests.jobs.test_compliance_month import at

    son = make_person(session, "甲儿子", role="family", area=world.community_a)
    link = FamilyLink(family_id=son.id, elder_id=world.elder_a.person_id, relation="儿子", status="approved")
    session.add(link)
    session.flush()
    now = at("2026-11-05T10:00")
    day = _day(session, world.elder_a, local_date(now), "missed", now)
    checkins._tell_missed(session, day, world.elder_a, now)
    missed = session.scalars(select(OutboundMessage.to_phone).where(OutboundMessage.kind == "checkin_missed")).all()
    assert world.family_a.phone in missed and son.phone not in missed  # the first contact only
    link.notify_checkins = link.notify_visits = True
    day2 = _day(session, world.elder_a, local_date(now) + timedelta(days=1), "missed", now + timedelta(days=1))
    checkins._tell_missed(session, day2, world.elder_a, now + timedelta(days=1))
    assert session.scalar(select(OutboundMessage).where(OutboundMessage.to_phone == son.phone,
                                                        OutboundMessage.kind == "checkin_missed"))
    # the month closes without a visit: he is told, once
    compliance.plan_visits(session, at("2026-11-01T00:10"))
    compliance.close_periods(session, at("2026-12-01T00:30"))
    compliance.close_periods(session, at("2026-12-01T06:30"))
    session.commit()
    told = session.scalars(select(OutboundMessage.body).where(OutboundMessage.to_phone == son.phone,
                                                              OutboundMessage.kind == "notice")).all()
    assert len([t for t in told if "没有人上门探访甲老人" in t]) == 1
    assert not [t for t in session.scalars(select(OutboundMessage.body).where(
        OutboundMessage.to_phone == world.family_a.phone)) if "没有人上门探访" in t]
