"""Synthetic districts for load tests: `linli seed --elders N`, written with bulk inserts.

Shape (scaled from N = 130,000, about the 60+ population of Jialing district): ~433 elders per
community, 20 communities per street, one volunteer per ~43 elders; about 10 % of the elders are
in the special-hardship tier (monthly visits) and about 1.5 % high risk (weekly visits).

Rows are built as plain tuples and written with the fastest path of each database: PostgreSQL's
COPY (psycopg `cursor.copy`), SQLite's executemany inside one transaction.
"""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone

from faker import Faker
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import Area, ElderProfile, Pairing, Person, RoleGrant, VolunteerProfile
from portal.types import UTCDateTime

BATCH = 20_000
ELDERS_PER_COMMUNITY = 433
COMMUNITIES_PER_STREET = 20
ELDERS_PER_VOLUNTEER = 130_000 / 3_000
SPECIAL_HARDSHIP_SHARE = 0.10
HIGH_RISK_SHARE = 0.015
PAIRINGS_PER_VOLUNTEER = 4

PERSON_COLUMNS = ("id", "phone", "name", "locale", "preferred_channel", "active", "created_at")
PROFILE_COLUMNS = ("person_id", "community_id", "address", "birth_date", "living_situation", "hardship",
                   "ability_level", "severe_illness", "emergency_contacts", "care_tier", "door_code",
                   "door_token_version", "created_at", "updated_at")
GRANT_COLUMNS = ("person_id", "role", "area_id", "granted_at")
VOLUNTEER_COLUMNS = ("person_id", "community_id", "services", "monthly_capacity", "verified_at", "active",
                     "created_at")
PAIRING_COLUMNS = ("volunteer_id", "elder_id", "active", "created_at")
JSON_COLUMNS = {"hardship", "emergency_contacts", "services", "flags", "details"}


def _tier(age: int, living: str, hardship: list[str], ability: int) -> str:
    if (living == "alone" and age >= 80) or ability >= 3:
        return "high_risk"
    if hardship or age >= 80 or living in ("alone", "empty_nest", "left_behind"):
        return "special_hardship"
    return "general"


def _profile(rng: random.Random, group: str) -> tuple[int, str, list[str], int]:
    """Age, living situation, hardship and ability for an elder of `group`; _tier() gives `group` back."""
    if group == "high_risk":
        if rng.random() < 0.6:
            return 80 + int(rng.expovariate(1 / 6)), "alone", [], rng.choice((0, 1, 2))
        return 65 + rng.randrange(25), rng.choice(("with_family", "empty_nest")), ["disabled_care"], rng.choice((3, 4))
    if group == "special_hardship":
        kind = rng.random()
        if kind < 0.3:
            return 60 + rng.randrange(20), "alone", [], rng.choice((0, 0, 1, 2))
        if kind < 0.6:
            return 60 + rng.randrange(20), rng.choice(("empty_nest", "left_behind")), [], rng.choice((0, 1))
        if kind < 0.85:
            category = rng.choice(("low_income", "extreme_poverty", "severe_disability", "bereaved_family"))
            return 60 + rng.randrange(25), "with_family", [category], rng.choice((0, 1, 2))
        return 80 + int(rng.expovariate(1 / 5)), "with_family", ["advanced_age"], rng.choice((0, 1, 2))
    return 60 + min(19, int(rng.expovariate(1 / 7))), "with_family", [], rng.choice((0, 0, 0, 1, 2))


def _fast_utc(value):
    """What UTCDateTime + SQLite's DATETIME write ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), about 8× faster."""
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]


class BulkWriter:
    """Bulk rows into one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, session: Session):
        self.session = session
        self.postgres = session.bind.dialect.name == "postgresql"
        if self.postgres and session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
            # The rows are generated consistent; per-row foreign-key triggers would double the time.
            # Only for this transaction (SET LOCAL), and only where the role may (a superuser).
            session.execute(text("SET LOCAL session_replication_role = replica"))
        if not self.postgres:
            # A large page cache for this connection: the index inserts stay in memory.
            session.execute(text("PRAGMA cache_size = -400000"))

    def write(self, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.postgres:
            raw = self.session.connection().connection.driver_connection
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
                    json_at = [i for i, name in enumerate(columns) if name in JSON_COLUMNS]
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i], ensure_ascii=False)
                        copy.write_row(row)
            return
        # SQLite: the DBAPI's executemany on plain tuples, each value converted by its column's own
        # bind processor (the same text SQLAlchemy writes), inside the session's transaction.
        table = model.__table__
        dialect = self.session.bind.dialect
        processors = [_fast_utc if isinstance(table.c[name].type, UTCDateTime)
                      else table.c[name].type._cached_bind_processor(dialect) for name in columns]
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cursor = self.session.connection().connection.driver_connection.cursor()
        if not any(processors):
            cursor.executemany(sql, rows)
        else:
            active = [(i, p) for i, p in enumerate(processors) if p is not None]
            for start in range(0, len(rows), BATCH):
                chunk = []
                for row in rows[start:start + BATCH]:
                    row = list(row)
                    for i, process in active:
                        row[i] = process(row[i])
                    chunk.append(row)
                cursor.executemany(sql, chunk)
        cursor.close()


def _areas(session: Session, fake: Faker, words: list[str], n_streets: int, n_communities: int) -> tuple[int, list[int]]:
    district = Area(name=f"{fake.city_name()}区", level="district", path="")
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
        batch = [Area(name=f"{words[(s * 20 + c) % len(words)]}社区{s + 1}-{c + 1}", level="community",
                      parent_id=street.id, path="") for c in range(per_street)]
        session.add_all(batch)
        session.flush()
        for community in batch:
            community.path = f"{street.path}{community.id}/"
            communities.append(community.id)
    session.flush()
    return district.id, communities


def seed_district(session: Session, elders: int, today: date, seed: int = 7, history: bool = True) -> dict:
    """A district of `elders` elders with their communities, streets, volunteers and pairings, and
    (unless `history` is off) two years of obligations, visits, ledger entries and snapshots."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    names = [fake.name() for _ in range(2000)]
    words = [fake.street_name() for _ in range(300)]
    now: datetime = utcnow()
    n_communities = max(2, round(elders / ELDERS_PER_COMMUNITY))
    n_streets = max(1, round(n_communities / COMMUNITIES_PER_STREET))
    district_id, communities = _areas(session, fake, words, n_streets, n_communities)

    base_phone = 15_000_000_000 + (session.scalar(select(func.count(Person.id))) or 0) + rng.randint(0, 10_000) * 1000
    next_id = (session.scalar(select(func.max(Person.id))) or 0) + 1
    used_codes = set(session.scalars(select(ElderProfile.door_code)))
    codes = [str(c) for c in rng.sample(range(100_000, 1_000_000), min(900_000, elders + len(used_codes)))]
    codes = [c for c in codes if c not in used_codes][:elders]
    if len(codes) < elders:
        raise ValueError("not enough free 6-digit door codes for that many elders")

    writer = BulkWriter(session)
    people, profiles, grants = [], [], []
    elder_ids_by_community: dict[int, list[tuple[int, str]]] = {}
    tiers = {"high_risk": 0, "special_hardship": 0, "general": 0}
    for index in range(elders):
        person_id = next_id + index
        community_id = communities[index % len(communities)]
        draw = rng.random()
        group = ("high_risk" if draw < HIGH_RISK_SHARE
                 else "special_hardship" if draw < HIGH_RISK_SHARE + SPECIAL_HARDSHIP_SHARE else "general")
        age, living, hardship, ability = _profile(rng, group)
        age = min(age, 105)
        tier = _tier(age, living, hardship, ability)
        tiers[tier] += 1
        people.append((person_id, f"+86{base_phone + index}", names[index % len(names)], "zh_Hans", "sms", True, now))
        profiles.append((person_id, community_id, f"{words[index % len(words)]}{index % 97 + 1}号",
                         today - timedelta(days=age * 365 + rng.randint(0, 364)), living, hardship, ability,
                         False, [], tier, codes[index], 1, now, now))
        grants.append((person_id, "elder", community_id, now))
        elder_ids_by_community.setdefault(community_id, []).append((person_id, tier))
    writer.write(Person, PERSON_COLUMNS, people)
    writer.write(ElderProfile, PROFILE_COLUMNS, profiles)
    writer.write(RoleGrant, GRANT_COLUMNS, grants)
    people, profiles, grants = [], [], []

    next_id += elders
    n_volunteers = max(len(communities), round(elders / ELDERS_PER_VOLUNTEER))
    volunteer_rows = []
    volunteers_by_community: dict[int, list[int]] = {}
    for index in range(n_volunteers):
        person_id = next_id + index
        community_id = communities[index % len(communities)]
        people.append((person_id, f"+86{base_phone + elders + index}", names[(index * 7) % len(names)],
                       "zh_Hans", "sms", True, now))
        grants.append((person_id, "volunteer", community_id, now))
        volunteer_rows.append((person_id, community_id, ["visit", "meal"], 8, now, True, now))
        volunteers_by_community.setdefault(community_id, []).append(person_id)
    writer.write(Person, PERSON_COLUMNS, people)
    writer.write(RoleGrant, GRANT_COLUMNS, grants)
    writer.write(VolunteerProfile, VOLUNTEER_COLUMNS, volunteer_rows)

    # Volunteers are paired first with the elders who must be visited most often.
    order = {"high_risk": 0, "special_hardship": 1, "general": 2}
    pairings = []
    for community_id, members in elder_ids_by_community.items():
        helpers = volunteers_by_community.get(community_id, [])
        ranked = sorted(members, key=lambda member: order[member[1]])
        for position, (elder_id, _tier_name) in enumerate(ranked[: len(helpers) * PAIRINGS_PER_VOLUNTEER]):
            pairings.append((helpers[position % len(helpers)], elder_id, True, now))
    writer.write(Pairing, PAIRING_COLUMNS, pairings)
    history_summary = {}
    if history:
        from portal.services.synthetic_history import seed_history

        paired = {}
        for volunteer_id, elder_id, _active, _at in pairings:
            paired.setdefault(elder_id, volunteer_id)
        members = [(elder_id, community_id, tier) for community_id, rows in elder_ids_by_community.items()
                   for elder_id, tier in rows]
        history_summary = seed_history(session, writer, rng, elders=members,
                                       volunteers_by_community=volunteers_by_community, paired=paired, now=now)
    if writer.postgres:
        session.execute(  # explicit ids were inserted; move the sequence past them
            select(func.setval("people_id_seq", select(func.max(Person.id)).scalar_subquery()))
        )
    return {"district": district_id, "communities": len(communities), "streets": n_streets,
            "elders": elders, "volunteers": n_volunteers, "pairings": len(pairings), **tiers, **history_summary}
