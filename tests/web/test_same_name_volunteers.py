"""Two volunteers called 陈帅 (as in the demo): every volunteer picker, the printed visit sheet and the
key-in page tell them apart by their phones' last four digits; a name nobody shares stays as it is."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import VisitObligation
from portal.services import compliance
from portal.services.compliance.assignment import assign
from tests.factories import PASSWORD, make_volunteer

FIRST, SECOND = "陈帅（尾号 1234）", "陈帅（尾号 5678）"


@pytest.fixture()
def twins(app, session, world):
    first = make_volunteer(session, world.community_a, "陈帅", phone="+8613900001234", verified_by=world.worker_a)
    second = make_volunteer(session, world.community_a, "陈帅", phone="+8613900005678", verified_by=world.worker_a)
    session.commit()
    now = compliance_now()
    compliance.plan_visits(session, now)
    obligation = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == world.elder_a.person_id))
    assign(session, obligation, first.person_id, "volunteer", now)
    session.commit()
    return first, second


def compliance_now():
    from portal.db import utcnow

    return utcnow()


def _options(html: str, select_id: str | None = None) -> str:
    if select_id:
        start = html.index(f'id="{select_id}"')
        return html[start:html.index("</select>", start)]
    return html


def test_the_pickers_tell_two_volunteers_of_the_same_name_apart(browser, world, twins):
    browser.login(world.worker_a.phone, PASSWORD)
    completion = browser.get("/worker/completion/").get_data(as_text=True)
    for picker in ("visitor", "bulk-assignee"):
        options = _options(completion, picker)
        assert FIRST in options and SECOND in options, picker
        assert "甲志愿者" in options and "甲志愿者（尾号" not in options  # a name nobody shares stays as it is
    pairing = browser.get(f"/worker/elders/{world.elder_a.person_id}").get_data(as_text=True)
    assert FIRST in pairing and SECOND in pairing
    key_in = browser.get("/worker/visits/key-in").get_data(as_text=True)
    assert FIRST in key_in and SECOND in key_in
    new_visit = browser.get("/worker/visits/new").get_data(as_text=True)
    assert FIRST in new_visit and SECOND in new_visit


def test_the_request_assign_picker_tells_them_apart(app, session, browser, world, twins):
    from datetime import timedelta

    from portal.services import requests as service_requests

    now = compliance_now()
    with app.app_context():
        service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "cleaning",
                                        {"half_day": "morning"}, now + timedelta(days=1), now)
        session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    page = browser.get("/worker/requests/").get_data(as_text=True)
    assert FIRST in page and SECOND in page


def test_the_printed_sheet_says_which_chen_shuai_visits(browser, world, twins):
    browser.login(world.worker_a.phone, PASSWORD)
    sheet = browser.get("/worker/completion/sheet").get_data(as_text=True)
    assert f"探访人：{FIRST}" in sheet
    first, _second = twins
    mine = browser.get(f"/worker/completion/sheet?volunteer={first.person_id}").get_data(as_text=True)
    assert FIRST in mine
