"""Demo data: a district with realistic people, and fixed accounts for trying each role."""
from __future__ import annotations

import random
from datetime import date, timedelta

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import HARDSHIP_CATEGORIES, ElderProfile, FamilyLink, Pairing, Person, VolunteerProfile
from portal.services.checkins import subscribe
from portal.services.login import password_hasher
from portal.services.people import (
    decide_family_link,
    derive_tier,
    grant,
    pair,
    save_elder,
    save_volunteer,
    verify_volunteer,
)
from portal.services.scope import add_area

DEMO_PASSWORD = "linli-demo-2026"
STREETS = {"火花街道": ["燕京社区", "百花社区"], "文峰街道": ["文峰社区", "曲水社区"]}
RELATIONS = ["儿子", "女儿", "侄子", "孙女"]


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(Person.id))) == 0


def _birth(rng: random.Random, today: date, low: int, high: int) -> date:
    return today - timedelta(days=rng.randint(low * 365 + 1, high * 365 - 1))


def seed_demo(session: Session, today: date, elders: int = 200, volunteers: int = 40, seed: int = 2026,
              history_years: int = 0) -> dict:
    """Create the demo district. Deterministic for a given seed; call only on an empty database.
    With `history_years`, the closed periods of those years get visits, credits and snapshots from
    the benchmark's generator, so the trend, the statement's months and "last visit" are not empty."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    district = add_area(session, "嘉陵区", "district", hotline="0817-12349")
    streets, communities = [], []
    for street_name, community_names in STREETS.items():
        street = add_area(session, street_name, "street", district)
        streets.append(street)
        for name in community_names:
            communities.append(add_area(session, name, "community", street, hotline="0817-12349"))
    home = communities[0]
    now = utcnow()
    used_phones: set[str] = set()

    def phone() -> str:
        while True:
            number = f"+86139{rng.randint(10_000_000, 99_999_999)}"
            if number not in used_phones:
                used_phones.add(number)
                return number

    # Fixed people first, so that anyone can try each role.
    wang = save_elder(session, {
        "name": "王秀英", "phone": "+8613800000001", "community_id": home.id,
        "address": "嘉陵区火花街道燕京社区 3 栋 2 单元 401 室", "birth_date": date(today.year - 82, 3, 14),
        "gender": "f", "living_situation": "alone", "hardship": ["advanced_age", "low_income"],
        "ability_level": 1, "preferred_channel": "sms",
        "emergency_contacts": [{"name": "王磊", "phone": "+8613800000002", "relation": "儿子"}],
    }, today)
    # Living alone at 82 would make her high risk; the demo keeps her on the monthly tier so the
    # monthly visit list has a familiar face, with the reason recorded as a worker would.
    wang.tier_override, wang.tier_override_reason = "special_hardship", "每周有子女电话问候，社区评估为月探访"
    wang.care_tier = derive_tier(wang, today)
    son = Person(phone="+8613800000002", name="王磊", locale="zh_Hans", preferred_channel="web")
    session.add(son)
    session.flush()
    grant(session, son, "family", home.id)
    link = FamilyLink(family_id=son.id, elder_id=wang.person_id, relation="儿子", status="pending")
    session.add(link)
    session.flush()
    li_na = save_volunteer(session, {"name": "李娜", "phone": "+8613800000003", "community_id": home.id,
                                     "services": ["meal", "cleaning", "escort", "visit"],
                                     "birth_date": date(today.year - 45, 6, 1)})
    worker = Person(phone="+8613800000004", name="张伟", password_hash=password_hasher.hash(DEMO_PASSWORD),
                    preferred_channel="web")
    officer = Person(phone="+8613800000005", name="陈静", password_hash=password_hasher.hash(DEMO_PASSWORD),
                     preferred_channel="web")
    session.add_all([worker, officer])
    session.flush()
    grant(session, worker, "worker", home.id)
    grant(session, officer, "officer", district.id)
    decide_family_link(link, True, wang.person, now)
    verify_volunteer(session, li_na, worker, now)
    pair(session, li_na, wang, worker)
    # 李娜's mother lives in another community; the time-bank demo ends with a gift to her.
    li_mother = save_elder(session, {
        "name": "李桂芳", "phone": "+8613800000006", "community_id": communities[1].id,
        "address": "嘉陵区火花街道百花社区 8 栋 1 单元 202 室", "birth_date": date(today.year - 74, 9, 2),
        "gender": "f", "living_situation": "empty_nest", "hardship": [], "ability_level": 0,
        "preferred_channel": "sms",
        "emergency_contacts": [{"name": "李娜", "phone": "+8613800000003", "relation": "女儿"}],
    }, today)
    grant(session, li_na.person, "family", communities[1].id)
    session.add(FamilyLink(family_id=li_na.person_id, elder_id=li_mother.person_id, relation="女儿",
                           status="approved", decided_at=now, decided_by_id=li_mother.person_id))
    session.flush()

    # Three more workers, one per remaining community.
    workers = {home.id: worker}
    for area in communities[1:]:
        extra = Person(phone=phone(), name=fake.name(), password_hash=password_hasher.hash(DEMO_PASSWORD),
                       preferred_channel="web")
        session.add(extra)
        session.flush()
        grant(session, extra, "worker", area.id)
        workers[area.id] = extra

    volunteer_profiles = [li_na]
    for _ in range(volunteers - 1):
        area = rng.choice(communities)
        profile = save_volunteer(session, {
            "name": fake.name(), "phone": phone(), "community_id": area.id,
            "services": rng.sample(["meal", "cleaning", "escort", "bathing", "visit"], k=rng.randint(1, 4)),
            "birth_date": _birth(rng, today, 20, 70),
        })
        if rng.random() < 0.9:
            verify_volunteer(session, profile, workers[area.id], now)
        volunteer_profiles.append(profile)

    by_community: dict[int, list] = {}
    for profile in volunteer_profiles:
        if profile.verified_at:
            by_community.setdefault(profile.community_id, []).append(profile)
    for _ in range(elders - 1):
        area = rng.choice(communities)
        living = rng.choices(["alone", "empty_nest", "left_behind", "with_family"], [3, 3, 1, 4])[0]
        hardship = [h for h in HARDSHIP_CATEGORIES if rng.random() < 0.12]
        age = rng.randint(60, 98)
        if age >= 80 and "advanced_age" not in hardship:
            hardship.append("advanced_age")
        street_address = fake.street_address()
        profile = save_elder(session, {
            "name": fake.name(), "phone": phone(), "community_id": area.id,
            "address": f"{area.name}{street_address}{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室",
            "birth_date": _birth(rng, today, age, age + 1), "gender": rng.choice(["f", "m"]),
            "living_situation": living, "hardship": hardship, "ability_level": rng.choices(range(5), [5, 3, 2, 1, 1])[0],
            "preferred_channel": rng.choices(["sms", "voice", "web"], [5, 3, 2])[0],
            "emergency_contacts": [{"name": fake.name(), "phone": phone(), "relation": rng.choice(RELATIONS)}],
        }, today)
        if rng.random() < 0.35:
            relative = Person(phone=phone(), name=fake.name(), preferred_channel="web")
            session.add(relative)
            session.flush()
            grant(session, relative, "family", area.id)
            session.add(FamilyLink(family_id=relative.id, elder_id=profile.person_id,
                                   relation=rng.choice(RELATIONS), status="approved", decided_at=now,
                                   decided_by_id=profile.person_id))
        candidates = by_community.get(area.id)
        if candidates and profile.care_tier != "general" and rng.random() < 0.7:
            pair(session, rng.choice(candidates), profile, workers[area.id])
    session.flush()
    # 每日问安: every elder living alone in the demo has opted in, between 08:00 and 10:00.
    for number, alone in enumerate(session.scalars(select(ElderProfile).where(ElderProfile.living_situation == "alone")
                                                   .order_by(ElderProfile.person_id))):
        call_time = "09:00" if alone.person_id == wang.person_id else ("08:00", "08:30", "09:00", "09:30")[number % 4]
        subscribe(session, alone, call_time, None, now)
    history = _seed_history(session, rng, history_years, now) if history_years else {}
    return {
        "district": district.id,
        "communities": len(communities),
        "elders": session.scalar(select(func.count(ElderProfile.person_id))),
        **history,
    }


def _seed_history(session: Session, rng: random.Random, years: int, now) -> dict:
    from portal.services.synthetic import BulkWriter
    from portal.services.synthetic_history import seed_history

    elders = [tuple(row) for row in session.execute(
        select(ElderProfile.person_id, ElderProfile.community_id, ElderProfile.care_tier)
        .order_by(ElderProfile.person_id))]
    volunteers: dict[int, list[int]] = {}
    for person_id, community_id in session.execute(
            select(VolunteerProfile.person_id, VolunteerProfile.community_id)
            .where(VolunteerProfile.verified_at.is_not(None)).order_by(VolunteerProfile.person_id)):
        volunteers.setdefault(community_id, []).append(person_id)
    paired = dict(session.execute(select(Pairing.elder_id, func.min(Pairing.volunteer_id))
                                  .where(Pairing.active).group_by(Pairing.elder_id)).all())
    return seed_history(session, BulkWriter(session), rng, elders=elders, volunteers_by_community=volunteers,
                        paired=paired, now=now, years=years)
