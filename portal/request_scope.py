"""The request's database session and its commit, for everything that answers HTTP: the web
blueprints and the Twilio webhooks. One session per request, closed at teardown; commit at the edge.
"""
from __future__ import annotations

from flask import current_app, g

from portal.db import WROTE


def db():
    """The request's session (one per request, closed at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["linli"].session_factory()
    return g.db


def commit() -> None:
    """Commit the request's work, then hand the texts it queued to the sender (they leave only after commit)."""
    session = db()
    new_ids = session.info.pop("outbox_new_ids", [])
    session.commit()
    if new_ids:
        current_app.extensions["linli"].after_commit(new_ids)


def _only_read(session) -> bool:
    """The session's open transaction has written nothing: no pending ORM change, and no statement
    other than a SELECT went to the database (portal.db marks the connection when one does)."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    connection = session.connection()
    return connection.dialect.name == "postgresql" and not connection.info.get(WROTE, True)


def close(exc=None) -> None:
    """teardown_appcontext: close the request's session if it opened one.

    A request that only read ends its transaction with COMMIT, which for a transaction of SELECTs is
    the same as the ROLLBACK `close` would send; psycopg forgets every prepared statement of the
    connection on a ROLLBACK, so with ROLLBACK no query was ever prepared (PostgreSQL planned the
    signed-in query afresh on every page: 1.8 ms of a 2 ms query at 130,000 elders). A request that
    wrote anything, failed, or runs on SQLite is rolled back as before."""
    session = g.pop("db", None)
    if session is not None:
        try:
            if exc is None and _only_read(session):
                session.commit()
            session.close()
        except Exception as error:  # noqa: BLE001
            from portal.db_outage import is_outage

            if not is_outage(error):
                raise
            # the answer is already made; the database went away before the connection was
            # returned (its rollback failed, so the pool drops that connection)
            current_app.logger.warning("closing the request's session failed: the database is unavailable")
