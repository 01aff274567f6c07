"""A hand-entered visit counts and credits only after the elder confirms or a second staff member
approves (issue 12, point 4): the worker who typed it in can never verify it, whether the visit is
waiting, disputed or entered for a volunteer of any community the worker governs."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Transfer, Visit
from portal.services import DomainError
from portal.services import visits as visit_service
from tests.factories import PASSWORD, make_staff
from tests.timebank.helpers import T0


def _entered(session, world):
    return visit_service.record_by_worker(session, world.worker_a, world.volunteer_a.person, world.elder_a,
                                          T0 - timedelta(hours=5), T0 - timedelta(hours=1), T0)


def _credits(session) -> int:
    return session.scalar(select(func.count(Transfer.id)))


@pytest.mark.parametrize("disputed", [False, True])
def test_the_worker_who_entered_a_visit_cannot_verify_it(disputed, app, world, session):
    visit = _entered(session, world)
    if disputed:
        visit_service.dispute_by_elder(session, visit, world.elder_a.person, "sms", T0 + timedelta(minutes=5))
    with pytest.raises(DomainError):
        visit_service.verify_by_worker(session, visit, world.worker_a, T0 + timedelta(hours=1))
    assert visit.status != "verified" and _credits(session) == 0


def test_by_the_web_the_same_worker_is_refused_and_a_colleague_approves(app, world, session, browser):
    visit = _entered(session, world)
    colleague = make_staff(session, "worker", world.community_a, "甲同事")
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    browser.post(f"/worker/visits/{visit.id}/verify", {}, page="/worker/visits/")
    session.expire_all()
    assert session.get(Visit, visit.id).status == "done" and _credits(session) == 0
    browser.logout()
    browser.login(colleague.phone, PASSWORD)
    browser.post(f"/worker/visits/{visit.id}/verify", {}, page="/worker/visits/")
    session.expire_all()
    assert session.get(Visit, visit.id).status == "verified" and _credits(session) == 1


def test_the_elders_yes_verifies_a_hand_entered_visit(app, world, session):
    visit = _entered(session, world)
    visit_service.confirm_by_elder(session, visit, world.elder_a.person, "sms", T0 + timedelta(minutes=5))
    assert visit.status == "verified" and _credits(session) == 1
