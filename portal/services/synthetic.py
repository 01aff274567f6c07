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
import sqlite3
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

from faker import Faker
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import Area, ElderProfile, Pairing, Person, RoleGrant, VolunteerProfile

ELDERS_PER_COMMUNITY = 433
COMMUNITIES_PER_STREET = 20
ELDERS_PER_VOLUNTEER = 130_000 / 3_000
SPECIAL_HARDSHIP_SHARE = 0.10
HIGH_RISK_SHARE = 0.015
PAIRINGS_PER_VOLUNTEER = 4
EPOCH_DAY = date(1970, 1, 1)

PERSON_COLUMNS = ("id", "phone", "name", "locale", "preferred_channel", "active", "created_at")
PROFILE_COLUMNS = ("person_id", "community_id", "address", "birth_date", "living_situation", "hardship",
                   "ability_level", "severe_illness", "emergency_contacts", "care_tier", "door_code",
                   "door_token_version", "created_at", "updated_at")
GRANT_COLUMNS = ("person_id", "role", "area_id", "granted_at")
VOLUNTEER_COLUMNS = ("person_id", "community_id", "services", "monthly_capacity", "verified_at", "active",
                     "created_at")
PAIRING_COLUMNS = ("volunteer_id", "elder_id", "active", "created_at")


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


class UTCStamps(dict):
    """Epoch seconds → the text a UTC timestamp column is written as, each value formatted once:
    SQLite's "YYYY-MM-DD HH:MM:SS.ffffff" (what SQLAlchemy's DateTime writes there), with "+00"
    after it for PostgreSQL's timestamptz. A seeded district has a few hundred thousand distinct
    minutes and millions of timestamps, so most lookups are hits; a miss joins a day's text and a
    time of day's text, each formatted once too."""

    def __init__(self, suffix: str):
        super().__init__()
        self.suffix = suffix
        self._days: dict[int, str] = {}
        self._clocks: dict[int, str] = {}

    def __missing__(self, seconds: int) -> str:
        day, clock = divmod(seconds, 86400)
        day_text = self._days.get(day)
        if day_text is None:
            day_text = self._days[day] = (EPOCH_DAY + timedelta(days=day)).isoformat() + " "
        clock_text = self._clocks.get(clock)
        if clock_text is None:
            clock_text = self._clocks[clock] = (
                f"{clock // 3600:02d}:{clock // 60 % 60:02d}:{clock % 60:02d}.000000{self.suffix}")
        value = self[seconds] = day_text + clock_text
        return value

    def moment(self, value: datetime) -> str:
        """Any aware datetime (microseconds kept)."""
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        return value.isoformat(" ", "microseconds")[:26] + self.suffix


def json_text(value) -> str:
    """A JSON column's value as SQLAlchemy's JSON type writes it."""
    return json.dumps(value)


class BulkWriter:
    """Bulk rows into one table: COPY on PostgreSQL, executemany on SQLite.

    Rows come ready for the database, so neither path converts a value per row: ints, strings and
    None only; timestamps as `stamps` gives them, dates as ISO text, JSON already dumped
    (`json_text`), booleans as 1/0."""

    def __init__(self, session: Session):
        self.session = session
        self.postgres = session.bind.dialect.name == "postgresql"
        self.stamps = UTCStamps("+00" if self.postgres else "")
        if self.postgres:
            if session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
                # The rows are generated consistent; per-row foreign-key triggers would double the
                # time. Only for this transaction (SET LOCAL), and only where the role may (a superuser).
                session.execute(text("SET LOCAL session_replication_role = replica"))
            # Indexes rebuilt after the load (rebuilt_indexes) sort in memory.
            session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        else:
            # A large page cache for this connection: the index inserts stay in memory.
            session.execute(text("PRAGMA cache_size = -400000"))

    def write(self, model, columns: tuple[str, ...], rows: list) -> None:
        if not rows:
            return
        table = model.__tablename__
        raw = self.session.connection().connection.driver_connection
        if self.postgres:
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
            return
        # SQLite: the DBAPI's executemany inside the session's transaction.
        cursor = raw.cursor()
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                           rows)
        cursor.close()


BULK_TABLES = ("people", "elder_profiles", "role_grants", "volunteer_profiles", "pairings", "visits",
               "visit_obligations", "elder_visit_stats", "ledger_accounts", "ledger_transfers", "ledger_entries",
               "compliance_snapshots", "service_requests")


@contextmanager
def rebuilt_indexes(session: Session, tables: tuple[str, ...] = BULK_TABLES):
    """Drop the secondary indexes of `tables` for a bulk load and create them again afterwards from
    their own stored definitions, in the same transaction: one sorted build per index instead of an
    index insert per row. Indexes behind a constraint (primary keys, UNIQUE) stay and keep checking.
    The schema ends as it began (same names, same definitions); on an error the transaction's
    rollback brings the indexes back."""
    if session.bind.dialect.name == "postgresql":
        indexes = session.execute(text(
            "SELECT quote_ident(i.schemaname) || '.' || quote_ident(i.indexname), i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "  (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) "
            "ORDER BY i.tablename, i.indexname"), {"tables": list(tables)}).all()
    else:
        indexes = session.execute(text(
            "SELECT '\"' || name || '\"', sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN (SELECT value FROM json_each(:tables)) ORDER BY tbl_name, name"),
            {"tables": json.dumps(list(tables))}).all()
    connection = session.connection()
    for name, _definition in indexes:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        connection.exec_driver_sql(definition)


@contextmanager
def sqlite_bulk_connection(session: Session):
    """For the seed's own SQLite connection, while it loads: no per-row foreign-key lookups (the rows
    are generated consistent), no fsync, and a rollback journal in memory instead of the WAL (the
    WAL would write every new page twice). The connection's settings and the file's WAL mode are
    put back afterwards. Does nothing on PostgreSQL, or when a transaction is already open (where
    these settings cannot change; tests seed inside theirs)."""
    raw = session.connection().connection.driver_connection
    if session.bind.dialect.name != "sqlite" or raw.in_transaction:
        yield
        return
    saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0]
             for name in ("foreign_keys", "synchronous", "journal_mode", "busy_timeout")}
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("PRAGMA synchronous = OFF")
    raw.execute("PRAGMA busy_timeout = 0")  # another connection on the file: keep the WAL, don't wait
    try:
        raw.execute("PRAGMA journal_mode = MEMORY").fetchone()
    except sqlite3.OperationalError:
        pass
    raw.execute(f"PRAGMA busy_timeout = {int(saved['busy_timeout'])}")
    try:
        yield
    finally:
        if raw.in_transaction:
            session.rollback()
        raw.execute(f"PRAGMA journal_mode = {saved['journal_mode']}").fetchone()
        raw.execute(f"PRAGMA synchronous = {int(saved['synchronous'])}")
        raw.execute(f"PRAGMA foreign_keys = {int(saved['foreign_keys'])}")


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
    with rebuilt_indexes(session):
        summary = _people_and_history(session, writer, rng, names, words, communities, elders, today, now,
                                      base_phone, next_id, codes, history)
    if writer.postgres:
        session.execute(  # explicit ids were inserted; move the sequence past them
            select(func.setval("people_id_seq", select(func.max(Person.id)).scalar_subquery()))
        )
    return {"district": district_id, "communities": len(communities), "streets": n_streets, **summary}


def _people_and_history(session: Session, writer: BulkWriter, rng: random.Random, names: list[str],
                        words: list[str], communities: list[int], elders: int, today: date, now: datetime,
                        base_phone: int, next_id: int, codes: list[str], history: bool) -> dict:
    at = writer.stamps.moment(now)
    no_list = json_text([])
    hardship_text: dict[tuple, str] = {}
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
        hardship_key = tuple(hardship)
        hardship_json = hardship_text.get(hardship_key) or hardship_text.setdefault(hardship_key, json_text(hardship))
        people.append((person_id, f"+86{base_phone + index}", names[index % len(names)], "zh_Hans", "sms", 1, at))
        profiles.append((person_id, community_id, f"{words[index % len(words)]}{index % 97 + 1}号",
                         (today - timedelta(days=age * 365 + rng.randint(0, 364))).isoformat(), living,
                         hardship_json, ability, 0, no_list, tier, codes[index], 1, at, at))
        grants.append((person_id, "elder", community_id, at))
        elder_ids_by_community.setdefault(community_id, []).append((person_id, tier))
    writer.write(Person, PERSON_COLUMNS, people)
    writer.write(ElderProfile, PROFILE_COLUMNS, profiles)
    writer.write(RoleGrant, GRANT_COLUMNS, grants)
    people, profiles, grants = [], [], []

    next_id += elders
    n_volunteers = max(len(communities), round(elders / ELDERS_PER_VOLUNTEER))
    volunteer_rows = []
    volunteers_by_community: dict[int, list[int]] = {}
    services = json_text(["visit", "meal"])
    for index in range(n_volunteers):
        person_id = next_id + index
        community_id = communities[index % len(communities)]
        people.append((person_id, f"+86{base_phone + elders + index}", names[(index * 7) % len(names)],
                       "zh_Hans", "sms", 1, at))
        grants.append((person_id, "volunteer", community_id, at))
        volunteer_rows.append((person_id, community_id, services, 8, at, 1, at))
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
            pairings.append((helpers[position % len(helpers)], elder_id, 1, at))
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
    return {"elders": elders, "volunteers": n_volunteers, "pairings": len(pairings), **tiers, **history_summary}
