"""Factories for people, areas and elders used across the tests."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from argon2 import PasswordHasher

from portal.db import utcnow
from portal.models import Area, ElderProfile, Person, VolunteerProfile
from portal.services.people import grant, save_elder, save_volunteer, verify_volunteer
from portal.services.scope import add_area

PASSWORD = "correct horse battery"
# Argon2 at its cheapest for the tests' staff passwords (and, via conftest, login codes): a hash
# carries its own parameters, so it verifies as any other; production's parameters are untouched.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_numbers = itertools.count(10_000_001)


def next_phone() -> str:
    return f"+86137{next(_numbers):08d}"


def make_elder(session, community: Area, name="测试老人", phone=None, **overrides) -> ElderProfile:
    data = {
        "name": name,
        "phone": phone or next_phone(),
        "community_id": community.id,
        "address": f"{community.name} 1 栋 101 室",
        "birth_date": date(1940, 5, 1),
        "living_situation": "alone",
        "hardship": ["low_income"],
        "ability_level": 1,
    }
    data.update(overrides)
    return save_elder(session, data, date.today())


def make_volunteer(session, community: Area, name="测试志愿者", phone=None, verified_by: Person | None = None,
                   **overrides) -> VolunteerProfile:
    data = {"name": name, "phone": phone or next_phone(), "community_id": community.id, "services": ["meal", "visit"]}
    data.update(overrides)
    profile = save_volunteer(session, data)
    if verified_by is not None:
        verify_volunteer(session, profile, verified_by, utcnow())
    return profile


def make_staff(session, role: str, area: Area, name="工作人员", phone=None) -> Person:
    person = Person(phone=phone or next_phone(), name=name, password_hash=CHEAP_HASHER.hash(PASSWORD),
                    preferred_channel="web")
    session.add(person)
    session.flush()
    grant(session, person, role, area.id)
    return person


def make_person(session, name="家属", phone=None, role: str | None = None, area: Area | None = None) -> Person:
    person = Person(phone=phone or next_phone(), name=name, preferred_channel="web")
    session.add(person)
    session.flush()
    if role:
        grant(session, person, role, area.id if area else None)
    return person


@dataclass
class World:
    district: Area
    street_a: Area
    street_b: Area
    community_a: Area
    community_b: Area
    worker_a: Person
    worker_b: Person
    officer: Person
    admin: Person
    elder_a: ElderProfile
    elder_b: ElderProfile
    volunteer_a: VolunteerProfile
    family_a: Person
    extra: dict = field(default_factory=dict)


def build_world(session) -> World:
    district = add_area(session, "测试区", "district")
    street_a = add_area(session, "甲街道", "street", district)
    street_b = add_area(session, "乙街道", "street", district)
    community_a = add_area(session, "甲社区", "community", street_a)
    community_b = add_area(session, "乙社区", "community", street_b)
    worker_a = make_staff(session, "worker", community_a, "甲工作者")
    worker_b = make_staff(session, "worker", community_b, "乙工作者")
    officer = make_staff(session, "officer", district, "区民政")
    admin = make_staff(session, "admin", district, "管理员")
    elder_a = make_elder(session, community_a, "甲老人")
    elder_b = make_elder(session, community_b, "乙老人")
    volunteer_a = make_volunteer(session, community_a, "甲志愿者", verified_by=worker_a)
    family_a = make_person(session, "甲家属", role="family", area=community_a)
    from portal.models import FamilyLink

    session.add(FamilyLink(family_id=family_a.id, elder_id=elder_a.person_id, relation="女儿", status="approved"))
    session.flush()
    return World(district, street_a, street_b, community_a, community_b, worker_a, worker_b, officer, admin,
                 elder_a, elder_b, volunteer_a, family_a)
