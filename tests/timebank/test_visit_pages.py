"""The visit and time-bank pages, the elder's call, and their access rules."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.channels.twilio_hooks import sign
from portal.db import utcnow
from portal.models import FollowUp, OutboundMessage, Transfer, Visit
from portal.services import ledger
from portal.services.door import door_token
from tests.factories import PASSWORD
from tests.pages import facts, text_of


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = "twilio-test-token"
    return app_config


def back_date(session, visit_id, minutes):
    visit = session.get(Visit, visit_id)
    visit.checked_in_at = visit.checked_in_at - timedelta(minutes=minutes)
    session.commit()


def test_qr_check_in_then_check_out_with_flags(world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    token = door_token("test-secret-key", world.elder_a)
    page = browser.get(f"/d/{token}").get_data(as_text=True)
    assert "甲老人" in page
    assert browser.post(f"/d/{token}", {}).status_code == 303
    visit = session.scalar(select(Visit))
    assert visit.method == "door_qr" and visit.status == "open"
    back_date(session, visit.id, 45)
    again = browser.get(f"/d/{token}")  # scanning again leads to check-out
    assert again.status_code == 303 and "check-out" in again.headers["Location"]
    response = browser.post(f"/volunteer/visits/{visit.id}/check-out",
                            {"token": token, "flags": ["fell"], "notes": "膝盖擦伤"}, page=again.headers["Location"])
    assert response.status_code == 303
    session.expire_all()
    visit = session.get(Visit, visit.id)
    assert visit.status == "done" and visit.duration_minutes == 45 and visit.check_out_method == "door_qr"
    assert session.scalar(select(FollowUp.flags)) == ["fell"]


def test_forged_and_replaced_door_cards_are_refused(world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    token = door_token("test-secret-key", world.elder_a)
    assert browser.get(f"/d/{token[:-2]}xx").status_code == 404
    world.elder_a.door_token_version += 1
    session.commit()
    response = browser.get(f"/d/{token}")
    assert response.status_code == 404 and "签到卡" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_wrong_codes_on_the_page_lock_check_in(world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    for _ in range(4):
        response = browser.post("/volunteer/visits/check-in", {"code": "111111"}, page="/volunteer/visits/")
        assert response.status_code == 200 and "签到码不对" in response.get_data(as_text=True)
    response = browser.post("/volunteer/visits/check-in", {"code": world.elder_a.door_code},
                            page="/volunteer/visits/")
    assert response.status_code == 303  # four mistakes are forgiven
    visit = session.scalar(select(Visit))
    back_date(session, visit.id, 30)
    for _ in range(5):
        response = browser.post(f"/volunteer/visits/{visit.id}/check-out", {"code": "222222"})
    assert response.status_code == 200
    assert text_of(response.get_data(as_text=True), "p", cls="error") == \
        "签到码输错太多次了。请等15分钟，或打电话给社区工作人员。"
    response = browser.post(f"/volunteer/visits/{visit.id}/check-out", {"code": world.elder_a.door_code})
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Visit, visit.id).status == "open"


def _checked_out_visit(world, browser, session, minutes=40):
    browser.login(world.volunteer_a.person.phone)
    browser.post("/volunteer/visits/check-in", {"code": world.elder_a.door_code}, page="/volunteer/visits/")
    visit = session.scalar(select(Visit))
    back_date(session, visit.id, minutes)
    browser.post(f"/volunteer/visits/{visit.id}/check-out", {"code": world.elder_a.door_code})
    browser.logout()
    session.expire_all()
    return session.get(Visit, visit.id)


def test_elder_confirms_with_the_big_button(world, browser, session):
    visit = _checked_out_visit(world, browser, session)
    browser.login(world.elder_a.person.phone)
    page = browser.get("/elder/visits/").get_data(as_text=True)
    assert "elder-page" in page and "甲志愿者" in page
    assert browser.post(f"/elder/visits/{visit.id}", {"answer": "yes"}, page="/elder/visits/").status_code == 303
    session.expire_all()
    assert session.get(Visit, visit.id).verification_method == "web"
    assert ledger.balance_of(session, world.volunteer_a.person_id) == 40


def test_voice_elder_gets_a_call_and_presses_1(app, world, browser, session):
    world.elder_a.person.preferred_channel = "voice"
    session.commit()
    visit = _checked_out_visit(world, browser, session, minutes=30)
    call = session.scalar(select(OutboundMessage).where(OutboundMessage.channel == "call"))
    url = f"https://linli.example.org/twilio/voice/visit/{visit.id}"
    assert call.body == url
    unsigned = browser.client.post(f"/twilio/voice/visit/{visit.id}", data={})
    assert unsigned.status_code == 403
    twiml = browser.client.post(f"/twilio/voice/visit/{visit.id}", data={},
                                headers={"X-Twilio-Signature": sign(url, {}, "twilio-test-token")})
    assert b"<Gather" in twiml.data and b"answer" in twiml.data
    answer_url = url + "/answer"
    params = {"Digits": "1"}
    response = browser.client.post(f"/twilio/voice/visit/{visit.id}/answer", data=params,
                                   headers={"X-Twilio-Signature": sign(answer_url, params, "twilio-test-token")})
    assert response.status_code == 200 and b"<Say" in response.data
    session.expire_all()
    assert session.get(Visit, visit.id).verification_method == "call"
    assert ledger.balance_of(session, world.volunteer_a.person_id) == 30


def test_worker_sees_follow_ups_verifies_and_reverses(world, browser, session):
    visit = _checked_out_visit(world, browser, session, minutes=50)
    browser.login(world.worker_a.phone, PASSWORD)
    assert "甲志愿者" in browser.get("/worker/visits/").get_data(as_text=True)
    assert browser.post(f"/worker/visits/{visit.id}/verify", {}, page="/worker/visits/").status_code == 303
    transfer = session.scalar(select(Transfer))
    assert transfer.amount == 50
    page = f"/worker/visits/transfers/{transfer.id}/reverse"
    response = browser.post(page, {"reason": ""})
    assert response.status_code == 200 and "不能为空" in response.get_data(as_text=True)
    assert browser.post(page, {"reason": "重复录入"}).status_code == 303
    session.expire_all()
    assert ledger.balance_of(session, world.volunteer_a.person_id) == 0
    # Another community's worker cannot see or touch it.
    browser.logout()
    browser.login(world.worker_b.phone, PASSWORD)
    assert browser.get(page).status_code == 404
    assert browser.client.get(f"/worker/visits/people/{world.volunteer_a.person_id}/history").status_code == 404


def test_with_nothing_to_give_the_gift_page_says_so_and_offers_no_gift(world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    html = browser.get("/time-bank/gift").get_data(as_text=True)
    page = text_of(html, "main")
    assert "余额：0 分钟" in page and "您还没有可以转赠的时长。" in page
    assert "下一步" not in page and 'name="recipient"' not in html


def test_gift_errors_are_shown_in_chinese_and_nothing_moves(app, world, browser, session):
    from portal.services import visits as visit_service

    visit = _checked_out_visit(world, browser, session, minutes=35)
    visit_service.verify_by_worker(session, visit, world.worker_a, utcnow())
    session.commit()
    credited = session.scalar(select(func.count(Transfer.id)))
    app.extensions["linli"].limiter.reset()
    browser.login(world.volunteer_a.person.phone)
    response = browser.post("/time-bank/gift", {"recipient": "pool", "amount": "1.5"})
    assert response.status_code == 200 and "整数" in response.get_data(as_text=True)
    response = browser.post("/time-bank/gift/confirm", {"recipient": "pool", "amount": "100"}, page="/time-bank/gift")
    assert response.status_code == 200 and "100" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Transfer.id))) == credited


def test_statement_and_officer_outstanding(app, world, browser, session):
    visit = _checked_out_visit(world, browser, session, minutes=35)
    from portal.services import visits as visit_service

    visit_service.verify_by_worker(session, visit, world.worker_a, utcnow())
    session.commit()
    app.extensions["linli"].limiter.reset()  # a second login code for the same phone within the minute
    browser.login(world.volunteer_a.person.phone)
    local = visit.checked_in_at + timedelta(hours=8)
    statement = browser.get(f"/time-bank/statement/{local.year}/{local.month}").get_data(as_text=True)
    assert "35" in statement and "甲*" in statement
    assert text_of(statement, "h1") == f"时间银行对账单 {local.year}年{local.month}月"
    assert facts(statement)["月初余额"] == "0 分钟" and facts(statement)["存入"] == "35 分钟"
    browser.logout()
    browser.login(world.officer.phone, PASSWORD)
    page = browser.get("/time-bank/outstanding").get_data(as_text=True)
    assert "35" in page
    browser.logout()
    app.extensions["linli"].limiter.reset()
    browser.login(world.volunteer_a.person.phone)
    assert browser.client.get("/time-bank/outstanding").status_code == 403


def test_visit_record_after_check_out_a_gas_hazard_opens_a_follow_up_and_the_record_shows_the_trend(
        world, browser, session):
    import re

    from portal.services.visit_records import HEADINGS

    browser.login(world.volunteer_a.person.phone)
    token = door_token("test-secret-key", world.elder_a)
    browser.post(f"/d/{token}", {})
    visit = session.scalar(select(Visit))
    back_date(session, visit.id, 30)
    response = browser.post(f"/volunteer/visits/{visit.id}/check-out", {"token": token},
                            page=f"/volunteer/visits/{visit.id}/check-out?token={token}")
    assert response.headers["Location"].endswith(f"/volunteer/visits/{visit.id}/record")
    page = browser.get(f"/volunteer/visits/{visit.id}/record").get_data(as_text=True)
    assert "居家安全" in page and "燃气" in page and "家庭赡养" in page
    assert len(re.findall(r'type="radio"', page)) >= 2 * len(HEADINGS) and "checked" not in page
    answers = {h.key: h.choices[0][0] for h in HEADINGS}
    # one question left out: the form comes back (200) with the answers kept and the gap named
    partial = {k: v for k, v in answers.items() if k != "gas"}
    again = browser.post(f"/volunteer/visits/{visit.id}/record", partial)
    assert again.status_code == 200 and 'href="#gas"' in again.get_data(as_text=True)
    answers.update(gas="hazard", family="no")
    done = browser.post(f"/volunteer/visits/{visit.id}/record", answers, follow_redirects=True)
    assert "安排燃气维修" in done.get_data(as_text=True)
    tasks = {t.reason: t for t in session.scalars(select(FollowUp))}
    assert set(tasks) == {"record:gas", "record:family"}
    assert tasks["record:gas"].due_at - tasks["record:gas"].created_at == timedelta(days=1)
    assert tasks["record:family"].due_at - tasks["record:family"].created_at == timedelta(days=7)
    # recorded once only; nobody else's visit
    assert browser.post(f"/volunteer/visits/{visit.id}/record", answers).status_code == 200
    assert len(session.scalars(select(FollowUp)).all()) == 2
    browser.logout()
    browser.login(world.worker_a.phone, PASSWORD)
    follow_ups = browser.get("/worker/visits/follow-ups").get_data(as_text=True)
    assert "安排燃气维修" in follow_ups and "与家属沟通" in follow_ups and "请于" in follow_ups
    record = browser.get(f"/worker/elders/{world.elder_a.person_id}").get_data(as_text=True)
    table = record[record.index('class="table visit-records"'):]
    gas_row = re.search(r"<th scope=\"row\">燃气</th>\s*<td class=\"risky\">([^<]+)</td>", table)
    assert gas_row and gas_row.group(1).startswith("有隐患")
    assert browser.get(f"/volunteer/visits/{visit.id}/record").status_code in (403, 404)
