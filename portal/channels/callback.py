"""Missed-call callback (回拨), free for the elder: she rings Linli's callback number, the call is
rejected with <Reject> (so it never connects and costs her nothing), and Linli calls her back
within a minute with the same voice menu. Only registered numbers are called back, at most once per
10 minutes per number (policy messages.callback_every_minutes); anyone else is answered as on the
main number (/twilio/voice: the hotline).

Point the Twilio number's voice webhook at /twilio/voice/ring to offer it.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from portal.channels.twilio_hooks import twilio_webhook
from portal.db import utcnow
from portal.models import ElderProfile, Person
from portal.request_scope import commit, db
from portal.services import DomainError
from portal.services.calls import queue_callback
from portal.services.phones import normalize_phone

bp = Blueprint("callback", __name__)


@bp.route("/twilio/voice/ring", methods=["POST"])
@twilio_webhook
def ring():
    response = VoiceResponse()
    session = db()
    try:
        phone = normalize_phone(request.form.get("From", ""), current_app.config["LINLI_DEFAULT_REGION"])
    except DomainError:
        phone = None
    person = session.scalar(select(Person).where(Person.phone == phone, Person.active)) if phone else None
    if person is None or session.get(ElderProfile, person.id) is None:
        # Not registered: no callback; the call is answered as any call (the hotline).
        response.redirect(f"{current_app.config['LINLI_PUBLIC_URL']}/twilio/voice", method="POST")
        return Response(str(response), mimetype="text/xml")
    queue_callback(session, person, f"{current_app.config['LINLI_PUBLIC_URL']}/twilio/voice", utcnow())
    commit()
    response.reject(reason="busy")
    return Response(str(response), mimetype="text/xml")
