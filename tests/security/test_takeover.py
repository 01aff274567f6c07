"""Registering or editing a person never renames, rebinds or re-scopes someone the worker does not
govern (issue 12, point 1): the class is "an existing phone number reused by a registration or an
edit", for every kind of person a number can belong to and for both registration forms."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, ElderProfile, Person, VolunteerProfile
from portal.services.people import grant
from tests.factories import PASSWORD, make_person, make_staff, make_volunteer
from tests.security.helpers import error_summary

OUTSIDERS = ("officer", "admin", "worker_b", "elder_b", "volunteer_b", "family_b", "worker_of_a")


def _outsider(world, session, kind: str) -> Person:
    if kind == "elder_b":
        return world.elder_b.person
    if kind == "volunteer_b":
        return make_volunteer(session, world.community_b, "乙志愿者").person
    if kind == "family_b":
        return make_person(session, "乙家属", role="family", area=world.community_b)
    if kind == "worker_of_a":  # a colleague in the same community: staff are never registered over
        return make_staff(session, "worker", world.community_a, "甲同事")
    return getattr(world, kind)


def _elder_form(world, phone, **overrides):
    data = {"name": "冒名", "phone": phone, "community_id": str(world.community_a.id),
            "address": "甲社区 9 栋", "birth_date": "1940-01-01", "living_situation": "alone",
            "ability_level": "1", "preferred_channel": "sms", "tier_override": ""}
    data.update(overrides)
    return data


def _volunteer_form(world, phone, **overrides):
    data = {"name": "冒名", "phone": phone, "community_id": str(world.community_a.id), "services": ["meal"]}
    data.update(overrides)
    return data


def _phone_error(response) -> str:
    return error_summary(response)


def _snapshot(session, person_id):
    session.expire_all()
    person = session.get(Person, person_id)
    return person.name, person.phone, sorted((g.role, g.area_id) for g in person.grants)


@pytest.mark.parametrize("kind", OUTSIDERS)
@pytest.mark.parametrize("form", ["elder", "volunteer"])
def test_registering_an_existing_number_outside_scope_is_refused_without_naming_its_owner(
        kind, form, world, browser, session):
    target = _outsider(world, session, kind)
    session.commit()
    before = _snapshot(session, target.id)
    browser.login(world.worker_a.phone, PASSWORD)
    url, data = (("/worker/elders/new", _elder_form(world, target.phone)) if form == "elder"
                 else ("/worker/volunteers/new", _volunteer_form(world, target.phone)))
    # Even when the worker ticks "add the role to this person", an outsider stays untouched.
    response = browser.post(url, {**data, "add_role": "y"})
    assert response.status_code == 200
    message = _phone_error(response)
    assert target.name not in message
    assert _snapshot(session, target.id) == before


@pytest.mark.parametrize("kind", OUTSIDERS)
def test_editing_an_elders_phone_to_someone_elses_number_is_refused(kind, world, browser, session):
    target = _outsider(world, session, kind)
    session.commit()
    before_target, before_elder = _snapshot(session, target.id), _snapshot(session, world.elder_a.person_id)
    browser.login(world.worker_a.phone, PASSWORD)
    url = f"/worker/elders/{world.elder_a.person_id}/edit"
    response = browser.post(url, _elder_form(world, target.phone, name="甲老人", add_role="y"))
    assert response.status_code == 200
    assert target.name not in _phone_error(response)
    assert _snapshot(session, target.id) == before_target
    assert _snapshot(session, world.elder_a.person_id) == before_elder


def test_a_person_in_scope_gets_a_second_role_only_by_an_explicit_audited_step(world, browser, session):
    volunteer = world.volunteer_a.person
    browser.login(world.worker_a.phone, PASSWORD)
    response = browser.post("/worker/elders/new", _elder_form(world, volunteer.phone))
    assert response.status_code == 200  # asked to confirm first
    assert session.get(ElderProfile, volunteer.id) is None
    response = browser.post("/worker/elders/new", _elder_form(world, volunteer.phone, add_role="y"))
    assert response.status_code == 303
    session.expire_all()
    person = session.get(Person, volunteer.id)
    assert person.name == "甲志愿者"  # the worker adds a role; the name stays the person's own
    assert {"volunteer", "elder"} <= person.roles()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "grant_role",
                                                      AuditEvent.subject_id == str(person.id))).all()
    assert [e.actor_id for e in events] == [world.worker_a.id]


def test_the_phone_of_someone_with_a_staff_role_is_not_changed_by_a_worker(world, browser, session):
    elder = world.elder_a
    grant(session, elder.person, "worker", world.community_a.id)  # an elder who also works for the community
    session.commit()
    browser.login(world.worker_a.phone, PASSWORD)
    response = browser.post(f"/worker/elders/{elder.person_id}/edit",
                            _elder_form(world, "+8613911112222", name="甲老人"))
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Person, elder.person_id).phone != "+8613911112222"


def test_a_volunteer_registered_again_in_scope_keeps_one_person(world, browser, session):
    volunteer = world.volunteer_a.person
    browser.login(world.worker_a.phone, PASSWORD)
    response = browser.post("/worker/volunteers/new", _volunteer_form(world, volunteer.phone, add_role="y"))
    assert response.status_code == 303
    assert len(session.scalars(select(VolunteerProfile).where(VolunteerProfile.person_id == volunteer.id)).all()) == 1
    session.expire_all()
    assert session.get(Person, volunteer.id).name == "甲志愿者"
