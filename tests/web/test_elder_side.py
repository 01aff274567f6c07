"""The elder's side as elders use it (issue 11, points 1 and 5–8): an invalid answer comes back with
status 200 and its message; times that have passed are neither offered nor accepted; 修改 shows
the earlier answer; the check page reads as answers; one date style; the time bank from her home."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from portal import formatting
from portal.services import DomainError
from portal.services import requests as service_requests
from tests.page_text import text, texts

# 16:12 in Shanghai on Tuesday 1 December 2026: lunch and the morning have passed today
AFTERNOON = datetime(2026, 12, 1, 8, 12, tzinfo=timezone.utc)


@pytest.fixture()
def clock(monkeypatch):
    now = {"t": AFTERNOON}
    monkeypatch.setattr("portal.web.requests.utcnow", lambda: now["t"])
    return now


def offered(html: str) -> list[str]:
    return texts(html, cls="tile-title")


def checked(html: str) -> list[str]:
    """The labels of the ticked tiles (the radio inside a label.tile)."""
    picked = []
    for chunk in html.split('<label class="tile">')[1:]:
        label = chunk.split("</label>")[0]
        if " checked" in label.split(">")[0] + label.split("<span")[0]:
            picked.append(text(label, cls="tile-title"))
    return picked


def start(browser, world, service):
    browser.login(world.elder_a.person.phone)
    assert browser.get(f"/requests/new?service={service}").status_code == 303


def test_today_is_not_offered_when_every_slot_of_it_has_passed(world, browser, clock):
    start(browser, world, "meal")
    browser.post("/requests/step", {"answer": "lunch"})
    days = offered(browser.get("/requests/step").get_data(as_text=True))
    assert "今天" not in days and "明天" in days
    # posted anyway (an old page, a crafted form): refused with its message, status 200
    response = browser.post("/requests/step", {"answer": "today"})
    assert response.status_code == 200
    assert "已经过了" in text(response.get_data(as_text=True), cls="error-summary")


def test_dinner_today_is_still_offered_at_four(world, browser, clock):
    start(browser, world, "meal")
    browser.post("/requests/step", {"answer": "dinner"})
    assert "今天" in offered(browser.get("/requests/step").get_data(as_text=True))


def test_escort_today_offers_only_times_still_ahead_and_refuses_a_typed_one_too_soon(world, browser, clock):
    start(browser, world, "escort")
    browser.post("/requests/step", {"answer": "today"})
    times = offered(browser.get("/requests/step").get_data(as_text=True))
    assert times == []  # 8:00–15:00 have all passed; a later time can be typed
    too_soon = browser.post("/requests/step", {"other": "16:30"})
    assert too_soon.status_code == 200 and "已经过了" in text(too_soon.get_data(as_text=True), cls="error-summary")
    assert browser.post("/requests/step", {"other": "18:00"}).status_code == 303


def test_a_request_for_a_time_that_has_passed_is_refused_on_every_channel(world, session):
    with pytest.raises(DomainError):
        service_requests.create_request(session, world.elder_a, world.elder_a.person, "sms", "cleaning", {},
                                        AFTERNOON - timedelta(hours=7), AFTERNOON)  # today 09:00
    with pytest.raises(DomainError):  # within the lead time
        service_requests.create_request(session, world.elder_a, world.elder_a.person, "voice", "meal", {},
                                        AFTERNOON + timedelta(minutes=20), AFTERNOON)
    placed = service_requests.create_request(session, world.elder_a, world.elder_a.person, "sms", "meal", {},
                                             AFTERNOON + timedelta(hours=2), AFTERNOON)
    assert placed.id is not None


def test_tomorrow_is_the_elders_tomorrow(world, browser, clock):
    clock["t"] = datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc)  # 01:00 on 2 December in Shanghai
    start(browser, world, "cleaning")
    browser.post("/requests/step", {"answer": "tomorrow"})
    browser.post("/requests/step", {"answer": "morning"})
    check = browser.get("/requests/check").get_data(as_text=True)
    assert "12月3日（周四）" in texts(check, cls="summary-answer")


def test_change_shows_the_earlier_answer_ticked_and_the_check_rows_read_as_answers(world, browser, clock):
    start(browser, world, "meal")
    for answer in ("lunch", "tomorrow", "3", "low_salt"):
        assert browser.post("/requests/step", {"answer": answer}).status_code == 303
    check = browser.get("/requests/check").get_data(as_text=True)
    assert texts(check, cls="summary-answer") == ["助餐（送饭）", "午饭", "12月2日（周三）", "三天", "少盐"]
    for step, want in (("date", "明天"), ("meals", "午饭"), ("diet", "少盐")):
        page = browser.get(f"/requests/step?step={step}").get_data(as_text=True)
        assert checked(page) == [want], step


def test_a_typed_day_comes_back_in_the_day_field(world, browser, clock):
    start(browser, world, "cleaning")
    browser.post("/requests/step", {"other": "12月9日"})
    browser.post("/requests/step", {"answer": "morning"})
    page = browser.get("/requests/step?step=date").get_data(as_text=True)
    assert checked(page) == [] and 'value="2026-12-09"' in page


def test_the_next_button_says_next_step(world, browser, clock):
    start(browser, world, "meal")
    assert "下一步" in texts(browser.get("/requests/step").get_data(as_text=True), "button")


def test_an_empty_answer_comes_back_with_200_and_its_message(world, browser, clock):
    start(browser, world, "meal")
    for headers in ({}, {"HX-Request": "true", "HX-Target": "conversation"}):
        response = browser.post("/requests/step", {}, headers=headers)
        assert response.status_code == 200
        assert "请选" in text(response.get_data(as_text=True), cls="error-summary")


@pytest.mark.parametrize("locale, expected", [
    ("zh_Hans", ("12月1日（周二） 11:30", "12月1日（周二） 11:30–12:10", "2026年12月31日（周四）", "85%")),
    ("en", ("Tue 1 Dec, 11:30", "Tue 1 Dec, 11:30–12:10", "Thu 31 Dec 2026", "85%")),
])
def test_one_style_for_dates_times_ranges_and_percentages(locale, expected):
    moment = datetime(2026, 12, 1, 3, 30, tzinfo=timezone.utc)
    got = (formatting.when(moment, locale), formatting.time_range(moment, moment + timedelta(minutes=40), locale),
           formatting.day(date(2026, 12, 31), locale, with_year=True), formatting.percent(0.853, locale))
    assert got == expected
    assert formatting.time_range(moment, moment, locale) == expected[0]  # no "16:20–16:20"
    assert formatting.percent(None, locale) == "—"


def test_request_texts_use_the_one_style(world, session):
    moment = datetime(2026, 12, 2, 3, 30, tzinfo=timezone.utc)
    assert service_requests.when_text("zh_Hans", moment) == "12月2日（周三） 11:30"


def test_the_elders_time_bank_is_linked_from_her_home_and_in_her_styling(world, browser):
    browser.login(world.elder_a.person.phone)
    home = browser.get("/elder/").get_data(as_text=True)
    links = [chunk.split('"')[0] for chunk in home.split('href="')[1:]]
    assert "/time-bank/" in links
    page = browser.get("/time-bank/").get_data(as_text=True)
    assert 'class="elder-page"' in page.split("<body", 1)[1].split(">", 1)[0]


def test_worker_sees_the_time_bank_in_staff_styling(world, browser):
    from tests.factories import PASSWORD

    browser.login(world.worker_a.phone, PASSWORD)
    page = browser.get("/time-bank/").get_data(as_text=True)
    assert "elder-page" not in page.split("<body", 1)[1].split(">", 1)[0]


def test_the_visit_check_text_writes_the_visit_as_one_range(world, app, session):
    from sqlalchemy import select

    from portal.models import OutboundMessage
    from tests.timebank.helpers import T0, visit

    with app.app_context():
        visit(session, world.volunteer_a.person, world.elder_a, start=T0, minutes=40)
    body = session.scalar(select(OutboundMessage.body).where(OutboundMessage.kind == "visit_confirm"))
    assert "（11月10日（周二） 09:00–09:40）" in body  # not "11-10 09:00–09:40"


def test_a_visit_reminder_gives_its_deadline_as_a_chinese_day(world, app, session):
    from sqlalchemy import select

    from portal.models import OutboundMessage
    from portal.services.compliance.notices import send_to

    with app.app_context():
        send_to(session, world.volunteer_a.person, "Please visit %(elder)s (%(community)s) by %(date)s. Thank you!",
                "test:reminder", AFTERNOON, elder="甲老人", community="甲社区",
                date=lambda locale: formatting.day(date(2026, 12, 31), locale))
    body = session.scalar(select(OutboundMessage.body).where(OutboundMessage.dedupe_key == "test:reminder"))
    assert body == "【邻里】请在12月31日（周四）前探访甲老人（甲社区）。谢谢您！"  # not "请在 2026-12-31 前探访"
