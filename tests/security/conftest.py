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


def records_in(session, app, community, elder, volunteer, family) -> dict:
    """In one community: a pending family link to `elder`, a request her relative placed, a visit
    waiting for her answer, a confirmed visit (its credit transfer), a follow-up task, this month's
    visit obligation and her door-card token."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.db import utcnow
    from portal.models import FamilyLink, FollowUp, Transfer, VisitObligation
    from portal.services import compliance, door
    from portal.services import requests as service_requests
    from portal.services import visits as visit_service

    nephew = make_person(session, "侄子", role="family", area=community)
    link = FamilyLink(family_id=nephew.id, elder_id=elder.person_id, relation="侄子", status="pending")
    session.add(link)
    session.commit()
    now = utcnow()
    confirmed = visit_service.check_in(session, volunteer, elder, "door_code", now - timedelta(hours=5))
    visit_service.check_out(session, confirmed, volunteer, now - timedelta(hours=4), "door_code")
    visit_service.confirm_by_elder(session, confirmed, elder.person, "web", now - timedelta(hours=3))
    waiting = visit_service.check_in(session, volunteer, elder, "door_code", now - timedelta(hours=2))
    visit_service.check_out(session, waiting, volunteer, now - timedelta(hours=1), "door_code")
    request = service_requests.create_request(session, elder, family, "web", "meal", {}, None, now)
    task = FollowUp(community_id=community.id, elder_id=elder.person_id, visit_id=waiting.id,
                    reason="wellbeing", flags=["unwell"])
    session.add(task)
    compliance.plan_visits(session, now)
    session.commit()
    return dict(
        pending_link=link, nephew=nephew, request=request, visit=waiting, task=task, elder=elder,
        volunteer=volunteer,
        transfer=session.scalars(select(Transfer).where(Transfer.visit_id == confirmed.id)).first(),
        obligation=session.scalars(select(VisitObligation).where(
            VisitObligation.elder_id == elder.person_id)).first(),
        token=door.door_token(app.config["SECRET_KEY"], elder),
        year=now.year, month=now.month,
    )


@pytest.fixture()
def secure_world(world, session, app):
    """The test world plus community A's records (`records_in`) in `world.extra`, and community B's
    in `world.extra["b"]` (for writes aimed outside an actor's scope)."""
    from portal.models import FamilyLink
    from tests.factories import make_volunteer

    world.extra.update(records_in(session, app, world.community_a, world.elder_a, world.volunteer_a.person,
                                  world.family_a))
    volunteer_b = make_volunteer(session, world.community_b, "乙志愿者", verified_by=world.worker_b)
    family_b = make_person(session, "乙家属", role="family", area=world.community_b)
    session.add(FamilyLink(family_id=family_b.id, elder_id=world.elder_b.person_id, relation="女儿",
                           status="approved"))
    session.commit()
    world.extra["b"] = records_in(session, app, world.community_b, world.elder_b, volunteer_b.person, family_b)
    return world


def url_values(world, records: dict | None = None) -> dict:
    """Values for every URL variable used by a route (community A's records unless `records`)."""
    records = records or world.extra
    return {
        "elder_id": records.get("elder", world.elder_a).person_id,
        "link_id": records["pending_link"].id,
        "person_id": records["volunteer"].id if "volunteer" in records else world.volunteer_a.person_id,
        "service": "meal",
        "filename": "css/linli.css",
        "reference": records["request"].reference,
        "visit_id": records["visit"].id,
        "task_id": records["task"].id,
        "transfer_id": records["transfer"].id,
        "obligation_id": records["obligation"].id,
        "token": records["token"],
        "year": records["year"],
        "month": records["month"],
        "fmt": "csv",
        "area_id": world.community_a.id,
        "staff_id": world.worker_b.id,
        "batch_id": 999_999,  # an upload nobody made: every importer gets 404
        "community_id": world.community_a.id,
    }
