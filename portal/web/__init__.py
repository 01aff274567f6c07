"""Blueprints and the small helpers every view uses."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import abort, render_template, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

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


# Every id column is a 32-bit integer on PostgreSQL; a larger number in a URL matches no route (404)
# instead of reaching the database (an overflow, a 500).
LARGEST_ID = 2 ** 31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a whole number between 0 and the largest id a column can hold."""

    def __init__(self, map, fixed_digits=0, min=0, max=LARGEST_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def bounded_int_arg(name: str) -> int | None:
    """A query-string integer that can be an id, else None."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= LARGEST_ID else None


def refuse_nul() -> None:
    """before_request: a NUL in the path or the query is refused with 400 (PostgreSQL cannot compare
    it with text and would answer with an error). Forms refuse it field by field (clean_text)."""
    if "\x00" in request.path or "%00" in request.query_string.decode("latin-1"):
        abort(400)


def safe_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, read both as written and decoded once (browsers drop
    tabs and newlines and treat a backslash as a slash, so `/%09/evil` would leave the site); a CR or
    LF never reaches a Location header."""
    if not target or len(target) > 2000:
        return None
    for reading in (target, unquote(target)):
        if (not reading.startswith("/") or reading[1:2] in ("/", "\\") or "\\" in reading
                or any(not ch.isprintable() or ch.isspace() for ch in reading)):
            return None
        parts = urlsplit(reading)
        if parts.scheme or parts.netloc:
            return None
    return target
