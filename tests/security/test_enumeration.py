"""Enumeration (issue 12, point 7): the login and the family-link request do the same work and give
the same answer for a registered and an unknown number; no elder's name shows before she approves;
link requests are rate-limited."""
from __future__ import annotations

import pytest

from portal.services import login


@pytest.fixture()
def hash_calls(monkeypatch):
    calls = []
    real = login._code_hasher

    class Counting:
        def hash(self, value):
            calls.append(value)
            return real.hash(value)

        def verify(self, hashed, value):
            return real.verify(hashed, value)

    monkeypatch.setattr(login, "_code_hasher", Counting())
    return calls


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_login_does_the_same_work_for_a_registered_and_an_unknown_number(world, browser, hash_calls):
    known = browser.post("/login", {"phone": world.elder_a.person.phone})
    work_known = len(hash_calls)
    browser.client.cookie_jar.clear() if hasattr(browser.client, "cookie_jar") else None
    unknown = browser.post("/login", {"phone": "+8613999990000"})
    assert work_known == 1 and len(hash_calls) - work_known == 1
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]


def _link(browser, phone):
    return browser.post("/family/link", {"elder_phone": phone, "relation": "儿子"})


def test_asking_to_link_answers_the_same_for_an_elder_a_non_elder_and_nobody(world, browser, session):
    from tests.factories import make_person

    asker = make_person(session, "问询者")
    session.commit()
    browser.login(asker.phone)
    answers = [_link(browser, phone) for phone in (world.elder_a.person.phone, world.volunteer_a.person.phone,
                                                   "+8613999990001")]
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["Location"] for a in answers}) == 1
    home = _page(browser.get("/family/"))
    assert world.elder_a.person.name not in home  # not before she approves
    assert world.volunteer_a.person.name not in home


def test_link_requests_are_rate_limited(world, browser, session):
    from sqlalchemy import func, select

    from portal.models import FamilyLink
    from tests.factories import make_elder, make_person

    asker = make_person(session, "问询者")
    elders = [make_elder(session, world.community_a, f"老人{c}") for c in "甲乙丙丁戊己庚辛壬癸子丑"]
    session.commit()
    browser.login(asker.phone)
    for elder in elders:
        _link(browser, elder.person.phone)
    made = session.scalar(select(func.count(FamilyLink.id)).where(FamilyLink.family_id == asker.id))
    assert made <= 5
