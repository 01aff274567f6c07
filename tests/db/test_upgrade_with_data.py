"""A release upgrades a database that holds the previous release's data: a seeded district is taken
back to the previous release's head and upgraded again; nothing it held is lost on the way."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, inspect, select, text

from portal import migrate
from portal.db import make_engine, make_session_factory
from portal.models import Area, ElderProfile, Person
from tests.db.test_migrations import _differences, empty_database_url  # noqa: F401  (the fixture)

PREVIOUS_RELEASE = "0009"  # the head before district set-up (issue 14)


def _counts(engine, tables) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in sorted(tables)}


def _content(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(text("SELECT p.id, p.phone, p.name, e.community_id, e.birth_date, e.door_code, "
                                 "e.care_tier FROM people p JOIN elder_profiles e ON e.person_id = p.id "
                                 "ORDER BY p.id")).all()


def test_previous_release_with_data_upgrades_to_head(empty_database_url):  # noqa: F811
    from portal.services.synthetic import seed_district
    from tests.factories import build_world

    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with make_session_factory(engine)() as session:
        build_world(session)
        seed_district(session, 300, date(2026, 11, 15), seed=3)
        session.commit()
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    before, content = _counts(engine, tables), _content(engine)
    assert before["elder_profiles"] > 300 and before["visit_obligations"] > 0
    engine.dispose()

    migrate.downgrade(empty_database_url, PREVIOUS_RELEASE)  # the previous release, holding this data
    engine = make_engine(empty_database_url)
    old_tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert _counts(engine, old_tables) == {t: n for t, n in before.items() if t in old_tables}
    engine.dispose()

    migrate.upgrade(empty_database_url)
    assert _differences(empty_database_url) == []
    engine = make_engine(empty_database_url)
    after = _counts(engine, tables)
    assert {t: n for t, n in after.items() if t in old_tables} == {t: n for t, n in before.items() if t in old_tables}
    assert _content(engine) == content
    with make_session_factory(engine)() as session:  # the new columns work on the old rows
        community = session.scalar(select(Area).where(Area.level == "community").limit(1))
        community.code = "510199001001"
        session.commit()
        assert session.scalar(select(func.count()).select_from(Person).where(Person.id_number_hash.is_(None))) \
            == session.scalar(select(func.count()).select_from(Person))
        assert session.scalar(select(func.count()).select_from(ElderProfile)) == before["elder_profiles"]
    engine.dispose()
