"""The automated call that asks an elder whether a visit happened (1 yes, 2 no)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from portal.channels import twiml
from portal.channels.twilio_hooks import twilio_webhook
from portal.db import utcnow
from portal.i18n import translate_for
from portal.models import Visit
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
        twiml.say(response, translate_for("zh_Hans", "Thank you. Goodbye."), "zh_Hans")
        return _twiml(response)
    locale = visit.elder.locale
    gather = twiml.gather(locale, num_digits=1, input="dtmf", timeout=8,
                          action=f"{_public_url()}/twilio/voice/visit/{visit.id}/answer", method="POST")
    twiml.say(gather, translate_for(locale, "%(name)s from the community visited you today. If this is right, "
                                            "press 1. If not, press 2.", name=visit.volunteer.name), locale)
    response.append(gather)
    twiml.say(response, translate_for(locale, "We did not hear a key. The community worker will call you."), locale)
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
        if digits == "1":
            visit_service.confirm_by_elder(session, visit, elder, "call", utcnow())
            twiml.say(response, translate_for(elder.locale, "Thank you. The visit is confirmed."), elder.locale)
        elif digits == "2":
            visit_service.dispute_by_elder(session, visit, elder, "call", utcnow())
            twiml.say(response, translate_for(elder.locale, "Thank you for telling us. The community worker will "
                                                            "call you."), elder.locale)
        else:
            response.redirect(f"{_public_url()}/twilio/voice/visit/{visit.id}", method="POST")
            return _twiml(response)
    except DomainError:
        session.rollback()
        twiml.say(response, translate_for(elder.locale, "Thank you. Goodbye."), elder.locale)
        return _twiml(response)
    commit()
    return _twiml(response)
