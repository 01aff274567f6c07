"""The whole product in a real Chromium, on the demo data, at 320×640 and 1280×800: requests on
the web, a family order the elder refuses, a visit with the door code, the elder's confirmation,
the worker's completion list and the officer's Excel report. axe and our own accessibility checks
on every page; screenshots kept in test-artifacts/screenshots/.
"""
from __future__ import annotations

import re
import shutil
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from tests.browser.checks import PageChecker
from tests.browser.conftest import ELDER, OFFICER, SON, VIEWPORTS, WORKER, open_chromium, shot
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser
VOLUNTEER = ("+8613800000003", "13800000003")


def _demo_password() -> str:
    from portal.services.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def _db(live_server):
    return live_server.app.extensions["linli"].session_factory()


@pytest.fixture(scope="module")
def planned_month(live_server):
    """This month's visit obligations, planned by the plan-visits job as the scheduler would, and
    王磊's link to his mother approved (another journey takes it back and asks again)."""
    from jobs.runner import run_job
    from portal.db import utcnow
    from portal.models import FamilyLink, Person

    result = run_job(live_server.app.extensions["linli"].session_factory, "plan-visits", utcnow())
    assert result["status"] == "done", result
    with _db(live_server) as session:
        son = session.scalar(select(Person).where(Person.phone == SON[0]))
        elder = session.scalar(select(Person).where(Person.phone == ELDER[0]))
        link = session.scalar(select(FamilyLink).where(FamilyLink.family_id == son.id,
                                                       FamilyLink.elder_id == elder.id))
        if link is None:
            session.add(FamilyLink(family_id=son.id, elder_id=elder.id, relation="儿子", status="approved",
                                   decided_at=utcnow(), decided_by_id=elder.id))
        else:
            link.status = "approved"
        session.commit()
    return result


def _answer_every_question(page, checker, elder: bool):
    """Pick an answer on each question page (tomorrow for the day, else the first) until the check page."""
    for _ in range(10):
        if "/requests/check" in page.url:
            return
        page.wait_for_url(re.compile(r"/requests/(step|check)"))
        if "/requests/check" in page.url:
            return
        checker.check(elder=elder)
        question = page.locator("#conversation legend").inner_text()
        if page.locator("label.tile").count() == 0:
            shot(page, "no-tiles")
            raise AssertionError(f"a question without answers to choose: {question!r} at {page.url}")
        # Times that have passed are not offered (the same-day lead time): on the day question take
        # tomorrow, so the journey does not depend on the hour it runs at; elsewhere the first answer.
        tomorrow = page.locator("label.tile", has=page.locator("input[value=tomorrow]"))
        (tomorrow if tomorrow.count() else page.locator("label.tile").first).click()
        page.get_by_role("button", name="下一步").click()
        # htmx swaps the next question in (or loads the check page): wait for the change
        page.wait_for_function("q => !document.querySelector('#conversation legend') || "
                               "document.querySelector('#conversation legend').innerText !== q", arg=question)
    raise AssertionError(f"never reached the check page: {page.url}")


def _order_meal(page, checker, base: str) -> str:
    """The elder's meal order from her home page; returns the request's reference."""
    page.goto(f"{base}/elder/")
    page.locator("a.tile", has_text="助餐").click()
    _answer_every_question(page, checker, elder=True)
    page.wait_for_url(re.compile(r"/requests/check"))
    assert page.get_by_role("heading", level=1).inner_text() == "请核对您的服务"
    checker.check(elder=True)
    shot(page, "elder-meal-check")
    page.get_by_role("button", name="确认下单").click()
    page.wait_for_url(re.compile(r"/requests/[A-Z0-9-]+/placed"))
    checker.check(elder=True)
    shot(page, "elder-meal-placed")
    reference = re.search(r"/requests/([^/]+)/placed", page.url).group(1)
    page.get_by_role("link", name="看看进度").click()
    page.wait_for_url(re.compile(rf"/requests/{reference}$"))
    assert reference in page.get_by_role("heading", level=1).inner_text()
    checker.check(elder=True)
    return reference


def _request_status(live_server, reference: str) -> str:
    from portal.models import ServiceRequest

    with _db(live_server) as session:
        return session.scalar(select(ServiceRequest.status).where(ServiceRequest.reference == reference))


def test_elder_orders_a_meal_on_the_web(chromium, live_server, viewport, planned_month):
    page, base = chromium, live_server.url
    checker = PageChecker(page)
    sign_in(page, checker, base, ELDER)
    page.wait_for_url(re.compile(r"/elder/$"))
    reference = _order_meal(page, checker, base)
    assert _request_status(live_server, reference) == "open"
    shot(page, "elder-meal-status")
    checker.assert_clean()


@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_elder_orders_a_meal_without_javascript(live_server, playwright_driver, viewport, planned_month):
    live_server.reset_limits()
    context, profile = open_chromium(playwright_driver, VIEWPORTS[viewport], javascript=False)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        checker = _NoChecks()  # the same pages are checked (axe needs JavaScript) in the journey above
        sign_in(page, None, live_server.url, ELDER)
        page.wait_for_url(re.compile(r"/elder/$"))
        reference = _order_meal(page, checker, live_server.url)
        assert _request_status(live_server, reference) == "open"
        shot(page, "elder-meal-no-js")
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


def test_son_orders_cleaning_and_his_mother_refuses(chromium, live_server, playwright_driver, viewport,
                                                    planned_month):
    page, base = chromium, live_server.url
    checker = PageChecker(page)
    sign_in(page, None, base, SON)
    page.wait_for_url(re.compile(r"/family/$"))
    checker.check()
    page.get_by_role("link", name="为王秀英下单").click()
    page.wait_for_url(re.compile(r"/requests/step"))
    assert "王秀英" in page.locator("#conversation").inner_text()
    page.locator("label.tile", has_text="助洁").click()
    page.get_by_role("button", name="下一步").click()
    _answer_every_question(page, checker, elder=False)
    checker.check()
    page.get_by_role("button", name="确认下单").click()
    page.wait_for_url(re.compile(r"/requests/[A-Z0-9-]+/placed"))
    reference = re.search(r"/requests/([^/]+)/placed", page.url).group(1)
    checker.check()
    shot(page, "son-cleaning-placed")
    assert _request_status(live_server, reference) == "open"

    context, profile = open_chromium(playwright_driver, VIEWPORTS[viewport])
    try:
        elder_page = context.pages[0] if context.pages else context.new_page()
        elder_checker = PageChecker(elder_page)
        sign_in(elder_page, None, base, ELDER)
        elder_page.wait_for_url(re.compile(r"/elder/$"))
        elder_page.goto(f"{base}/requests/{reference}")
        elder_checker.check(elder=True)
        shot(elder_page, "elder-refuses-cleaning")
        elder_page.get_by_role("button", name="我不需要").click()
        elder_page.wait_for_url(re.compile(rf"/requests/{reference}$"))
        assert elder_page.locator(".notice", has_text="王磊").is_visible()
        elder_checker.check(elder=True)
        elder_checker.assert_clean()
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    assert _request_status(live_server, reference) == "refused"
    checker.assert_clean()


def _door_code(live_server) -> str:
    from portal.models import ElderProfile, Person

    with _db(live_server) as session:
        return session.scalar(select(ElderProfile.door_code).join(Person, Person.id == ElderProfile.person_id)
                              .where(Person.phone == ELDER[0]))


def _visit_started_45_minutes_ago(live_server):
    """A real visit lasts a while: move the check-in we just made back by 45 minutes."""
    from portal.models import Person, Visit

    with _db(live_server) as session:
        volunteer = session.scalar(select(Person).where(Person.phone == VOLUNTEER[0]))
        visit = session.scalar(select(Visit).where(Visit.volunteer_id == volunteer.id, Visit.status == "open"))
        visit.checked_in_at = visit.checked_in_at - timedelta(minutes=45)
        session.commit()


def _wang_this_month(live_server, reopen: bool = False):
    """王秀英's monthly obligation for this month as (status, satisfied_by_visit_id). `reopen`: put
    it back to due, so this run's visit has to complete it (the other viewport's run of the
    journey, on the same server, has already done so)."""
    from portal.models import Person, VisitObligation

    with _db(live_server) as session:
        elder = session.scalar(select(Person).where(Person.phone == ELDER[0]))
        ob = session.scalar(select(VisitObligation).where(VisitObligation.elder_id == elder.id,
                                                          VisitObligation.cadence == "monthly")
                            .order_by(VisitObligation.window_start.desc()))
        if reopen and ob.status == "done":
            ob.status, ob.satisfied_by_visit_id, ob.done_at = "due", None, None
            session.commit()
        return ob.status, ob.satisfied_by_visit_id


def _open_visit_id(live_server) -> int:
    from portal.models import Person, Visit

    with _db(live_server) as session:
        volunteer = session.scalar(select(Person).where(Person.phone == VOLUNTEER[0]))
        return session.scalar(select(Visit.id).where(Visit.volunteer_id == volunteer.id, Visit.status == "open"))


def test_volunteer_accepts_visits_and_the_elder_confirms_then_worker_and_officer_see_it(
        chromium, live_server, playwright_driver, viewport, planned_month):
    page, base = chromium, live_server.url
    status, _visit = _wang_this_month(live_server, reopen=True)
    assert status != "done"
    # The elder's order, for the volunteer to accept.
    from portal.db import utcnow
    from portal.models import ElderProfile, Person
    from portal.services import requests as service_requests

    with _db(live_server) as session:
        elder = session.scalar(select(ElderProfile).join(Person).where(Person.phone == ELDER[0]))
        reference = service_requests.create_request(session, elder, elder.person, "web", "meal", {}, None,
                                                    utcnow()).reference
        session.commit()

    checker = PageChecker(page)
    sign_in(page, None, base, VOLUNTEER)
    page.wait_for_url(re.compile(r"/volunteer/$"))
    checker.check()
    page.get_by_role("link", name="服务单和我的任务").click()
    page.wait_for_url(re.compile(r"/volunteer/requests/"))
    checker.check()
    card = page.locator("li.card", has_text=reference)
    card.get_by_role("button", name="接单").click()
    page.wait_for_url(re.compile(r"/volunteer/requests/$"))
    assert page.get_by_text("谢谢您！已经告诉老人您会来。").is_visible()
    checker.check()
    shot(page, "volunteer-accepted")
    assert _request_status(live_server, reference) == "accepted"

    # At 王秀英's door: check in with the code on the card, and out again.
    page.goto(f"{base}/volunteer/")
    page.get_by_role("link", name="探访签到或签退").click()
    page.wait_for_url(re.compile(r"/volunteer/visits/$"))
    checker.check()
    code = _door_code(live_server)
    assert re.fullmatch(r"\d{8}", code)  # door codes are eight digits
    page.get_by_label("签到码（在老人家门上的签到卡上）").fill(code)
    page.get_by_role("button", name="签到").click()
    page.wait_for_url(re.compile(r"/volunteer/visits/$"))
    assert page.locator(".notice", has_text="王秀英").is_visible()
    checker.check()
    shot(page, "volunteer-checked-in")
    this_visit = _open_visit_id(live_server)
    assert this_visit is not None
    _visit_started_45_minutes_ago(live_server)
    page.get_by_role("link", name="签退").click()
    page.wait_for_url(re.compile(r"/check-out"))
    checker.check()
    page.get_by_label("签到码（在老人家门上的签到卡上）").fill(code)
    page.get_by_role("button", name="签退").click()
    # The 探访记录 comes next: a tap per question; a gas hazard opens a follow-up for the worker.
    page.wait_for_url(re.compile(r"/record$"))
    assert page.locator(".notice", has_text="王秀英").is_visible()
    assert _request_status(live_server, reference) == "done"      # the visit served her request
    checker.check()
    for fieldset in page.locator("fieldset.record-choices").all():
        fieldset.get_by_role("radio").first.check()
    page.get_by_role("radio", name=re.compile("有隐患")).check()
    shot(page, "volunteer-visit-record")
    page.get_by_role("button", name="保存探访记录").click()
    page.wait_for_url(re.compile(r"/volunteer/visits/$"))
    assert page.locator(".notice", has_text="安排燃气维修").is_visible()
    checker.check()
    shot(page, "volunteer-checked-out")
    checker.assert_clean()

    # The elder confirms the visit on her phone.
    with _second_page(playwright_driver, viewport) as elder_page:
        elder_checker = PageChecker(elder_page)
        sign_in(elder_page, None, base, ELDER)
        elder_page.wait_for_url(re.compile(r"/elder/$"))
        elder_page.get_by_role("link", name="确认探访").click()
        elder_page.wait_for_url(re.compile(r"/elder/visits/$"))
        assert "李娜" in elder_page.locator("main").inner_text()
        elder_checker.check(elder=True)
        shot(elder_page, "elder-confirms-visit")
        elder_page.get_by_role("button", name="是，来过了").click()
        elder_page.wait_for_url(re.compile(r"/elder/visits/$"))
        assert elder_page.locator(".notice", has_text="李娜").is_visible()
        elder_checker.check(elder=True)
        elder_checker.assert_clean()
    assert _request_status(live_server, reference) == "confirmed"     # request served = visit confirmed

    # Her son sees his mother's month: the visit with the visitor's name, and what the visitor saw.
    # (Another journey takes his link back and asks again: approve it as his mother did.)
    from portal.models import FamilyLink

    with _db(live_server) as session:
        son = session.scalar(select(Person).where(Person.phone == SON[0]))
        for link in session.scalars(select(FamilyLink).where(FamilyLink.family_id == son.id)):
            link.status = "approved"
        session.commit()
    with _second_page(playwright_driver, viewport) as son_page:
        son_checker = PageChecker(son_page)
        sign_in(son_page, None, base, SON)
        son_page.wait_for_url(re.compile(r"/family/$"))
        son_page.get_by_role("link", name="王秀英本月情况").click()
        son_page.wait_for_url(re.compile(r"/family/elders/\d+$"))
        assert son_page.locator("table.visits tbody tr", has_text="李娜").first.is_visible()
        assert son_page.locator(".visit-record-summary .risky", has_text="有隐患").is_visible()
        son_checker.check()
        shot(son_page, "son-sees-the-month")
        son_checker.assert_clean()

    # The worker's completion list shows her visit done this month.
    with _second_page(playwright_driver, viewport) as worker_page:
        worker_checker = PageChecker(worker_page)
        sign_in(worker_page, None, base, WORKER, _demo_password())
        worker_page.wait_for_url(re.compile(r"/worker/$"))
        worker_page.get_by_role("link", name="每月探访").first.click()
        worker_page.wait_for_url(re.compile(r"/worker/completion/"))
        worker_page.get_by_label("姓名或手机尾号").fill("王秀英")
        worker_page.get_by_role("button", name="显示", exact=True).click()
        row = worker_page.locator("tbody[id^=obligation-]", has_text="王秀英").first
        assert row.locator(".tag", has_text="完成").is_visible(), row.inner_text()
        assert _wang_this_month(live_server) == ("done", this_visit)  # done by this run's visit
        worker_checker.check()
        shot(worker_page, "worker-completion-done")
        worker_page.goto(f"{base}/worker/visits/follow-ups")
        assert worker_page.locator("section.card", has_text="王秀英").filter(has_text="安排燃气维修").first.is_visible()
        worker_checker.check()
        worker_checker.assert_clean()

    # The officer downloads this month's Excel report; it opens and lists 王秀英's community.
    with _second_page(playwright_driver, viewport) as officer_page:
        officer_checker = PageChecker(officer_page)
        sign_in(officer_page, None, base, OFFICER, _demo_password())
        officer_page.wait_for_url(re.compile(r"/officer/$"))
        officer_page.goto(f"{base}/officer/visits/")
        officer_checker.check()
        shot(officer_page, "officer-visits")
        with officer_page.expect_download() as info:
            officer_page.get_by_role("link", name="导出探访台账（Excel）").click()
        data = info.value.path().read_bytes()
        officer_checker.assert_clean()
    _assert_report_lists_wang(data)


def _assert_report_lists_wang(data: bytes):
    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(data)).active
    rows = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows and len(rows) >= 2, rows
    ours = [row for row in rows if any("燕京社区" in cell for cell in row)]
    assert ours, rows[:5]


class _NoChecks:
    def check(self, elder: bool = False):
        pass


class _second_page:
    """Another person on their own phone: a fresh Chromium at the same viewport."""

    def __init__(self, driver, viewport):
        self.driver, self.viewport = driver, viewport

    def __enter__(self):
        self.context, self.profile = open_chromium(self.driver, VIEWPORTS[self.viewport])
        return self.context.pages[0] if self.context.pages else self.context.new_page()

    def __exit__(self, *exc):
        self.context.close()
        shutil.rmtree(self.profile, ignore_errors=True)
