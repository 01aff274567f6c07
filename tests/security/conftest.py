"""Helpers for the security tests: sign in as each role of the test world."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_person

ROLES = ("anonymous", "elder", "family", "volunteer", "worker_a", "worker_b", "officer", "admin")


def person_for(world, role: str):
    return {
        "anonymous": None,
        "elder": world.elder_a.person,
        "family": world.family_a,
        "volunteer": world.volunteer_a.person,
        "worker_a": world.worker_a,
        "worker_b": world.worker_b,
        "officer": world.officer,
        "admin": world.admin,
    }[role]


def sign_in_as(browser, world, role: str) -> None:
    person = person_for(world, role)
    if person is None:
        return
    staff = role in ("worker_a", "worker_b", "officer", "admin")
    browser.login(person.phone, PASSWORD if staff else None)


@pytest.fixture()
def secure_world(world, session, app):
    """The test world plus, all in community A: a pending family link to elder A, a request her
    daughter placed for her, a visit waiting for her answer, a confirmed visit (its credit transfer),
    a follow-up task, this month's visit obligation, and elder A's door-card token."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.db import utcnow
    from portal.models import FamilyLink, FollowUp, Transfer, VisitObligation
    from portal.services import compliance, door, requests as service_requests
    from portal.services import visits as visit_service

    nephew = make_person(session, "甲侄子", role="family", area=world.community_a)
    link = FamilyLink(family_id=nephew.id, elder_id=world.elder_a.person_id, relation="侄子", status="pending")
    session.add(link)
    session.commit()
    world.extra["pending_link"] = link
    world.extra["nephew"] = nephew

    now = utcnow()
    volunteer, elder = world.volunteer_a.person, world.elder_a
    confirmed = visit_service.check_in(session, volunteer, elder, "door_code", now - timedelta(hours=5))
    visit_service.check_out(session, confirmed, volunteer, now - timedelta(hours=4), "door_code")
    visit_service.confirm_by_elder(session, confirmed, elder.person, "web", now - timedelta(hours=3))
    waiting = visit_service.check_in(session, volunteer, elder, "door_code", now - timedelta(hours=2))
    visit_service.check_out(session, waiting, volunteer, now - timedelta(hours=1), "door_code")
    request = service_requests.create_request(session, elder, world.family_a, "web", "meal", {}, None, now)
    task = FollowUp(community_id=world.community_a.id, elder_id=elder.person_id, visit_id=waiting.id,
                    reason="wellbeing", flags=["unwell"])
    session.add(task)
    compliance.plan_visits(session, now)
    session.commit()
    world.extra.update(
        request=request, visit=waiting, task=task,
        transfer=session.scalars(select(Transfer).where(Transfer.visit_id == confirmed.id)).first(),
        obligation=session.scalars(select(VisitObligation).where(
            VisitObligation.elder_id == elder.person_id)).first(),
        token=door.door_token(app.config["SECRET_KEY"], elder),
        year=now.year, month=now.month,
    )
    return world


def url_values(world) -> dict:
    """Values for every URL variable used by a route (all of them point into community A)."""
    return {
        "elder_id": world.elder_a.person_id,
        "link_id": world.extra["pending_link"].id,
        "person_id": world.volunteer_a.person_id,
        "service": "meal",
        "filename": "css/linli.css",
        "reference": world.extra["request"].reference,
        "visit_id": world.extra["visit"].id,
        "task_id": world.extra["task"].id,
        "transfer_id": world.extra["transfer"].id,
        "obligation_id": world.extra["obligation"].id,
        "token": world.extra["token"],
        "year": world.extra["year"],
        "month": world.extra["month"],
        "fmt": "csv",
        "area_id": world.community_a.id,
        "staff_id": world.worker_b.id,
        "batch_id": 999_999,  # an upload nobody made: every importer gets 404
        "community_id": world.community_a.id,
    }
