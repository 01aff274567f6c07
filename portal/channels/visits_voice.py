"""The automated call that asks an elder whether a visit happened (1 yes, 2 no; as in every menu,
0 reaches a person and 9 is emergency help, a 9 confirmed once, a second 9 or silence going through)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from portal.channels import twiml
from portal.channels.twilio_hooks import twilio_webhook
from portal.channels.voice_turns import remembered_turn
from portal.db import utcnow
from portal.i18n import translate_for
from portal.models import ElderProfile, Visit
from portal.request_scope import commit, db
from portal.services import DomainError, emergencies
from portal.services import visits as visit_service
from portal.services.scope import area_hotline, community_workers

bp = Blueprint("visits_voice", __name__)


def _public_url() -> str:
    return current_app.config["LINLI_PUBLIC_URL"]


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.route("/twilio/voice/visit/<int:visit_id>", methods=["GET", "POST"])
@twilio_webhook
@remembered_turn
def call_visit(visit_id: int):
    visit = db().get(Visit, visit_id)
    response = VoiceResponse()
    if visit is None or visit.status != "done":
        twiml.say(response, translate_for("zh_Hans", "Thank you. Goodbye."), "zh_Hans")
        return _twiml(response)
    locale = visit.elder.locale
    gather = twiml.gather(locale, num_digits=1, input="dtmf", timeout=8,
                          action=f"{_public_url()}/twilio/voice/visit/{visit.id}/answer", method="POST")
    question = translate_for(locale, "%(name)s from the community visited you today. If this is right, "
                                     "press 1. If not, press 2.", name=visit.volunteer.name)
    closing = translate_for(locale, "For an emergency, press 9. To talk to a person, press 0.")
    twiml.say(gather, f"{question} {closing}" if locale == "en" else f"{question}{closing}", locale)
    response.append(gather)
    twiml.say(response, translate_for(locale, "We did not hear a key. The community worker will call you."), locale)
    return _twiml(response)


@bp.route("/twilio/voice/visit/<int:visit_id>/answer", methods=["POST"])
@twilio_webhook
@remembered_turn
def call_visit_answer(visit_id: int):
    session = db()
    visit = session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    elder = visit.elder
    digits = request.form.get("Digits", "")
    response = VoiceResponse()
    if digits in ("0", "9"):
        return _twiml(_person_or_sos(response, visit, digits))
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


def _dial_worker(response: VoiceResponse, visit: Visit) -> None:
    profile = db().get(ElderProfile, visit.elder_id)
    workers = community_workers(db(), profile.community_id) if profile is not None else []
    twiml.say(response, translate_for(visit.elder.locale, "Please hold, we are putting you through to a person."),
              visit.elder.locale)
    response.dial(workers[0].phone if workers else area_hotline(db(), profile.community_id if profile else None,
                                                                 current_app.config["LINLI_HOTLINE"]))


def _person_or_sos(response: VoiceResponse, visit: Visit, digits: str) -> VoiceResponse:
    if digits == "0":
        _dial_worker(response, visit)
        return response
    sos = f"{_public_url()}/twilio/voice/visit/{visit.id}/sos"
    gather = twiml.gather(visit.elder.locale, num_digits=1, input="dtmf", timeout=6, action=sos, method="POST")
    twiml.say(gather, translate_for(visit.elder.locale, "Do you want emergency help? Press 1 to confirm. "
                                                        "Press 2 to go back."), visit.elder.locale)
    response.append(gather)
    response.redirect(sos, method="POST")  # silence after a 9: it goes through
    return response


@bp.route("/twilio/voice/visit/<int:visit_id>/sos", methods=["POST"])
@twilio_webhook
@remembered_turn
def call_visit_sos(visit_id: int):
    """After a 9 in the visit call: 1, 9 again or nothing raises the alarm; any other key goes back."""
    visit = db().get(Visit, visit_id)
    profile = db().get(ElderProfile, visit.elder_id) if visit is not None else None
    if profile is None:
        abort(404)
    response = VoiceResponse()
    if request.form.get("Digits", "") not in ("", "1", "9"):
        response.redirect(f"{_public_url()}/twilio/voice/visit/{visit.id}", method="POST")
        return _twiml(response)
    emergencies.raise_alarm(db(), profile, "voice", utcnow())
    commit()
    twiml.say(response, translate_for(visit.elder.locale, "We are alerting your community worker and your family now. "
                                                          "If you are in danger, hang up and call 120."), visit.elder.locale)
    _dial_worker(response, visit)
    return _twiml(response)
