"""The request's database session and its commit, for everything that answers HTTP: the web
blueprints and the Twilio webhooks. One session per request, closed at teardown; commit at the edge.
"""
from __future__ import annotations

from flask import current_app, g


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


def close(_exc=None) -> None:
    """teardown_appcontext: close the request's session if it opened one."""
    session = g.pop("db", None)
    if session is not None:
        try:
            session.close()
        except Exception as error:  # noqa: BLE001
            from portal.db_outage import is_outage

            if not is_outage(error):
                raise
            # the answer is already made; the database went away before the connection was
            # returned (its rollback failed, so the pool drops that connection)
            current_app.logger.warning("closing the request's session failed: the database is unavailable")
