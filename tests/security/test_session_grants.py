"""The signed-in floor (issue 16): the person's role grants ride in the signed session and each
request checks one small row (the session version) instead of loading the person and the grants.
Taking a grant away or bumping the version still ends the session at once."""
from __future__ import annotations

from sqlalchemy import delete, event, update

from portal.models import Person, RoleGrant
from tests.factories import PASSWORD


def _statements(app, do):
    engine = app.extensions["linli"].engine
    engine = getattr(engine, "connection", engine)
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = do()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return response, seen


def _touches(statements, table: str) -> list[str]:
    return [s for s in statements if f"FROM {table}" in s]


def test_a_signed_in_page_reads_the_version_row_only(app, world, browser):
    browser.login(world.volunteer_a.person.phone)
    response, seen = _statements(app, lambda: browser.get("/home"))  # base.html and the role menu
    assert response.status_code == 302 and "/volunteer" in response.headers["Location"]
    assert len(_touches(seen, "people")) == 1, seen
    assert "session_version" in _touches(seen, "people")[0]
    assert _touches(seen, "role_grants") == [], seen


def test_taking_a_grant_away_denies_at_once(app, world, browser, session):
    browser.login(world.worker_a.phone, PASSWORD)
    assert browser.get("/worker/").status_code == 200
    # a grant deleted by any path (here a bare ORM delete, no service, no explicit version bump)
    grant = session.query(RoleGrant).filter_by(person_id=world.worker_a.id, role="worker").one()
    session.delete(grant)
    session.commit()
    assert browser.get("/worker/").status_code != 200


def test_a_bumped_version_signs_out_at_once(app, world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    assert browser.get("/volunteer/").status_code == 200
    session.execute(update(Person).where(Person.id == world.volunteer_a.person_id)
                    .values(session_version=Person.session_version + 1))
    session.commit()
    response = browser.get("/volunteer/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deactivated_person_is_signed_out_at_once(app, world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    session.execute(update(Person).where(Person.id == world.volunteer_a.person_id).values(active=False))
    session.commit()
    assert browser.get("/volunteer/").status_code == 302


def test_a_grant_added_by_bulk_sql_is_seen_after_the_next_sign_in(app, world, browser, session):
    browser.login(world.volunteer_a.person.phone)
    assert browser.get("/volunteer/").status_code == 200
    session.execute(delete(RoleGrant).where(RoleGrant.person_id == world.volunteer_a.person_id))
    # SQL outside the ORM bumps the version itself, as the services do
    session.execute(update(Person).where(Person.id == world.volunteer_a.person_id)
                    .values(session_version=Person.session_version + 1))
    session.commit()
    assert browser.get("/volunteer/").status_code == 302


def test_a_grant_bumps_the_version_once_per_flush_and_not_for_someone_just_created(app, world, session):
    from portal.services.people import grant

    newcomer = Person(phone="+8613712345678", name="新人", preferred_channel="web")
    newcomer.grants.append(RoleGrant(role="family", area_id=world.community_a.id))
    session.add(newcomer)
    session.flush()
    session.refresh(newcomer)
    assert newcomer.session_version == 0  # created with the grant, in one flush: no session to end
    volunteer = world.volunteer_a.person
    before = volunteer.session_version or 0
    session.add_all([RoleGrant(person_id=volunteer.id, role="family", area_id=world.community_a.id),
                     RoleGrant(person_id=volunteer.id, role="family", area_id=world.community_b.id)])
    session.flush()
    assert volunteer.session_version == before + 1
    grant(session, newcomer, "volunteer", world.community_a.id)
    session.flush()
    assert newcomer.session_version == 2  # ended by grant() itself, and by the grant row
    session.rollback()
