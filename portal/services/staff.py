"""Administration of staff: the first administrator, workers and officers, their areas and passwords."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import Person
from portal.services import DomainError, audit
from portal.services.login import set_password
from portal.services.people import clean_name, find_person, grant
from portal.services.phones import normalize_phone


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
