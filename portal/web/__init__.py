"""Blueprints and the small helpers every view uses."""
from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_login import current_user

from portal.channels import outbox


def db():
    """The request's session (one per request, closed at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["linli"].session_factory()
    return g.db


def commit() -> None:
    """Commit the request's work, then send any texts it queued (they leave only after commit)."""
    session = db()
    new_ids = session.info.pop("outbox_new_ids", [])
    session.commit()
    if new_ids:
        dispatch(new_ids)


def dispatch(ids: list[int]) -> None:
    state = current_app.extensions["linli"]
    with state.session_factory() as send_session:
        try:
            outbox.send_due(send_session, state.transport, ids=ids)
        except Exception:  # the periodic sender retries; a failed immediate try loses nothing
            current_app.logger.exception("immediate send failed; the outbox sender will retry")


def client_ip() -> str:
    return request.remote_addr or "unknown"


def wants_partial(target_id: str) -> bool:
    """True when htmx asked to swap exactly `target_id` (not a boosted or history request)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
        and request.headers.get("HX-Target") == target_id
    )


def render_page(template: str, partial: str | None = None, target: str | None = None, **context):
    """The full page, or only `partial` when htmx targets `target`."""
    if partial and target and wants_partial(target):
        return render_template(partial, **context)
    return render_template(template, **context)


def actor_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None
