"""Registering and editing people: elders, volunteers, family links and pairings."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import (
    HARDSHIP_CATEGORIES,
    LIVING_SITUATIONS,
    STAFF_ROLES,
    Area,
    ElderProfile,
    FamilyLink,
    Pairing,
    Person,
    RoleGrant,
    VolunteerProfile,
)
from portal.policy import policy
from portal.services import DomainError, audit
from portal.services.door import new_door_code
from portal.services.phones import normalize_phone
from portal.services.scope import staff_community_ids

NAME_MAX = 50
ADDRESS_MAX = 120
_NAME_PUNCTUATION = {"·", "•", "-", ".", "'", " "}


def clean_name(raw: str | None, field: str = "name") -> str:
    """A person's name: letters of any script (rare CJK such as 𠀀 included), no emoji or symbols."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    name = re.sub(r"\s+", " ", name)
    if not name:
        raise DomainError(_l("Please enter a name."), field=field)
    if len(name) > NAME_MAX:
        raise DomainError(_l("A name can have at most %(max)s characters.", max=NAME_MAX), field=field)
    for char in name:
        category = unicodedata.category(char)
        if not (category.startswith("L") or category.startswith("M") or char in _NAME_PUNCTUATION):
            raise DomainError(
                _l("A name can only contain letters (no emoji, digits or symbols)."), field=field
            )
    return name


def strip_invisible(text: str) -> str:
    """Without format characters (bidirectional overrides and isolates, zero-width spaces and joiners,
    the BOM) and with line/paragraph separators as newlines: what one person writes reads the same to
    the person who reads it."""
    return "".join("\n" if unicodedata.category(c) in ("Zl", "Zp") else c
                   for c in text if unicodedata.category(c) != "Cf")


def clean_text(raw: str | None, field: str, max_length: int, required: bool = True) -> str:
    """Free text: trimmed, invisible characters stripped, control characters refused, bounded length."""
    text = unicodedata.normalize("NFC", strip_invisible(raw or "").strip())
    if required and not text:
        raise DomainError(_l("This cannot be empty."), field=field)
    if len(text) > max_length:
        raise DomainError(_l("This can have at most %(max)s characters.", max=max_length), field=field)
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise DomainError(_l("This contains characters that cannot be used."), field=field)
    return text


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_birth_date(value: date | None, today: date, field: str = "birth_date") -> date:
    if value is None:
        raise DomainError(_l("Please enter a valid date of birth."), field=field)
    if value > today or value.year < today.year - 120:
        raise DomainError(_l("That date of birth is not possible."), field=field)
    return value


def derive_tier(profile: ElderProfile, today: date) -> str:
    """The care tier from the profile; a worker's override wins."""
    if profile.tier_override:
        return profile.tier_override
    rules = policy()["tier_rules"]
    age = age_on(profile.birth_date, today)
    if (
        (profile.living_situation == "alone" and age >= rules["high_risk_age_alone"])
        or profile.ability_level >= rules["high_risk_ability_level"]
        or profile.severe_illness
    ):
        return "high_risk"
    if profile.hardship or age >= 80 or profile.living_situation in ("alone", "empty_nest", "left_behind"):
        return "special_hardship"
    return "general"


def community(session: Session, community_id: int | None) -> Area:
    area = session.get(Area, community_id) if community_id else None
    if area is None or area.level != "community" or area.retired_at is not None:
        raise DomainError(_l("Please choose a community from the list."), field="community_id")
    return area


def find_person(session: Session, phone: str) -> Person | None:
    return session.scalar(select(Person).where(Person.phone == phone))


# One answer for every number the actor may not use, whoever owns it: it names nobody.
NUMBER_NOT_AVAILABLE = _l("This number cannot be registered here. Please check it; if it is right, the "
                          "person can ask the community worker of their own area.")


def governs_every_role(session: Session, actor: Person, person: Person) -> bool:
    """True when every grant `person` holds lies in `actor`'s communities and none is a staff role."""
    communities = set(staff_community_ids(session, actor))
    grants = list(person.grants)
    return bool(grants) and all(g.role not in STAFF_ROLES and g.area_id in communities for g in grants)


def may_reuse(session: Session, actor: Person | None, person: Person, add_role: bool) -> None:
    """Refuse to attach a registration to an existing `person` unless `actor` governs every role
    they hold (never a staff member) and asked explicitly to add a role. `actor` None is the
    system itself (seeding, the demo)."""
    if actor is None:
        return
    if not governs_every_role(session, actor, person):
        raise DomainError(NUMBER_NOT_AVAILABLE, field="phone")
    if not add_role:
        raise DomainError(
            _l("This number belongs to %(name)s, already registered in your area. Tick “Add this role "
               "to the person already registered” to go on.", name=person.name), field="phone")


def ensure_person(session: Session, phone: str, name: str, locale: str = "zh_Hans",
                  preferred_channel: str = "sms", actor: Person | None = None, add_role: bool = False) -> Person:
    """The person with this phone, created when new; an existing one only when `may_reuse` allows,
    and then keeping their own name."""
    person = find_person(session, phone)
    if person is None:
        person = Person(phone=phone, name=name, locale=locale, preferred_channel=preferred_channel)
        session.add(person)
        session.flush()
    else:
        may_reuse(session, actor, person, add_role)
    return person


def audit_role_added(session: Session, actor: Person, person: Person, role: str) -> None:
    audit.record(session, actor.id, "grant_role", "person", person.id, role=role)


def check_phone_change(session: Session, person: Person, phone: str, actor: Person | None = None) -> None:
    """A worker may move a person to a free number only, and never a staff member's or one with a
    role outside the worker's area (their own code is needed for that: they change it themselves)."""
    if phone == person.phone:
        return
    if person.is_staff() or (actor is not None and not governs_every_role(session, actor, person)):
        raise DomainError(_l("Staff members change their own phone number, with a code sent to it."),
                          field="phone")
    if find_person(session, phone) is not None:
        raise DomainError(NUMBER_NOT_AVAILABLE, field="phone")


def grant(session: Session, person: Person, role: str, area_id: int | None) -> RoleGrant:
    existing = next((g for g in person.grants if g.role == role and g.area_id == area_id), None)
    if existing:
        return existing
    role_grant = RoleGrant(person_id=person.id, role=role, area_id=area_id)
    person.end_sessions()  # a new role is signed into afresh
    session.add(role_grant)
    person.grants.append(role_grant)
    session.flush()
    return role_grant


def _contacts(raw_contacts: list[dict], region: str) -> list[dict]:
    contacts = []
    for index, contact in enumerate(raw_contacts or []):
        name = (contact.get("name") or "").strip()
        phone = (contact.get("phone") or "").strip()
        if not name and not phone:
            continue
        contacts.append(
            {
                "name": clean_name(name, field=f"contact_name_{index}"),
                "phone": normalize_phone(phone, region),
                "relation": clean_text(contact.get("relation"), f"contact_relation_{index}", 20, required=False),
            }
        )
    return contacts


def save_elder(session: Session, data: dict, today: date, profile: ElderProfile | None = None,
               region: str = "CN", actor: Person | None = None) -> ElderProfile:
    """Create or update an elder from plain values, validating everything before writing anything.
    `actor` (the worker) may attach the elder to an existing person only as `may_reuse` allows."""
    name = clean_name(data.get("name"))
    phone = normalize_phone(data.get("phone"), region)
    area = community(session, data.get("community_id"))
    address = clean_text(data.get("address"), "address", ADDRESS_MAX)
    birth_date = check_birth_date(data.get("birth_date"), today)
    living = data.get("living_situation") or "with_family"
    if living not in LIVING_SITUATIONS:
        raise DomainError(_l("Please choose a living situation from the list."), field="living_situation")
    hardship = list(dict.fromkeys(data.get("hardship") or []))
    if any(h not in HARDSHIP_CATEGORIES for h in hardship):
        raise DomainError(_l("Please choose hardship categories from the list."), field="hardship")
    ability = data.get("ability_level", 0)
    if not isinstance(ability, int) or not 0 <= ability <= 4:
        raise DomainError(_l("The ability level is between 0 and 4."), field="ability_level")
    contacts = _contacts(data.get("emergency_contacts") or [], region)
    override = data.get("tier_override") or None
    reason = clean_text(data.get("tier_override_reason"), "tier_override_reason", 200, required=bool(override))
    if override and override not in ("high_risk", "special_hardship", "general"):
        raise DomainError(_l("Please choose a care tier from the list."), field="tier_override")
    other = find_person(session, phone)
    if profile is not None:
        check_phone_change(session, profile.person, phone, actor)
    elif other is not None:
        may_reuse(session, actor, other, add_role=True)
        if session.get(ElderProfile, other.id) is not None:
            raise DomainError(_l("An elder with this phone number is already registered."), field="phone")
        may_reuse(session, actor, other, bool(data.get("add_role")))
    old_community_id = profile.community_id if profile is not None else None
    with session.no_autoflush:
        if profile is None:
            person = other or Person(phone=phone, name=name)
            if person.id is None:
                session.add(person)
                session.flush()
            elif actor is not None:
                name = person.name  # adding a role to someone registered keeps their own name
                audit_role_added(session, actor, person, "elder")
            profile = ElderProfile(person_id=person.id, person=person, door_code=new_door_code(session))
            creating = True
        else:
            person = profile.person
            if person.phone != phone:
                person.phone = phone
                person.end_sessions()
            creating = False
        person.name = name
        person.locale = data.get("locale") or person.locale or "zh_Hans"
        person.preferred_channel = data.get("preferred_channel") or person.preferred_channel or "sms"
        profile.community_id = area.id
        profile.community = area
        profile.address = address
        profile.birth_date = birth_date
        profile.gender = data.get("gender") or None
        profile.living_situation = living
        profile.hardship = hardship
        profile.ability_level = ability
        profile.severe_illness = bool(data.get("severe_illness"))
        profile.emergency_contacts = contacts
        profile.tier_override = override
        profile.tier_override_reason = reason or None
        if creating:
            session.add(profile)
    if creating:
        grant(session, person, "elder", area.id)
    else:
        for role_grant in person.grants:
            if role_grant.role == "elder":
                role_grant.area_id = area.id
    profile.care_tier = derive_tier(profile, today)
    session.flush()
    if old_community_id is not None and old_community_id != area.id:
        from portal import events
        from portal.db import utcnow

        events.elder_moved.send(profile, session=session, now=utcnow(), old_community_id=old_community_id)
    return profile


def save_volunteer(session: Session, data: dict, region: str = "CN", actor: Person | None = None) -> VolunteerProfile:
    name = clean_name(data.get("name"))
    phone = normalize_phone(data.get("phone"), region)
    area = community(session, data.get("community_id"))
    services = [s for s in (data.get("services") or []) if s in policy()["services"]]
    existing = find_person(session, phone)
    person = ensure_person(session, phone, name, actor=actor, add_role=bool(data.get("add_role")))
    if existing is not None and actor is not None and "volunteer" not in person.roles():
        audit_role_added(session, actor, person, "volunteer")
    profile = session.get(VolunteerProfile, person.id)
    if profile is None:
        profile = VolunteerProfile(person_id=person.id, person=person, community_id=area.id)
        session.add(profile)
    profile.community_id = area.id
    profile.services = services
    profile.birth_date = data.get("birth_date")
    grant(session, person, "volunteer", area.id)
    session.flush()
    return profile


def verify_volunteer(session: Session, profile: VolunteerProfile, worker: Person, now: datetime) -> None:
    profile.verified_at = now
    profile.verified_by_id = worker.id


def request_family_link(session: Session, family: Person, elder_phone: str, relation: str,
                        region: str = "CN") -> FamilyLink | None:
    """A family member asks to be linked to an elder; the elder or a worker approves. A number that
    is no elder's gets the same answer and makes no link (None): the request tells nobody whose a
    number is."""
    phone = normalize_phone(elder_phone, region)
    relation = clean_text(relation, "relation", 20)
    elder = find_person(session, phone)
    if elder is None or session.get(ElderProfile, elder.id) is None:
        return None
    if elder.id == family.id:
        raise DomainError(_l("You cannot link to yourself."), field="elder_phone")
    link = session.scalar(
        select(FamilyLink).where(FamilyLink.family_id == family.id, FamilyLink.elder_id == elder.id)
    )
    if link is None:
        link = FamilyLink(family_id=family.id, elder_id=elder.id, relation=relation, status="pending")
        session.add(link)
    elif link.status == "revoked":
        link.status, link.relation = "pending", relation
    grant(session, family, "family", session.get(ElderProfile, elder.id).community_id)
    session.flush()
    return link


def decide_family_link(link: FamilyLink, approve: bool, decider: Person, now: datetime) -> None:
    link.status = "approved" if approve else "revoked"
    link.decided_at = now
    link.decided_by_id = decider.id


def revoke_family_link(session: Session, link: FamilyLink, actor: Person, now: datetime) -> bool:
    """End an approved (or pending) link in one audited step; every family check reads the status, so
    the relative's access ends with this commit. False when there was nothing to end."""
    if link.status == "revoked":
        return False
    decide_family_link(link, False, actor, now)
    audit.record(session, actor.id, "revoke", "family_link", link.id, elder_id=link.elder_id)
    session.flush()
    return True


def pair(session: Session, volunteer: VolunteerProfile, elder: ElderProfile, worker: Person) -> Pairing:
    existing = session.scalar(
        select(Pairing).where(
            Pairing.volunteer_id == volunteer.person_id, Pairing.elder_id == elder.person_id, Pairing.active
        )
    )
    if existing:
        return existing
    pairing = Pairing(volunteer_id=volunteer.person_id, elder_id=elder.person_id, created_by_id=worker.id)
    session.add(pairing)
    session.flush()
    return pairing

