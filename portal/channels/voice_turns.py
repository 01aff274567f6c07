"""Every voice webhook acts once per turn: a Twilio retry, or several copies of the same turn arriving
at once, get the first answer's TwiML and change nothing again.

A turn is a digest of the path with its query, and the posted fields (CallSid, Digits, ...). The
copy that first INSERTs the turn (unique digest, in a transaction of its own, as inbound texts are
unique by MessageSid) runs the view; its TwiML is stored in the same commit as what the view changed.
The other copies wait for that answer and replay it. A view that fails releases the turn, so
Twilio's next retry can act; a turn left unanswered by a process that died is taken over after
`ABANDONED`.
"""
from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from functools import wraps

from flask import Response, current_app, g, request
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from twilio.twiml.voice_response import VoiceResponse

from portal.db import utcnow
from portal.models import VoiceTurn
from portal.request_scope import commit, db

PENDING = ""                        # the stored answer while the first copy is still running
WAIT_SECONDS = 10                   # Twilio gives a webhook 15 s
ABANDONED = timedelta(seconds=60)   # a claim this old with no answer: its process died


def _engine():
    return current_app.extensions["linli"].engine


def _digest() -> str:
    fields = sorted((k, v) for k, v in request.form.items(multi=True))
    return hashlib.sha256(repr((request.full_path, fields)).encode()).hexdigest()


def current_digest() -> str | None:
    """The turn being answered (so a view can leave it out when it counts the call's turns)."""
    return g.get("voice_turn")


def _claim(digest: str, call_sid: str) -> bool:
    try:
        with _engine().begin() as connection:
            connection.execute(insert(VoiceTurn).values(digest=digest, call_sid=call_sid, response=PENDING,
                                                        created_at=utcnow()))
        return True
    except IntegrityError:
        return False


def _take_over(digest: str, claimed_at) -> bool:
    """A conditional UPDATE: of several copies finding the same abandoned claim, one takes it."""
    with _engine().begin() as connection:
        taken = connection.execute(update(VoiceTurn).where(and_(VoiceTurn.digest == digest,
                                                                 VoiceTurn.response == PENDING,
                                                                 VoiceTurn.created_at == claimed_at))
                                   .values(created_at=utcnow()))
    return taken.rowcount == 1


def _release(digest: str) -> None:
    db().rollback()  # the view's own writes first: on SQLite they would hold the lock the release needs
    with _engine().begin() as connection:
        connection.execute(delete(VoiceTurn).where(and_(VoiceTurn.digest == digest, VoiceTurn.response == PENDING)))


def _still_running() -> Response:
    """Valid TwiML for a copy that waited too long for the first: a short pause, then the same step again."""
    response = VoiceResponse()
    response.pause(length=1)
    response.redirect(request.full_path.rstrip("?"), method="POST")
    return Response(str(response), mimetype="text/xml")


def _wait_or_claim(digest: str, call_sid: str) -> Response | None:
    """None when this copy owns the turn; otherwise the answer it replays."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if _claim(digest, call_sid):
            return None
        with _engine().connect() as connection:
            row = connection.execute(select(VoiceTurn.response, VoiceTurn.created_at)
                                     .where(VoiceTurn.digest == digest)).first()
        if row is not None and row.response != PENDING:
            return Response(row.response, mimetype="text/xml")
        if row is not None and row.created_at < utcnow() - ABANDONED and _take_over(digest, row.created_at):
            return None
        if time.monotonic() > deadline:
            return _still_running()
        time.sleep(0.05)  # the first copy is still answering (or has just released the turn)


def remembered_turn(view):
    """Decorate a voice webhook (below `twilio_webhook`): one copy of a turn acts, every copy answers alike."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        digest = _digest()
        replay = _wait_or_claim(digest, request.form.get("CallSid", "")[:64])
        if replay is not None:
            return replay
        g.voice_turn = digest
        try:
            answer = view(*args, **kwargs)
            if not isinstance(answer, Response):
                answer = Response(str(answer), mimetype="text/xml")
            if answer.status_code != 200:
                _release(digest)
                return answer
            db().execute(update(VoiceTurn).where(VoiceTurn.digest == digest)
                         .values(response=answer.get_data(as_text=True)))
            commit()
            return answer
        except BaseException:
            _release(digest)
            raise

    return wrapper
