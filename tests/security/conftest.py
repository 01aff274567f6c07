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
def secure_world(world, session):
    """The test world plus a pending family link to elder A (for the approve/refuse routes)."""
    from portal.models import FamilyLink

    nephew = make_person(session, "甲侄子", role="family", area=world.community_a)
    link = FamilyLink(family_id=nephew.id, elder_id=world.elder_a.person_id, relation="侄子", status="pending")
    session.add(link)
    session.commit()
    world.extra["pending_link"] = link
    world.extra["nephew"] = nephew
    return world


def url_values(world) -> dict:
    """Values for every URL variable used by a route (all of them point into community A)."""
    return {
        "elder_id": world.elder_a.person_id,
        "link_id": world.extra["pending_link"].id,
        "person_id": world.volunteer_a.person_id,
        "service": "meal",
        "filename": "css/linli.css",
    }
