"""Administration of staff: the first administrator, workers and officers, their areas and passwords."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import Area, Person
from portal.services import DomainError, audit
from portal.services.login import set_password
from portal.services.people import clean_name, find_person, grant
from portal.services.phones import normalize_phone
from portal.services.scope import admin_governs, governs_whole_installation


def create_admin(session: Session, phone: str, name: str, password: str, grant_existing: bool = False,
                 region: str = "CN") -> Person:
    """An administrator of the whole installation (no area: admins govern every area).

    An existing number is refused unless `grant_existing`: then that person keeps their name and
    other roles, gains the admin grant and the new password.
    """
    phone = normalize_phone(phone, region)
    name = clean_name(name)
    person = find_person(session, phone)
    if person is not None and not grant_existing:
        raise DomainError(_l("Someone with this phone number is already registered."), field="phone")
    if person is None:
        person = Person(phone=phone, name=name, preferred_channel="web")
        session.add(person)
        session.flush()
    set_password(person, password)
    person.active = True
    grant(session, person, "admin", None)
    audit.record(session, None, "create", "admin", person.id, via="cli")
    return person


STAFF_KINDS = ("worker", "officer")


def _areas_governed(session: Session, admin: Person, area_ids: list[int]) -> list[Area]:
    """The areas, each one live and governed by `admin`; otherwise a DomainError (no hint which)."""
    areas = [session.get(Area, area_id) for area_id in dict.fromkeys(area_ids)]
    if not areas or any(a is None or a.retired_at is not None or not admin_governs(session, admin, a)
                        for a in areas):
        raise DomainError(_l("Please choose areas from the list."), field="area_ids")
    return areas


def governs_person(session: Session, admin: Person, person: Person) -> bool:
    """An admin governs a person when every area-bound grant of theirs lies in the admin's areas."""
    if governs_whole_installation(admin):
        return True
    if not person.grants or any(g.area_id is None for g in person.grants):
        return False
    return all(admin_governs(session, admin, session.get(Area, g.area_id)) for g in person.grants)


def create_staff(session: Session, admin: Person, name: str, phone: str, role: str, area_ids: list[int],
                 region: str = "CN") -> Person:
    """A worker or officer for one or more areas. They set their own password after their first code.

    An existing number is accepted only when the admin governs everything that person already
    holds; otherwise the refusal says nothing about who has the number.
    """
    if role not in STAFF_KINDS:
        raise DomainError(_l("Please choose a role from the list."), field="role")
    name = clean_name(name)
    phone = normalize_phone(phone, region)
    areas = _areas_governed(session, admin, area_ids)
    person = find_person(session, phone)
    if person is not None and (person.has_role(role) or not governs_person(session, admin, person)):
        raise DomainError(_l("This number cannot be used for a new staff member."), field="phone")
    if person is None:
        person = Person(phone=phone, name=name, preferred_channel="web")
        session.add(person)
        session.flush()
    person.active = True
    for area in areas:
        grant(session, person, role, area.id)
    audit.record(session, admin.id, "create", "staff", person.id, role=role, area_ids=[a.id for a in areas])
    return person


def staff_in_scope(session: Session, admin: Person, person_id: int) -> Person | None:
    """A worker or officer the admin governs, or None."""
    person = session.get(Person, person_id)
    if person is None or not person.has_role(*STAFF_KINDS) or not governs_person(session, admin, person):
        return None
    return person


def move_staff(session: Session, admin: Person, person: Person, area_ids: list[int]) -> Person:
    """Give a worker or officer a new set of areas (every staff grant of theirs is replaced)."""
    areas = _areas_governed(session, admin, area_ids)
    roles = sorted({g.role for g in person.grants if g.role in STAFF_KINDS})
    old = sorted({g.area_id for g in person.grants if g.role in STAFF_KINDS})
    for role_grant in [g for g in person.grants if g.role in STAFF_KINDS and g.area_id not in area_ids]:
        person.grants.remove(role_grant)
    session.flush()
    for role in roles:
        for area in areas:
            grant(session, person, role, area.id)
    audit.record(session, admin.id, "update", "staff", person.id, old_area_ids=old, area_ids=[a.id for a in areas])
    return person


def reset_staff_password(session: Session, admin: Person, person: Person) -> None:
    """Forget the password: at their next sign-in (with a text code) the person chooses a new one."""
    person.password_hash = None
    audit.record(session, admin.id, "reset_password", "staff", person.id)


def retire_staff(session: Session, admin: Person, person: Person) -> None:
    """Take the worker and officer grants away; someone with no other role can no longer sign in."""
    removed = [g for g in person.grants if g.role in STAFF_KINDS]
    for role_grant in removed:
        person.grants.remove(role_grant)
    person.password_hash = None
    if not person.grants:
        person.active = False
    session.flush()
    audit.record(session, admin.id, "retire", "staff", person.id,
                 roles=sorted({g.role for g in removed}), area_ids=sorted({g.area_id for g in removed}))


def choose_first_password(session: Session, person: Person, password: str, confirmation: str) -> None:
    """A staff member without a password (new, or reset by an admin) chooses one after a text code."""
    if person.password_hash is not None or not person.is_staff():
        raise DomainError(_l("This account already has a password."), field="password")
    if password != confirmation:
        raise DomainError(_l("The two passwords are not the same."), field="confirmation")
    set_password(person, password)
    audit.record(session, person.id, "set_password", "staff", person.id)
