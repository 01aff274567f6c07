"""Paper first (issue 14, point 5) in a real Chromium with JavaScript off: the demo worker keys a
volunteer's paper visit sheet back in with the keyboard alone — Tab from the top of the page to the
sheet's day, then box by box through the first row (visitor, day, times, one number per heading),
Enter to save — and the visit is a hand-entered one waiting for the elder."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import VIEWPORTS, WORKER, open_chromium, shot
from tests.browser.test_journeys import sign_in
from tests.browser.test_product_journeys import _db, _demo_password, planned_month  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def _focused(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


@pytest.mark.usefixtures("planned_month")
def test_a_paper_sheet_is_keyed_in_with_the_keyboard_alone(live_server, playwright_driver):
    from portal.clock import local_tz
    from portal.db import utcnow
    from portal.models import Person, Visit, VisitObligation, VisitRecord, VolunteerProfile
    from portal.services import compliance
    from portal.services.visit_records import HEADINGS

    now = utcnow().astimezone(local_tz())
    start = now - timedelta(minutes=40)
    if start.date() != now.date():
        pytest.skip("the first 40 minutes of a day: the visit would fall on the day before")
    with _db(live_server) as session:
        worker = session.scalar(select(Person).where(Person.phone == WORKER[0]))
        obligation = session.scalars(
            select(VisitObligation).join(VolunteerProfile, VolunteerProfile.person_id == VisitObligation.assigned_to_id)
            .where(VisitObligation.period == compliance.current_month(utcnow()),
                   VisitObligation.status.in_(compliance.OPEN), VolunteerProfile.active)
            .order_by(VisitObligation.id)).first()
        assert obligation is not None, "the demo plans visits given to volunteers"
        volunteer_id = obligation.assigned_to_id
    context, profile = open_chromium(playwright_driver, VIEWPORTS["desktop"], javascript=False)
    page = context.pages[0] if context.pages else context.new_page()
    try:
        base = live_server.url
        sign_in(page, None, base, WORKER, _demo_password(), elder_pages=False)
        page.goto(f"{base}/worker/visits/key-in?volunteer={volunteer_id}")
        first_elder = int(page.locator("#rows-0-elder_id").input_value())
        for _ in range(100):                      # from the top of the page, Tab only
            page.keyboard.press("Tab")
            if _focused(page) == "day":
                break
        else:
            raise AssertionError("Tab never reached the sheet's day")
        page.keyboard.type(str(now.day))
        visited = []
        typed = {"rows-0-day": "", "rows-0-start": f"{start:%H%M}", "rows-0-end": f"{start + timedelta(minutes=30):%H%M}"}
        expected = ["rows-0-volunteer_id", "rows-0-day", "rows-0-start", "rows-0-end"] + [
            f"rows-0-{heading.key}" for heading in HEADINGS] + ["rows-1-volunteer_id"]
        for box in expected:
            page.keyboard.press("Tab")
            visited.append(_focused(page))
            if box in typed:
                page.keyboard.type(typed[box])
            elif box.startswith("rows-0-") and box != "rows-0-volunteer_id":
                page.keyboard.type("1")           # the first answer: the number printed beside its box
        if page.locator("#rows-1-volunteer_id").count() == 0:
            expected, visited = expected[:-1], visited[:-1]  # a sheet of one elder: the button comes next
        assert visited == expected
        page.locator("#rows-0-end").press("Enter")          # Enter in a box sends the whole sheet
        page.wait_for_url(re.compile(r"/worker/visits/$"))
        shot(page, "sheet-keyed-in")
        assert "已录入" in page.locator("body").inner_text()
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    with _db(live_server) as session:
        visit = session.scalars(select(Visit).where(Visit.elder_id == first_elder, Visit.entered_by_id == worker.id)
                                .order_by(Visit.id.desc())).first()
        assert visit is not None and visit.method == "worker" and visit.status == "done"
        assert visit.volunteer_id == volunteer_id
        record = session.scalar(select(VisitRecord).where(VisitRecord.visit_id == visit.id))
        assert record.answers == {heading.key: heading.choices[0][0] for heading in HEADINGS}
