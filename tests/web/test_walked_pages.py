"""What a walk through the demo found on the elder's, the volunteer's and the worker's pages: each
text as it was misread, now as it should read."""
from __future__ import annotations

import pytest

from portal import formatting
from portal.conversation import engine
from portal.conversation.flows import REQUEST_FLOW
from portal.conversation.engine import FLOWS
from portal.i18n import force_locale
from portal.services.visit_records import HEADINGS
from tests.factories import PASSWORD
from tests.page_text import text, texts


def test_the_meal_answer_is_summed_up_as_which_meal_not_as_the_service_name():
    # the SMS check read "助餐：午饭" and the call "助餐, 午饭", as if 助餐 were what she chose
    with force_locale("zh_Hans"):
        rows = {name: (label, value) for name, label, value in
                engine.summary(FLOWS[REQUEST_FLOW], {"service": "meal", "meals": "lunch"})}
    assert rows["meals"] == ("哪顿饭", "午饭")
    assert rows["service"] == ("服务", "助餐（送饭）")


def test_a_benefits_answer_reads_as_received_not_as_a_time_bank_deposit():
    # the visit record and the keyed-in sheet offered "1 存入" (the time bank's word) for benefits received
    benefits = next(heading for heading in HEADINGS if heading.key == "benefits")
    with force_locale("zh_Hans"):
        labels = [str(label) for _value, label in benefits.choices]
    assert labels == ["按时领到", "没有领到", "不清楚"]


def test_a_called_off_emergency_says_so_once_and_names_the_hotline(world, browser):
    browser.login(world.elder_a.person.phone)
    response = browser.post("/requests/emergency", {}, page="/elder/")
    page_url = response.headers["Location"]
    alerted = browser.get(page_url).get_data(as_text=True)
    assert any(label.startswith("打社区热线") for label in texts(alerted, "a"))
    browser.post(page_url + "/stand-down", {}, page=page_url)
    page = browser.get(page_url).get_data(as_text=True)
    # it read "已取消" as the heading and "已取消" again under it
    assert text(page, "h1") == "紧急求助"
    assert texts(page, cls="emergency-state") == ["已取消"]
    assert "按错了，取消" not in texts(page, "button")


def test_the_placed_page_leads_back_home(world, browser):
    browser.login(world.elder_a.person.phone)
    browser.get("/requests/new?service=cleaning")
    for answer in ("tomorrow", "morning"):
        browser.post("/requests/step", {"answer": answer}, page="/requests/step")
    placed = browser.post("/requests/check", {}, follow_redirects=True).get_data(as_text=True)
    assert "已下单" in text(placed, "h1")
    assert 'href="/"' in placed and "回到首页" in texts(placed, "a")


def test_the_volunteers_services_are_listed_with_the_chinese_comma(world, browser):
    browser.login(world.volunteer_a.person.phone)
    page = browser.get("/volunteer/").get_data(as_text=True)
    assert "助餐、探访" in text(page, "main")
    assert "助餐, " not in page


def test_the_footer_gives_the_elders_own_community_hotline(world, browser, session):
    # the status page said "社区热线：0817-12349" and, just below it, the footer "社区热线：12349"
    world.community_a.hotline = "0817-12349"
    session.commit()
    browser.login(world.elder_a.person.phone)
    home = browser.get("/elder/").get_data(as_text=True)
    assert "tel:0817-12349" in home and "tel:12349" not in home
    browser.logout()
    assert "tel:12349" in browser.get("/").get_data(as_text=True)  # nobody signed in: the configured one


@pytest.mark.parametrize("locale, period, expected", [
    ("zh_Hans", "2026-12", "2026年12月"), ("en", "2026-12", "December 2026"),
    ("zh_Hans", "2026-W49", "2026-W49"), ("zh_Hans", None, ""),
])
def test_a_month_is_written_as_people_write_it(locale, period, expected):
    assert formatting.month(period, locale) == expected


def test_the_worker_sees_months_in_chinese_on_the_list_the_sheet_and_the_key_in_page(world, browser):
    # they read "每月探访 · 2026-12", "← 上个月 (2026-11)" and "录入纸质探访单 · 2026-12"
    browser.login(world.worker_a.phone, PASSWORD)
    listing = browser.get("/worker/completion/?period=2026-12").get_data(as_text=True)
    assert text(listing, "h1") == "每月探访 · 2026年12月"
    assert "← 上个月：2026年11月" in texts(listing, "a")
    sheet = browser.get("/worker/completion/sheet?period=2026-12").get_data(as_text=True)
    assert text(sheet, "h1").startswith("探访单 · 2026年12月")
    key_in = browser.get("/worker/visits/key-in?period=2026-12").get_data(as_text=True)
    assert text(key_in, "h1") == "录入纸质探访单 · 2026年12月"


def test_checking_out_with_no_door_code_asks_for_it_rather_than_calling_it_wrong(world, browser, session):
    # an empty code read "签到码不对，请看一下门上的签到卡。"
    from portal.db import utcnow
    from portal.services import visits as visit_service

    visit = visit_service.check_in(session, world.volunteer_a.person, world.elder_a, "door_code", utcnow())
    session.commit()
    browser.login(world.volunteer_a.person.phone)
    url = f"/volunteer/visits/{visit.id}/check-out"
    page = browser.post(url, {"code": ""}).get_data(as_text=True)
    assert texts(page, cls="error") == ["此项不能为空。"]
    wrong = browser.post(url, {"code": "12"}).get_data(as_text=True)
    assert "签到码不对" in " ".join(texts(wrong, cls="error"))


def test_a_person_with_one_role_finds_home_under_home_not_under_her_roles_name(world, browser):
    # the elder's header read "老人 退出"
    browser.login(world.elder_a.person.phone)
    page = browser.get("/elder/").get_data(as_text=True)
    nav = page.split('class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert texts(nav, "a") == ["首页"]


def test_the_elder_reads_her_own_request_without_her_name_before_it(world, browser):
    # her status page read "给王秀英 · 12月2日（周三） 09:00" about her own request
    browser.login(world.elder_a.person.phone)
    browser.get("/requests/new?service=cleaning")
    for answer in ("tomorrow", "morning"):
        browser.post("/requests/step", {"answer": answer}, page="/requests/step")
    placed = browser.post("/requests/check", {}, page="/requests/check")
    status_url = placed.headers["Location"].replace("/placed", "")
    own = text(browser.get(status_url).get_data(as_text=True), "main")
    assert f"给{world.elder_a.person.name}" not in own and "（周" in own
    browser.logout()
    browser.login(world.family_a.phone)
    assert f"给{world.elder_a.person.name}" in text(browser.get(status_url).get_data(as_text=True), "main")


def test_the_confirm_button_is_on_her_home_only_when_a_visit_waits_for_her(world, browser, session):
    # the first big button on her home led to "没有需要您确认的探访。"
    from datetime import timedelta

    from portal.db import utcnow
    from portal.services import visits as visit_service

    browser.login(world.elder_a.person.phone)
    assert "确认探访" not in texts(browser.get("/elder/").get_data(as_text=True), "a")
    volunteer = world.volunteer_a.person
    visit = visit_service.check_in(session, volunteer, world.elder_a, "door_code", utcnow() - timedelta(minutes=40))
    visit_service.check_out(session, visit, volunteer, utcnow(), "door_code")
    session.commit()
    assert "确认探访" in texts(browser.get("/elder/").get_data(as_text=True), "a")
