"""Every state-changing form is idempotent: a double click, a back-button resubmit or five
concurrent copies of one submit act once, and every repeat answers like the first.

Each rendered form gets a fresh key beside its CSRF token (added to every HTML page, so a new form
needs nothing of its own). A POST with a key claims it first, in a transaction of its own: one
INSERT wins on the primary key. The winner runs the view; when it answers with a redirect (it
acted) the answer is stored for the repeats, and when it answers otherwise (an invalid form acted
on nothing) the key is released. A repeat waits a few seconds for the winner's answer and replays
it. A POST without a key (a webhook, an old page) is served as before.
"""
from __future__ import annotations

import re
import secrets
import time

from flask import current_app, g, redirect, request
from flask_login import current_user
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.db import utcnow
from portal.models import IdempotencyKey

FIELD = "idempotency_key"
_KEY = re.compile(r"^[0-9a-f]{32}$")
_CSRF_INPUT = re.compile(r'(<input[^>]*name="csrf_token"[^>]*>)')
WAIT_SECONDS = 10


def _engine():
    return current_app.extensions["linli"].engine


def _person_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _claim_key() -> str | None:
    raw = request.form.get(FIELD, "")
    if request.method != "POST" or not _KEY.match(raw):
        return None
    return f"{request.endpoint}:{raw}"


def _stored(key: str):
    with _engine().connect() as connection:
        return connection.execute(select(IdempotencyKey.person_id, IdempotencyKey.status, IdempotencyKey.location)
                                  .where(IdempotencyKey.key == key)).first()


def claim_or_replay():
    """before_request: claim this submit's key, or answer as the first submit with it did."""
    key = _claim_key()
    if key is None:
        return None
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with _engine().begin() as connection:
                connection.execute(insert(IdempotencyKey).values(key=key, person_id=_person_id(),
                                                                 created_at=utcnow()))
            g.idempotency_key = key
            return None
        except IntegrityError:
            pass
        row = _stored(key)
        if row is not None and row.person_id != _person_id():
            return None  # someone else's key (a copied page): no replay; CSRF and the view decide
        if row is not None and row.status is not None:
            return redirect(row.location, code=row.status)
        if time.monotonic() > deadline:
            return redirect(request.path, code=303)
        time.sleep(0.05)  # the first submit is still running (or just released the key)


def _key_released_or_kept(key: str, response) -> bool:
    """Keep a redirect for the repeats, or release the key. False when the database is away (a
    restart): the page still answers (503), and the key's row is left to the housekeeping."""
    from portal.db_outage import is_outage

    try:
        with _engine().begin() as connection:
            if 300 <= response.status_code < 400 and response.location:
                connection.execute(update(IdempotencyKey).where(IdempotencyKey.key == key)
                                   .values(status=response.status_code, location=response.location))
            else:
                connection.execute(delete(IdempotencyKey).where(IdempotencyKey.key == key))
    except Exception as error:  # noqa: BLE001
        if not is_outage(error):
            raise
        return False
    return True


def remember(response):
    """after_request: keep a redirect for the repeats; release the key otherwise."""
    key = g.pop("idempotency_key", None)
    if key is not None and not _key_released_or_kept(key, response):
        current_app.logger.warning("idempotency key %s left claimed: the database was unavailable", key)
    if response.mimetype == "text/html" and not response.direct_passthrough and response.status_code < 400:
        body = response.get_data(as_text=True)
        if 'name="csrf_token"' in body:
            response.set_data(_CSRF_INPUT.sub(
                lambda m: f'{m.group(1)}<input type="hidden" name="{FIELD}" value="{secrets.token_hex(16)}">', body))
    return response


def release_on_error(_exc=None) -> None:
    """teardown_request: a submit that failed with an error leaves its key free for a retry."""
    from portal.db_outage import is_outage

    key = g.pop("idempotency_key", None)
    if key is not None:
        try:
            with _engine().begin() as connection:
                connection.execute(delete(IdempotencyKey).where(IdempotencyKey.key == key))
        except Exception as error:  # noqa: BLE001 - a restart must not turn the answer into a 500
            if not is_outage(error):
                raise


def init_idempotency(app) -> None:
    app.before_request(claim_or_replay)
    app.after_request(remember)
    app.teardown_request(release_on_error)
