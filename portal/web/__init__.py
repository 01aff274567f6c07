"""Blueprints and the small helpers every view uses."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from portal.request_scope import commit, db  # noqa: F401  (the blueprints' helpers)
from portal.services.scope import governed


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


def governed_or_404(found, **communities_of):
    """`found` when the signed-in staff member governs its community, else 404 (see scope.governed)."""
    found = governed(db(), current_user, found, **communities_of)
    if found is None:
        abort(404)
    return found
