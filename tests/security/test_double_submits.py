"""Double submits (issue 12, point 9): every state-changing form carries an idempotency key, and
two to six identical concurrent submits of one form — or a back-button resubmit — act once, the
repeats answering like the first."""
from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.models import ElderProfile, Person, Transfer
from tests.conftest import csrf_from
from tests.factories import PASSWORD
from tests.security.helpers import all_at_once
from tests.timebank.helpers import T0
from tests.timebank.test_ledger import earn

KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')
FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
NAMES = iter(f"测试{a}{b}" for a in "甲乙丙丁戊己庚辛壬癸" for b in "子丑寅卯辰巳午未申酉戌亥")
RACE = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))


def _fresh_form(browser, page: str) -> tuple[str, str]:
    html = browser.get(page).get_data(as_text=True)
    return csrf_from(html), KEY.search(html).group(1)


def _race(app, cookie: str, url: str, data: dict, copies: int) -> list:
    def submit():
        client = app.test_client()
        client.set_cookie("session", cookie)
        response = client.post(url, data=data)
        return response.status_code, response.headers.get("Location")

    return all_at_once(submit, copies)


def test_every_post_form_on_the_main_pages_carries_a_key(secure_world, browser):
    browser.login(secure_world.worker_a.phone, PASSWORD)
    for page in ("/worker/", "/worker/elders/new", "/worker/volunteers/new", "/worker/family-links",
                 f"/worker/elders/{secure_world.elder_a.person_id}", "/worker/visits/new"):
        html = browser.get(page).get_data(as_text=True)
        forms = FORM.findall(html)
        assert forms, page
        assert all('name="idempotency_key"' in form for form in forms), page


@RACE
@given(copies=st.integers(min_value=2, max_value=6))
def test_concurrent_registrations_of_one_form_make_one_elder(copies, committed, app, world, browser, session):
    if not browser.client.get_cookie("session") or "/login" in (browser.get("/worker/").location or ""):
        browser.login(world.worker_a.phone, PASSWORD)
    csrf, key = _fresh_form(browser, "/worker/elders/new")
    name = next(NAMES)
    data = {"csrf_token": csrf, "idempotency_key": key, "name": name, "phone": f"+86136{copies}{id(name) % 10**7:07d}",
            "community_id": str(world.community_a.id), "address": "甲社区 1 栋", "birth_date": "1940-01-01",
            "living_situation": "alone", "ability_level": "1", "preferred_channel": "sms", "tier_override": ""}
    answers = _race(app, browser.client.get_cookie("session").value, "/worker/elders/new", data, copies)
    session.expire_all()
    assert session.scalar(select(func.count(ElderProfile.person_id)).join(Person).where(Person.name == name)) == 1
    assert len({answer for answer in answers}) == 1 and answers[0][0] == 303  # every copy answers alike


@RACE
@given(copies=st.integers(min_value=2, max_value=6))
def test_concurrent_gift_confirmations_make_one_gift(copies, committed, app, world, browser, session):
    if session.scalar(select(func.count(Transfer.id))) == 0:
        earn(session, world, 240, start=T0 - timedelta(days=2))
        session.commit()
        browser.login(world.volunteer_a.person.phone)
    csrf, key = _fresh_form(browser, "/time-bank/gift")
    before = session.scalar(select(func.count(Transfer.id)).where(Transfer.kind == "gift"))
    data = {"csrf_token": csrf, "idempotency_key": key, "recipient": "pool", "amount": "1"}
    answers = _race(app, browser.client.get_cookie("session").value, "/time-bank/gift/confirm", data, copies)
    session.expire_all()
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.kind == "gift")) == before + 1
    assert len(set(answers)) == 1


def test_a_back_button_resubmit_replays_the_first_answer(app, world, browser, session):
    earn(session, world, 240, start=T0 - timedelta(days=2))
    session.commit()
    browser.login(world.volunteer_a.person.phone)
    csrf, key = _fresh_form(browser, "/time-bank/gift")
    data = {"csrf_token": csrf, "idempotency_key": key, "recipient": "pool", "amount": "5"}
    first = browser.client.post("/time-bank/gift/confirm", data=data)
    again = browser.client.post("/time-bank/gift/confirm", data=data)
    assert (first.status_code, first.location) == (again.status_code, again.location)
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.kind == "gift")) == 1


@RACE
@given(copies=st.integers(min_value=2, max_value=6))
def test_concurrent_first_taps_on_a_service_start_one_conversation(copies, committed, app, world, browser, session):
    from portal.models import ConversationState

    if not browser.client.get_cookie("session"):
        browser.login(world.elder_a.person.phone)
    cookie = browser.client.get_cookie("session").value

    def tap():
        client = app.test_client()
        client.set_cookie("session", cookie)
        return client.get("/requests/new?service=meal").status_code

    assert set(all_at_once(tap, copies)) == {303}
    session.expire_all()
    assert session.scalar(select(func.count(ConversationState.id)).where(
        ConversationState.person_id == world.elder_a.person_id)) == 1
