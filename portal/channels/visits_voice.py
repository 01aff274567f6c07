"""The automated call that asks an elder whether a visit happened (1 yes, 2 no, 9 emergency, 0 a person)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from portal.channels import voice as voice_calls
from portal.channels.twilio_hooks import twilio_webhook
from portal.channels.voice import spoken
from portal.db import utcnow
from portal.i18n import translate_for
from portal.models import ElderProfile, Visit
from portal.request_scope import commit, db
from portal.services import DomainError
from portal.services import visits as visit_service

bp = Blueprint("visits_voice", __name__)


def _public_url() -> str:
    return current_app.config["LINLI_PUBLIC_URL"]


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.route("/twilio/voice/visit/<int:visit_id>", methods=["GET", "POST"])
@twilio_webhook
def call_visit(visit_id: int):
    visit = db().get(Visit, visit_id)
    response = VoiceResponse()
    if visit is None or visit.status != "done":
        response.say(translate_for("zh_Hans", "Thank you. Goodbye."), language="cmn-CN")
        return _twiml(response)
    locale = visit.elder.locale
    gather = Gather(num_digits=1, input="dtmf", timeout=8,
                    action=f"{_public_url()}/twilio/voice/visit/{visit.id}/answer", method="POST")
    prompt = translate_for(locale, "%(name)s from the community visited you today. If this is right, press 1. "
                                   "If not, press 2.", name=visit.volunteer.name)
    closing = translate_for(locale, "For an emergency, press 9. To talk to a person, press 0.")
    gather.append(spoken(prompt + closing, "cmn-CN"))
    response.append(gather)
    response.say(translate_for(locale, "We did not hear a key. The community worker will call you."),
                 language="cmn-CN")
    return _twiml(response)


@bp.route("/twilio/voice/visit/<int:visit_id>/answer", methods=["POST"])
@twilio_webhook
def call_visit_answer(visit_id: int):
    session = db()
    visit = session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    elder = visit.elder
    digits = request.form.get("Digits", "")
    response = VoiceResponse()
    try:
        if digits in ("9", "0"):
            # the keys every prompt offers: an emergency at once, or a person
            profile = session.get(ElderProfile, elder.id)
            if digits == "9" and profile is not None:
                voice_calls.emergency(response, elder, profile)
            else:
                voice_calls.dial_person(response, elder, profile)
            commit()
            return _twiml(response)
        if digits == "1":
            visit_service.confirm_by_elder(session, visit, elder, "call", utcnow())
            response.say(translate_for(elder.locale, "Thank you. The visit is confirmed."), language="cmn-CN")
        elif digits == "2":
            visit_service.dispute_by_elder(session, visit, elder, "call", utcnow())
            response.say(translate_for(elder.locale, "Thank you for telling us. The community worker will call you."),
                         language="cmn-CN")
        else:
            response.redirect(f"{_public_url()}/twilio/voice/visit/{visit.id}", method="POST")
            return _twiml(response)
    except DomainError:
        session.rollback()
        response.say(translate_for(elder.locale, "Thank you. Goodbye."), language="cmn-CN")
        return _twiml(response)
    commit()
    return _twiml(response)
