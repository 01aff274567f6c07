"""A relative sees her mother's month: visits with the visitor's name, the month's visit, her own
requests (not only the ones he placed) and emergencies; nothing of an elder he is not linked to."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.db import utcnow
from portal.models import AuditEvent, ServiceRequest
from portal.services import compliance
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
