"""Spending the time bank: paying for a service on the request's check page (elder, relative, pool
minutes), the community pool and a worker's allocations, the storage cap, the statement's months."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, ServiceRequest, Transfer, Visit
from portal.policy import policy
from portal.services import DomainError, ledger, spending
from portal.services import requests as service_requests
from portal.services import visits as visit_service
from portal.services.ledger_check import check_ledger
from tests.factories import PASSWORD, make_elder, make_volunteer
from tests.timebank.helpers import T0, visit

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def earn(session, world, minutes=120, start=T0, volunteer=None):
    volunteer = volunteer or world.volunteer_a.person
    v = visit(session, volunteer, world.elder_a, start=start, minutes=minutes)
    visit_service.verify_by_worker(session, v, world.worker_a, start + timedelta(hours=5))
    return v


def fill_pool(session, world, minutes=100):
    earn(session, world, 120)
    ledger.give(session, world.volunteer_a.person, "pool", minutes, T0 + timedelta(days=1))
    session.commit()


def order_meal(browser, phone, elder_id=None):
    browser.login(phone)
    query = f"&elder={elder_id}" if elder_id else ""
    assert browser.get(f"/requests/new?service=meal{query}").status_code == 303
    for answer in ("lunch", "tomorrow", "3", "low_salt"):
        assert browser.post("/requests/step", {"answer": answer}).status_code == 303
    return browser.get("/requests/check").get_data(as_text=True)


def test_the_elder_pays_a_meal_with_her_minutes_on_the_check_page(world, browser, session):
    # the elder (86) holds 90 minutes given to her by a relative
    helper = make_volunteer(session, world.community_a, "助手", verified_by=world.worker_a)
    from portal.models import FamilyLink

    session.add(FamilyLink(family_id=world.volunteer_a.person_id, elder_id=world.elder_a.person_id,
                           relation="女儿", status="approved"))
    earn(session, world, 120, volunteer=helper.person)
    session.add(FamilyLink(family_id=helper.person_id, elder_id=world.elder_a.person_id, relation="儿子",
                           status="approved"))
    session.flush()
    ledger.give(session, helper.person, str(world.elder_a.person_id), 90, T0 + timedelta(days=1))
    session.commit()

    check = order_meal(browser, world.elder_a.person.phone)
    assert "您的时间银行有 90 分钟" in check and "用我的时长兑换" in check
    response = browser.post("/requests/check", {"pay": "minutes"})
    assert response.status_code == 303
    request = session.scalars(select(ServiceRequest).where(ServiceRequest.elder_id == world.elder_a.person_id)).one()
    assert request.paid_by_id == world.elder_a.person_id
    assert "从时间银行的时长里兑换" in browser.get(f"/requests/{request.reference}").get_data(as_text=True)

    # the volunteer serves it: the visit carries the payer, and the elder pays at verification
    service_requests.accept(session, request.id, helper.person, NOW)
    start = request.scheduled_at
    v = visit_service.check_in(session, helper.person, world.elder_a, "door_code", start)
    assert v.request_id == request.id and v.paid_by_id == world.elder_a.person_id
    visit_service.check_out(session, v, helper.person, start + timedelta(minutes=60), "door_code")
    visit_service.verify_by_worker(session, v, world.worker_a, start + timedelta(hours=2))
    session.commit()
    paid = session.scalar(select(Transfer).where(Transfer.visit_id == v.id))
    assert paid.kind == "spend" and paid.from_account.person_id == world.elder_a.person_id
    assert ledger.balance_of(session, world.elder_a.person_id) == 90 - paid.amount
    assert check_ledger(session.connection()).ok


def test_without_minutes_the_check_page_has_one_button_and_a_forged_pay_is_refused_with_200(world, browser,
                                                                                             session):
    check = order_meal(browser, world.elder_a.person.phone)
    assert "用我的时长兑换" not in check and "确认下单" in check
    response = browser.post("/requests/check", {"pay": "minutes"})
    assert response.status_code == 200
    assert "error-summary" in response.get_data(as_text=True) and "还没有时长" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(ServiceRequest.id))) == 0


def test_a_relative_with_credit_pays_for_her_mother(world, browser, session):
    # family_a earned minutes as a volunteer elsewhere: seed her balance with a minted transfer
    head = ledger._lock_head(session)
    ledger._post(session, head, "mint", ledger.issuance_account(session, world.community_a.id),
                 ledger.person_account(session, world.family_a.id), 200, T0)
    session.commit()
    check = order_meal(browser, world.family_a.phone, world.elder_a.person_id)
    assert "200" in check and "用我的时长兑换" in check
    assert browser.post("/requests/check", {"pay": "minutes"}).status_code == 303
    request = session.scalars(select(ServiceRequest)).one()
    assert request.paid_by_id == world.family_a.id and request.placed_by_id == world.family_a.id


def test_a_worker_allocates_pool_minutes_to_a_special_hardship_elder_who_pays_with_them(world, browser, session,
                                                                                        app):
    young = make_elder(session, world.community_a, "年轻老人", birth_date=date(1968, 1, 1), living_situation="alone",
                       hardship=["extreme_poverty"])
    young.care_tier = "special_hardship"
    fill_pool(session, world, 100)
    browser.login(world.worker_a.phone, PASSWORD)
    page = browser.get("/time-bank/pool").get_data(as_text=True)
    assert "甲社区" in page and "100 分钟" in page and "年轻老人" in page and "乙社区" not in page
    # an invalid amount answers 200 with the summary; more than the pool holds is refused too
    response = browser.post("/time-bank/pool/allocate", {"elder": str(young.person_id), "amount": "x"}, page="/time-bank/pool")
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    response = browser.post("/time-bank/pool/allocate", {"elder": str(young.person_id), "amount": "500"}, page="/time-bank/pool")
    assert response.status_code == 200 and "爱心池只有 100 分钟" in response.get_data(as_text=True)
    # an elder of another community is not in the worker's list and nothing moves
    response = browser.post("/time-bank/pool/allocate", {"elder": str(world.elder_b.person_id), "amount": "10"}, page="/time-bank/pool")
    assert response.status_code == 200 and "error-summary" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.kind == "allocation")) == 0

    response = browser.post("/time-bank/pool/allocate", {"elder": str(young.person_id), "amount": "60",
                                                         "reason": "低保户助餐"}, page="/time-bank/pool")
    assert response.status_code == 303
    session.expire_all()
    assert ledger.balance_of(session, young.person_id) == 60
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "allocate")).one()
    assert audit.actor_id == world.worker_a.id and audit.elder_id == young.person_id
    page = browser.get("/time-bank/pool").get_data(as_text=True)
    assert "40 分钟" in page and "低保户助餐" in page and "甲工作者" in page
    assert check_ledger(session.connection()).ok

    # the officer sees it; the worker of community B does not, and cannot allocate from A
    browser.logout()
    browser.login(world.officer.phone, PASSWORD)
    assert "低保户助餐" in browser.get("/time-bank/pool").get_data(as_text=True)
    assert browser.client.get("/time-bank/pool/allocate").status_code == 405
    browser.logout()
    app.extensions["linli"].limiter.reset()
    browser.login(world.worker_b.phone, PASSWORD)
    page = browser.get("/time-bank/pool").get_data(as_text=True)
    assert "低保户助餐" not in page and "年轻老人" not in page
    response = browser.post("/time-bank/pool/allocate", {"elder": str(young.person_id), "amount": "10"}, page="/time-bank/pool")
    assert response.status_code == 200
    browser.logout()

    # the 58-year-old elder is under the redemption age, but the allocated minutes pay for her care
    app.extensions["linli"].limiter.reset()
    check = order_meal(browser, young.person.phone)
    assert "60 分钟" in check and "用我的时长兑换" in check
    assert browser.post("/requests/check", {"pay": "minutes"}).status_code == 303


def test_allocation_checks_scope_and_tier_in_the_service(world, session):
    fill_pool(session, world, 100)
    with pytest.raises(LookupError):
        spending.allocate(session, world.worker_a, world.elder_b.person_id, 10, None, NOW)
    general = make_elder(session, world.community_a, "普通老人", birth_date=date(1960, 1, 1), living_situation="with_family",
                         hardship=[])
    general.care_tier = "general"
    with pytest.raises(DomainError):
        spending.allocate(session, world.worker_a, general.person_id, 10, None, NOW)
    with pytest.raises(LookupError):
        spending.allocate(session, world.worker_b, world.elder_a.person_id, 10, None, NOW)


def test_a_volunteer_only_sees_the_pool_page_refused(world, browser):
    browser.login(world.volunteer_a.person.phone)
    assert browser.client.get("/time-bank/pool").status_code == 403


def test_minutes_above_the_storage_cap_are_not_minted_and_the_statement_says_so(world, browser, session,
                                                                                monkeypatch):
    monkeypatch.setitem(policy()["time_bank"], "storage_cap_minutes", 100)
    first = earn(session, world, 80)
    second = earn(session, world, 60, start=T0 + timedelta(days=1))
    session.commit()
    assert first.credited_minutes == 80 and second.credited_minutes == 20
    assert second.uncredited_minutes == 40 and second.uncredited_reason == "storage_cap"
    assert ledger.balance_of(session, world.volunteer_a.person_id) == 100
    browser.login(world.volunteer_a.person.phone)
    statement = browser.get("/time-bank/statement/2026/11").get_data(as_text=True)
    assert "40 分钟没有存入" in statement and "上限 1 小时" in statement


def test_the_statement_links_other_months_and_names_the_other_party_of_a_gift(world, browser, session):
    from portal.models import FamilyLink

    volunteer = world.volunteer_a.person
    mother = make_elder(session, world.community_b, "母亲")
    session.add(FamilyLink(family_id=volunteer.id, elder_id=mother.person_id, relation="女儿", status="approved"))
    earn(session, world, 120)
    ledger.give(session, volunteer, str(mother.person_id), 30, T0 + timedelta(days=1))
    ledger.give(session, volunteer, "pool", 10, T0 + timedelta(days=1))
    session.commit()
    browser.login(volunteer.phone)
    statement = browser.get("/time-bank/statement/2026/11").get_data(as_text=True)
    assert "母亲" in statement and "社区爱心池" in statement
    assert 'href="/time-bank/statement/2026/10"' in statement and "2026年10月" in statement
    # a month in the future is not linked
    assert "/time-bank/statement/2027/" not in browser.get("/time-bank/statement/2026/12").get_data(as_text=True) \
        or datetime.now(timezone.utc).year >= 2027
    assert session.scalar(select(func.count(Visit.id))) == 1
