"""Journeys in a real Chromium, at 320×640 and 1280×800, with accessibility checks on every page.

Screenshots are kept in test-artifacts/screenshots/ for the record.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest
from sqlalchemy import delete, select

from tests.browser.checks import PageChecker
from tests.browser.conftest import (
    ELDER,
    OFFICER,
    ROOT,
    SON,
    VIEWPORTS,
    WORKER,
    codes_sent_so_far,
    open_chromium,
    read_code_from_outbox,
    shot,
)

pytestmark = pytest.mark.browser
DEMO_PASSWORD = "linli-demo-2026"
VOLUNTEER = ("+8613800000003", "13800000003")


def sign_in(page, checker, base: str, phone: tuple[str, str], password: str | None = None, elder_pages=True):
    """Sign in as a person would: number, code from the (dev) outbox, password for staff."""
    page.goto(f"{base}/")
    if checker:
        checker.check(elder=True)
    page.get_by_role("link", name=re.compile("手机号")).click()
    page.wait_for_url(re.compile(r"/login"))
    if checker:
        checker.check(elder=elder_pages)
    page.get_by_label("您的手机号码").fill(phone[1])
    sent_before = codes_sent_so_far(page, base, phone[1])
    page.get_by_role("button", name="发送验证码").click()
    page.wait_for_url(re.compile(r"/login/code"))
    if checker:
        checker.check(elder=elder_pages)
    code = read_code_from_outbox(page, base, phone[1], sent_before)
    page.goto(f"{base}/login/code")
    page.get_by_label(re.compile("验证码")).fill(code)
    page.get_by_role("button", name="登录").click()
    if password is not None:
        page.wait_for_url(re.compile(r"/login/password"))
        if checker:
            checker.check()
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()


def test_elder_signs_in_and_sees_her_tiles(chromium, live_server, viewport):
    page, base = chromium, live_server.url
    checker = PageChecker(page)
    sign_in(page, checker, base, ELDER)
    page.wait_for_url(re.compile(r"/elder/$"))
    assert "王秀英" in page.get_by_role("heading", level=1).inner_text()
    tiles = page.locator(".tiles .tile")  # four links that start a request, 助急 a button that calls for help
    assert tiles.count() == 5
    for name in ("助餐（送饭）", "助洁（打扫卫生）", "陪同出门", "助浴（洗澡）", "紧急求助"):
        assert page.locator(".tiles .tile", has_text=name).is_visible(), name
    assert page.locator("button.tile", has_text="紧急求助").count() == 1
    checker.check(elder=True)
    shot(page, "elder-home")
    page.locator("a.tile", has_text="助餐").click()
    page.wait_for_url(re.compile(r"/requests/step"))
    checker.check(elder=True)
    shot(page, "elder-service")
    checker.assert_clean()

    if viewport == "phone":
        _docs_screenshot(page, base)


def _docs_screenshot(page, base: str):
    """docs/screenshots/elder-home.png (committed, shown in the README) from the demo, on request."""
    target = ROOT / "docs" / "screenshots" / "elder-home.png"
    if os.environ.get("LINLI_WRITE_DOCS_SCREENSHOTS") == "1":
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/elder/")
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=False)
    assert target.is_file(), "docs/screenshots/elder-home.png is missing: run with LINLI_WRITE_DOCS_SCREENSHOTS=1"


def _reset_son_link(live_server):
    from portal.models import FamilyLink, Person

    with live_server.app.extensions["linli"].session_factory() as session:
        son = session.scalar(select(Person).where(Person.phone == SON[0]))
        elder = session.scalar(select(Person).where(Person.phone == ELDER[0]))
        session.execute(delete(FamilyLink).where(FamilyLink.family_id == son.id, FamilyLink.elder_id == elder.id))
        session.commit()


def _link_status(live_server) -> str | None:
    from portal.models import FamilyLink, Person

    with live_server.app.extensions["linli"].session_factory() as session:
        son = session.scalar(select(Person).where(Person.phone == SON[0]))
        return session.scalar(select(FamilyLink.status).where(FamilyLink.family_id == son.id))


def test_son_asks_to_link_and_the_elder_approves(chromium, live_server, playwright_driver, viewport):
    _reset_son_link(live_server)
    page, base = chromium, live_server.url
    checker = PageChecker(page)
    sign_in(page, None, base, SON)
    page.wait_for_url(re.compile(r"/family/$"))
    checker.check()
    page.get_by_role("link", name="关联亲属").click()
    page.wait_for_url(re.compile(r"/family/link"))
    checker.check()
    # Asking never tells whose a number is: an unknown number, a number that is nobody's elder (a
    # volunteer's) and his mother's all get the same neutral answer, with no name on it.
    answers = {}
    for label, number in (("unknown", "13899999999"), ("not an elder", VOLUNTEER[1]), ("elder", ELDER[1])):
        page.get_by_label("您亲属的电话号码").fill(number)
        page.get_by_label(re.compile("您是老人的")).fill("儿子")
        with page.expect_navigation(url=re.compile(r"/family/link$")):  # posted, then sent back to the form
            page.get_by_role("button", name="发送申请").click()
        notice = page.locator(".notice")
        assert notice.is_visible(), label
        assert page.locator(".error, .error-summary").count() == 0, label
        answers[label] = notice.inner_text()
        assert "王秀英" not in page.locator("body").inner_text(), label
        checker.check()
        if label != "elder":
            assert _link_status(live_server) is None, label  # nothing linked
    assert len(set(answers.values())) == 1, answers
    shot(page, "family-link-requested")
    assert _link_status(live_server) == "pending"
    # His list shows the asked-for number, masked, waiting; her name only once she has said yes.
    page.goto(f"{base}/family/")
    card = page.locator(".card", has_text="138****0001")
    assert card.is_visible()
    assert card.locator("p", has_text=re.compile(r"^待审核$")).is_visible()
    assert page.locator(".card h2", has_text="王秀英").count() == 0
    checker.check()

    # The elder, on her own phone, sees the question and says yes.
    context, profile = open_chromium(playwright_driver, VIEWPORTS[viewport])
    try:
        elder_page = context.pages[0] if context.pages else context.new_page()
        elder_checker = PageChecker(elder_page)
        sign_in(elder_page, None, base, ELDER)
        elder_page.wait_for_url(re.compile(r"/elder/$"))
        question = elder_page.locator("section.card", has_text="王磊想替您预约服务")
        assert question.is_visible()
        elder_checker.check(elder=True)
        shot(elder_page, "elder-approves-link")
        with elder_page.expect_navigation(url=re.compile(r"/elder/$")):
            question.get_by_role("button", name="同意", exact=True).click()
        assert elder_page.locator(".notice", has_text="王磊").is_visible()
        # the question is gone; in its place a card she can take her yes back from
        assert elder_page.locator("section.card", has_text="王磊想替您预约服务").count() == 0
        assert elder_page.get_by_role("button", name="同意", exact=True).count() == 0
        approved = elder_page.locator("section.card", has_text=re.compile(r"王磊\s*可以替您下单"))
        assert approved.get_by_role("button", name="不再允许").is_visible()
        elder_checker.check(elder=True)
        elder_checker.assert_clean()
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
    assert _link_status(live_server) == "approved"
    page.reload()
    # the link's status line on her card reads exactly "已同意" (no fallback to any "已")
    assert page.locator(".card", has_text="王秀英").locator("p", has_text=re.compile(r"^已同意$")).is_visible()
    checker.assert_clean()


def test_worker_registers_an_elder_and_prints_her_door_card(chromium, live_server, viewport):
    page, base = chromium, live_server.url
    checker = PageChecker(page)
    sign_in(page, checker, base, WORKER, DEMO_PASSWORD, elder_pages=True)
    page.wait_for_url(re.compile(r"/worker/$"))
    checker.check()
    # Lists show masked phone numbers only.
    listing = page.locator("#elder-list").inner_text()
    assert re.search(r"1\d\d\*{4}\d{4}", listing), "the list should show masked phone numbers"
    page.get_by_role("link", name="登记老人").first.click()
    page.wait_for_url(re.compile(r"/worker/elders/new"))
    checker.check()

    # Submitted empty: errors next to the fields, nothing saved.
    page.get_by_role("button", name="保存").click()
    assert page.locator(".error-summary").is_visible()
    assert page.locator(".field.has-error").count() >= 1
    checker.check()
    shot(page, "worker-elder-form-errors")

    suffix = {"phone": "7", "desktop": "8"}[viewport]
    name = {"phone": "赵桂兰", "desktop": "钱桂芳"}[viewport]
    page.get_by_label("姓名", exact=True).fill(name)
    page.get_by_label("手机或固定电话").fill(f"1350000{suffix}001")
    page.get_by_label("家庭住址").fill("燕京社区 3 栋 2 单元 501 室")
    page.get_by_label("出生日期").fill("1941-03-08")
    page.get_by_label("女").check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    errors = page.locator(".error").all_inner_texts()
    assert not errors, errors
    page.wait_for_url(re.compile(r"/worker/elders/\d+$"))
    assert name in page.get_by_role("heading", level=1).inner_text()
    checker.check()
    shot(page, "worker-elder-registered")

    page.get_by_role("link", name="打印签到卡").click()
    page.wait_for_url(re.compile(r"/card$"))
    card = page.locator(".door-card")
    assert name in card.inner_text()
    assert re.fullmatch(r"\d{8}", page.locator(".card-code").inner_text().strip())  # door codes are 8 digits
    assert card.locator("svg").count() == 1
    checker.check()
    shot(page, "worker-door-card")
    checker.assert_clean()


def test_officer_sees_the_overview(chromium, live_server, viewport):
    page, base = chromium, live_server.url
    checker = PageChecker(page)
    sign_in(page, None, base, OFFICER, DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/officer/$"))
    table = page.locator("table")
    assert table.locator("tbody tr").count() == 4  # the demo's four communities
    assert "燕京社区" in table.inner_text()
    checker.check()
    shot(page, "officer-overview")
    checker.assert_clean()


@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_elder_signs_in_without_javascript(live_server, playwright_driver, viewport):
    """No JavaScript at all: plain forms and links still get the elder to her tiles."""
    live_server.reset_limits()
    context, profile = open_chromium(playwright_driver, VIEWPORTS[viewport], javascript=False)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, None, live_server.url, ELDER)
        page.wait_for_url(re.compile(r"/elder/$"))
        assert page.locator(".tiles .tile").count() == 5
        page.get_by_role("button", name="大", exact=True).click()
        page.wait_for_url(re.compile(r"/elder/$"))
        assert page.locator("html").get_attribute("class") == "size-large"
        shot(page, "elder-home-no-js")
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
