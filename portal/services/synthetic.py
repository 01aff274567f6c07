"""Synthetic districts for load tests: `linli seed --elders N`, written with bulk inserts."""
from __future__ import annotations

import random
from datetime import date, timedelta

from faker import Faker
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import Area, ElderProfile, Pairing, Person, RoleGrant, VolunteerProfile

BATCH = 5000


def _tier(age: int, living: str, hardship: list[str], ability: int) -> str:
    if (living == "alone" and age >= 80) or ability >= 3:
        return "high_risk"
    if hardship or age >= 80 or living in ("alone", "empty_nest", "left_behind"):
        return "special_hardship"
    return "general"


def seed_district(session: Session, elders: int, today: date, seed: int = 7) -> dict:
    """A district of `elders` elders: ~430 per community, 20 communities per street, volunteers 1 per 43."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    names = [fake.name() for _ in range(2000)]
    words = [fake.street_name() for _ in range(300)]
    now = utcnow()
    n_communities = max(2, round(elders / 433))
    n_streets = max(1, round(n_communities / 20))
    district_name = f"{fake.city_name()}区"
    district = Area(name=district_name, level="district", path="")
    session.add(district)
    session.flush()
    district.path = f"/{district.id}/"
    communities = []
    for s in range(n_streets):
        street = Area(name=f"{words[s % len(words)]}街道{s + 1}", level="street", parent_id=district.id, path="")
        session.add(street)
        session.flush()
        street.path = f"{district.path}{street.id}/"
        per_street = n_communities // n_streets + (1 if s < n_communities % n_streets else 0)
        for c in range(per_street):
            community = Area(name=f"{words[(s * 20 + c) % len(words)]}社区{s + 1}-{c + 1}", level="community",
                             parent_id=street.id, path="")
            session.add(community)
            session.flush()
            community.path = f"{street.path}{community.id}/"
            communities.append(community.id)
    session.flush()
    base_phone = 15_000_000_000 + (session.scalar(select(func.count(Person.id))) or 0) + rng.randint(0, 10_000) * 1000
    next_id = (session.scalar(select(func.max(Person.id))) or 0) + 1
    used_codes = set(session.scalars(select(ElderProfile.door_code)))

    def door_code() -> str:
        while True:
            code = str(rng.randint(100_000, 999_999))
            if code not in used_codes:
                used_codes.add(code)
                return code

    people, profiles, grants = [], [], []
    elder_ids_by_community: dict[int, list[int]] = {}

    def flush() -> None:
        if people:
            session.execute(insert(Person), people)
        if profiles:
            session.execute(insert(ElderProfile), profiles)
        if grants:
            session.execute(insert(RoleGrant), grants)
        people.clear(), profiles.clear(), grants.clear()

    for index in range(elders):
        person_id = next_id + index
        community_id = communities[index % len(communities)]
        age = min(105, 60 + int(rng.expovariate(1 / 12)))
        living = rng.choices(["alone", "empty_nest", "left_behind", "with_family"], [1, 1, 0.3, 7.7])[0]
        hardship = ["low_income"] if rng.random() < 0.04 else []
        ability = rng.choices(range(5), [70, 15, 8, 5, 2])[0]
        people.append({"id": person_id, "phone": f"+86{base_phone + index}", "name": names[index % len(names)],
                       "locale": "zh_Hans", "preferred_channel": "sms", "active": True, "created_at": now})
        profiles.append({
            "person_id": person_id, "community_id": community_id,
            "address": f"{words[index % len(words)]}{index % 97 + 1}号", "birth_date": today - timedelta(days=age * 365 + rng.randint(0, 364)),
            "living_situation": living, "hardship": hardship, "ability_level": ability, "severe_illness": False,
            "emergency_contacts": [], "care_tier": _tier(age, living, hardship, ability), "door_code": door_code(),
            "door_token_version": 1, "created_at": now, "updated_at": now,
        })
        grants.append({"person_id": person_id, "role": "elder", "area_id": community_id, "granted_at": now})
        elder_ids_by_community.setdefault(community_id, []).append(person_id)
        if len(people) >= BATCH:
            flush()
    flush()
    next_id += elders
    n_volunteers = max(len(communities), elders // 43)
    volunteer_rows, pairings = [], []
    for index in range(n_volunteers):
        person_id = next_id + index
        community_id = communities[index % len(communities)]
        people.append({"id": person_id, "phone": f"+86{base_phone + elders + index}", "name": names[(index * 7) % len(names)],
                       "locale": "zh_Hans", "preferred_channel": "sms", "active": True, "created_at": now})
        grants.append({"person_id": person_id, "role": "volunteer", "area_id": community_id, "granted_at": now})
        volunteer_rows.append({"person_id": person_id, "community_id": community_id, "services": ["visit", "meal"],
                               "monthly_capacity": 8, "verified_at": now, "active": True, "created_at": now})
    flush()
    session.execute(insert(VolunteerProfile), volunteer_rows)
    volunteers_by_community: dict[int, list[int]] = {}
    for row in volunteer_rows:
        volunteers_by_community.setdefault(row["community_id"], []).append(row["person_id"])
    for community_id, elder_ids in elder_ids_by_community.items():
        helpers = volunteers_by_community.get(community_id, [])
        for position, elder_id in enumerate(elder_ids[: len(helpers) * 4]):
            pairings.append({"volunteer_id": helpers[position % len(helpers)], "elder_id": elder_id,
                             "active": True, "created_at": now})
    for start in range(0, len(pairings), BATCH):
        session.execute(insert(Pairing), pairings[start:start + BATCH])
    if session.bind.dialect.name == "postgresql":
        session.execute(  # explicit ids were inserted; move the sequence past them
            select(func.setval("people_id_seq", select(func.max(Person.id)).scalar_subquery()))
        )
    return {"district": district.id, "communities": len(communities), "streets": n_streets,
            "elders": elders, "volunteers": n_volunteers, "pairings": len(pairings)}
