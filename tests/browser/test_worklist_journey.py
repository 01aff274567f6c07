"""A community worker's morning on the completion list, in a real Chromium at 320×640 and 1280×800:
a community of 450 elders, filtered to the overdue ones, five of them given to another volunteer
and the change undone, one elder's row opened in place and an excuse undone."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.browser.checks import PageChecker
from tests.browser.conftest import WORKER, shot
from tests.browser.test_journeys import sign_in
from tests.browser.test_product_journeys import _db, _demo_password, planned_month  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡"
GIVEN = "秀英桂兰淑珍玉梅凤芝建国志明德福永红春华金荣文武海山云霞丽娟"


@pytest.fixture(scope="module")
def community_of_450(live_server, planned_month):
    """The demo worker's community brought up to 450 elders, planned; eight of them overdue (their
    visit was due yesterday: the live server's clock cannot be moved, the due time can)."""
    from portal.db import utcnow
    from portal.models import ElderProfile, Person, VisitObligation
    from portal.services import compliance
    from tests.factories import make_elder

    with _db(live_server) as session:
        worker = session.scalar(select(Person).where(Person.phone == WORKER[0]))
        wang = session.scalar(select(ElderProfile).join(Person).where(Person.phone == "+8613800000001"))
        community = wang.community
        have = session.scalar(select(func.count()).where(ElderProfile.community_id == community.id))
        added = []
        for i in range(max(0, 450 - have)):
            added.append(make_elder(session, community, "逾" + SURNAMES[i % 15] + GIVEN[i // 15 % 30],
                                    living_situation="with_family", hardship=["low_income"],
                                    address=f"{community.name} {i % 30 + 1} 栋"))
        compliance.plan_visits(session, utcnow())
        late = session.scalars(select(VisitObligation).where(
            VisitObligation.elder_id.in_([e.person_id for e in added[:8]]),
            VisitObligation.period == compliance.current_month(utcnow()))).all()
        for obligation in late:
            obligation.due_at = utcnow() - timedelta(days=1)
        session.commit()
        assert worker is not None and len(late) == 8
    return community


def test_worker_filters_overdue_bulk_reassigns_five_and_undoes_an_excuse(chromium, live_server, viewport,
                                                                         community_of_450):
    page, base = chromium, live_server.url
    # a bulk change of a 450-elder community writes while the sender thread writes too (SQLite):
    # give its page loads more than the usual 15 s before calling the journey failed
    page.set_default_navigation_timeout(45_000)
    page.set_default_timeout(45_000)
    checker = PageChecker(page)
    sign_in(page, None, base, WORKER, _demo_password())
    page.wait_for_url(re.compile(r"/worker/$"))
    page.goto(f"{base}/worker/completion/?community={community_of_450.id}")
    assert len(page.content().encode()) <= 150 * 1024
    # overdue first by default
    first = page.locator("tbody[id^=obligation-]").first
    assert first.locator(".tag").inner_text() == "已逾期"
    page.get_by_label("状态").select_option(label="已逾期")
    page.get_by_role("button", name="显示", exact=True).click()
    page.wait_for_url(re.compile(r"state=overdue"))
    lines = page.locator("tbody[id^=obligation-]")
    assert lines.count() == 8
    assert page.locator("#shown").inner_text().startswith("共 8 位老人")
    checker.check()
    shot(page, "worklist-overdue")
    for index in range(5):
        lines.nth(index).get_by_role("checkbox").check()
    target = page.get_by_label("把勾选的探访交给")
    chosen = target.locator("option").nth(1).inner_text()
    target.select_option(index=1)
    with page.expect_navigation():  # the post comes back to the same address: wait for the new page
        page.get_by_role("button", name="改派勾选的老人").click()
    page.wait_for_url(re.compile(r"state=overdue"))
    assert page.get_by_text(re.compile(f"5 位老人的探访已交给{chosen}")).is_visible()
    assert page.locator("tbody[id^=obligation-]", has_text=chosen).count() >= 5
    checker.check()
    page.get_by_role("button", name="撤销").click()
    assert page.get_by_text(re.compile("已撤销")).is_visible()

    # one elder's actions open in place; an excuse is made and undone
    line = page.locator("tbody[id^=obligation-]").first
    name = line.locator("th a").inner_text()
    line.locator("th a").click()
    expansion = page.locator("tbody.opened .expansion")
    expansion.wait_for()
    assert name in page.locator("tbody.opened").inner_text()
    expansion.get_by_label("住院").check()
    expansion.get_by_role("button", name="本月免访").click()
    page.locator("tbody.opened .notice", has_text="本期免访").wait_for()
    assert page.locator("tbody.opened .tag").inner_text() == "免访"
    checker.check()
    shot(page, "worklist-excused")
    page.locator("tbody.opened").get_by_role("button", name="撤销").click()
    page.locator("tbody.opened", has_text="已撤销").wait_for()
    assert page.locator("tbody.opened .tag").inner_text() == "已逾期"
    checker.assert_clean()
