"""每日问安 on the phone: the daily call's TwiML (1 = fine, 9 = help).

A text of 1 (or 9) answers the call through the one "last question asked" model: the call is
recorded as her pending question (services.checkins.asked) and portal.channels.sms_answers reads
the digit, so a "1" answers whichever question was asked last — the 问安 call or a family order."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from portal.channels import twiml
from portal.channels.twilio_hooks import twilio_webhook
from portal.channels.voice_turns import remembered_turn
from portal.db import utcnow
from portal.i18n import translate_for
from portal.models import CheckInDay, ElderProfile, Person
from portal.request_scope import commit, db
from portal.services import checkins

bp = Blueprint("checkin_calls", __name__)


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _hang_up() -> Response:
    response = VoiceResponse()
    response.hangup()
    return _twiml(response)


@bp.route("/twilio/voice/checkin/<int:day_id>", methods=["GET", "POST"])
@twilio_webhook
@remembered_turn
def checkin_call(day_id: int):
    session = db()
    response = VoiceResponse()
    day = session.get(CheckInDay, day_id)
    if day is None:
        return _hang_up()
    profile = session.get(ElderProfile, day.elder_id)
    elder = profile.person
    gather = twiml.gather(elder.locale, num_digits=1, input="dtmf", timeout=10, method="POST",
                          action=f"{current_app.config['LINLI_PUBLIC_URL']}/twilio/voice/checkin/{day.id}/answer")
    text = checkins.greeting(elder, day.last_call_at, profile.gender)  # the hour the call was placed
    twiml.say(gather, text, elder.locale)
    checkins.asked(session, day, utcnow())  # spoken now: the question she was asked last
    commit()
    response.append(gather)
    twiml.say(response, text, elder.locale)  # once more, slowly: many elders need the second hearing
    response.redirect(f"{current_app.config['LINLI_PUBLIC_URL']}/twilio/voice/checkin/{day.id}/answer",
                      method="POST")
    return _twiml(response)


@bp.route("/twilio/voice/checkin/<int:day_id>/answer", methods=["POST"])
@twilio_webhook
@remembered_turn
def checkin_answer(day_id: int):
    session = db()
    day = session.get(CheckInDay, day_id)
    if day is None:
        return _hang_up()
    elder = session.get(Person, day.elder_id)
    digit = (request.form.get("Digits") or "").strip()[:1]
    status = checkins.answer(session, day, digit, "call", utcnow())
    commit()
    if digit not in ("1", "9") or status not in ("ok", "emergency"):
        return _hang_up()  # no key: the call counts as unanswered; the retry (or the people told) follow
    response = VoiceResponse()
    if status == "ok":
        twiml.say(response, translate_for(elder.locale, "Thank you. Have a good day!"), elder.locale)
    else:
        twiml.say(response, translate_for(elder.locale, "We are telling your community worker and your family now. "
                                                        "Help is coming."), elder.locale)
    response.hangup()
    return _twiml(response)


