"""An approved family link can be revoked in one step by the elder or a worker of her area, audited,
and the relative's access ends at once (issue 12, point 12)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, FamilyLink
from tests.factories import PASSWORD


def _link(session, world) -> FamilyLink:
    return session.scalar(select(FamilyLink).where(FamilyLink.family_id == world.family_a.id,
                                                   FamilyLink.elder_id == world.elder_a.person_id))


@pytest.mark.parametrize("who", ["elder", "worker"])
def test_revoking_an_approved_link_ends_the_relatives_access_at_once(who, world, browser, session, app):
    link = _link(session, world)
    relative = app.test_client()
    from tests.conftest import Browser

    family = Browser(relative, browser.transport)
    family.login(world.family_a.phone)
    assert family.get(f"/requests/new?elder={world.elder_a.person_id}").status_code == 303
    if who == "elder":
        browser.login(world.elder_a.person.phone)
        url, page = f"/elder/family-links/{link.id}", "/elder/"
    else:
        browser.login(world.worker_a.phone, PASSWORD)
        url, page = f"/worker/family-links/{link.id}", "/worker/family-links"
    assert browser.post(url, {"decision": "revoke"}, page=page).status_code == 303
    session.expire_all()
    assert _link(session, world).status == "revoked"
    actor = world.elder_a.person_id if who == "elder" else world.worker_a.id
    assert session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "revoke",
                                                            AuditEvent.subject_type == "family_link")) == actor
    # The relative's very next request finds no approved link: she can no longer order for her.
    assert family.get(f"/requests/new?elder={world.elder_a.person_id}").status_code == 403


def test_a_worker_of_another_area_cannot_revoke(world, browser, session):
    link = _link(session, world)
    browser.login(world.worker_b.phone, PASSWORD)
    assert browser.post(f"/worker/family-links/{link.id}", {"decision": "revoke"},
                        page="/worker/family-links").status_code == 404
    session.expire_all()
    assert _link(session, world).status == "approved"


def test_another_elder_cannot_revoke_her_link(world, browser, session):
    link = _link(session, world)
    browser.login(world.elder_b.person.phone)
    assert browser.post(f"/elder/family-links/{link.id}", {"decision": "revoke"}, page="/elder/").status_code == 404
    session.expire_all()
    assert _link(session, world).status == "approved"
