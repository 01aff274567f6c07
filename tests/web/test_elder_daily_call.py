"""每日问安 chosen by the elder herself on her own page: a time, a change, a stop."""
from __future__ import annotations

from portal.models import DailyCheckIn
from tests.factories import PASSWORD


def test_the_elder_opts_herself_in_changes_the_time_and_stops(world, browser, session):
    elder = world.elder_a
    browser.login(elder.person.phone)
    home = browser.get("/elder/").get_data(as_text=True)
    assert 'href="/elder/daily-call"' in home and "每日问安" in home
    page = browser.get("/elder/daily-call").get_data(as_text=True)
    assert "每天几点给您打电话问声好？" in page and "上午8点半" in page and "不用打了" in page

    response = browser.post("/elder/daily-call", {"choice": "08:30"})
    assert response.status_code == 303
    row = session.get(DailyCheckIn, elder.person_id)
    assert row.active and row.call_time == "08:30" and row.opted_in_by_id == elder.person_id
    told = browser.get("/elder/").get_data(as_text=True)
    assert "好的，每天上午8点半给您打电话。" in told

    page = browser.get("/elder/daily-call").get_data(as_text=True)
    assert "现在：每天上午8点半。" in page and 'value="08:30" checked' in page
    assert browser.post("/elder/daily-call", {"choice": "09:00"}).status_code == 303
    session.expire_all()
    assert session.get(DailyCheckIn, elder.person_id).call_time == "09:00"

    assert browser.post("/elder/daily-call", {"choice": "stop"}).status_code == 303
    session.expire_all()
    assert session.get(DailyCheckIn, elder.person_id).active is False


def test_nothing_chosen_or_a_made_up_time_is_refused_and_changes_nothing(world, browser, session):
    browser.login(world.elder_a.person.phone)
    for choice in ({}, {"choice": "03:00"}, {"choice": "<script>"}):
        response = browser.post("/elder/daily-call", choice)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and 'class="error-summary"' in html
    assert session.get(DailyCheckIn, world.elder_a.person_id) is None


def test_a_worker_cannot_use_the_elders_page(world, browser, session):
    browser.login(world.worker_a.phone, PASSWORD)
    assert browser.get("/elder/daily-call").status_code == 403
