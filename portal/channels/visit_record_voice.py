"""The 探访 visit record by call: a volunteer who checked out within the day calls Linli from her own
phone and answers the record's short questions with keys, one question per prompt
(services/visit_record_questions.py; the same pending question a text answers, so a call left
half-way is finished by text and the other way round). As in every menu, 0 reaches the community
worker and 9 raises the alarm for the elder she visited (asked about once; a second 9 or silence
goes through). Each prompt's action names the question it asks, so a Twilio retry of an answered
step asks the current question again instead of answering the next one.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from portal.channels import twiml
from portal.channels.twilio_hooks import twilio_webhook
from portal.db import utcnow
from portal.i18n import msg, translate_for
from portal.models import ElderProfile, Person, Visit
from portal.request_scope import commit, db
from portal.services import DomainError, emergencies, questions
from portal.services import visit_record_questions as record_questions
from portal.services.phones import normalize_phone
from portal.services.scope import area_hotline, community_workers

bp = Blueprint("visit_record_voice", __name__, url_prefix="/twilio/voice/record")


def volunteer_caller() -> Person | None:
    """The active person calling (From), if she has a visit to record."""
    try:
        phone = normalize_phone(request.form.get("From", ""), current_app.config["LINLI_DEFAULT_REGION"])
    except DomainError:
        return None
    return db().scalar(select(Person).where(Person.phone == phone, Person.active))


def has_a_visit_to_record(person: Person | None) -> bool:
    return person is not None and record_questions.recordable(db(), person, utcnow()) is not None


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _say(response, person: Person, message: str, **values) -> None:
    twiml.say(response, translate_for(person.locale, message, **values), person.locale)


def _ask(response: VoiceResponse, person: Person, question: record_questions.Question) -> VoiceResponse:
    gather = twiml.gather(person.locale, num_digits=1, input="dtmf", timeout=8, method="POST",
                          action=url_for("visit_record_voice.answer", q=question.code))
    text = record_questions.question_text(question, person.locale, "voice")
    closing = translate_for(person.locale, "For an emergency, press 9. To talk to a person, press 0.")
    twiml.say(gather, f"{text} {closing}" if person.locale == "en" else f"{text}{closing}", person.locale)
    response.append(gather)
    _say(response, person, msg("We did not hear a key. You can answer the rest by text: reply with the number."))
    return response


@bp.route("", methods=["POST"])
@twilio_webhook
def start():
    response = VoiceResponse()
    person = volunteer_caller()
    now = utcnow()
    visit = record_questions.recordable(db(), person, now) if person is not None else None
    if visit is None:
        twiml.say(response, translate_for(person.locale if person else "zh_Hans", "Thank you. Goodbye."),
                  person.locale if person else "zh_Hans")
        return _twiml(response)
    question = record_questions.begin(db(), person, visit, now, "call")
    if question is None:
        twiml.say(response, translate_for(person.locale, msg("Thank you. Goodbye.")), person.locale)
        return _twiml(response)
    commit()
    _say(response, person, msg("Hello, this is Linli. The record of your visit to %(elder)s, a key per question."),
         elder=visit.elder.name)
    return _twiml(_ask(response, person, question))


def _current(person: Person):
    """The visit being recorded and the question it is at (None, None when nothing is open)."""
    asked = questions.last_asked(db(), person.id, utcnow())
    if asked is None or asked.kind != record_questions.KIND or asked.expired:
        return None, None
    return db().get(Visit, asked.subject_id), record_questions.next_question(asked.answers or {})


@bp.route("/answer", methods=["POST"])
@twilio_webhook
def answer():
    response = VoiceResponse()
    person = volunteer_caller()
    visit, question = _current(person) if person is not None else (None, None)
    if person is None or visit is None or question is None:
        twiml.say(response, translate_for(person.locale if person else "zh_Hans", "Thank you. Goodbye."),
                  person.locale if person else "zh_Hans")
        return _twiml(response)
    digits = request.form.get("Digits", "")
    if digits == "0":
        return _twiml(_dial_worker(response, person, visit))
    if digits == "9":
        sos = url_for("visit_record_voice.sos")
        gather = twiml.gather(person.locale, num_digits=1, input="dtmf", timeout=6, action=sos, method="POST")
        twiml.say(gather, translate_for(person.locale, msg("Do you want emergency help for %(elder)s? Press 1 "
                                                           "to confirm. Press 2 to go back."), elder=visit.elder.name),
                  person.locale)
        response.append(gather)
        response.redirect(sos, method="POST")  # silence after a 9: it goes through
        return _twiml(response)
    if request.args.get("q") != question.code:
        return _twiml(_ask(response, person, question))  # a retry of a step already answered
    choice = int(digits) if digits.isdigit() else None
    try:
        outcome = record_questions.answer(db(), person, choice, utcnow(), "call")
    except DomainError as error:
        db().rollback()
        twiml.say(response, translate_for(person.locale, error.message), person.locale)
        return _twiml(response)
    commit()
    if outcome.question is not None:
        if outcome.repeated:
            _say(response, person, msg("Please press one of the keys offered."))
        return _twiml(_ask(response, person, outcome.question))
    twiml.say(response, record_questions.thanks(outcome, person.locale), person.locale)
    _say(response, person, msg("Thank you. Goodbye."))
    return _twiml(response)


def _dial_worker(response: VoiceResponse, person: Person, visit: Visit) -> VoiceResponse:
    profile = db().get(ElderProfile, visit.elder_id)
    workers = community_workers(db(), profile.community_id) if profile is not None else []
    _say(response, person, msg("Please hold, we are putting you through to a person."))
    response.dial(workers[0].phone if workers else area_hotline(db(), profile.community_id if profile else None,
                                                                 current_app.config["LINLI_HOTLINE"]))
    return response


@bp.route("/sos", methods=["POST"])
@twilio_webhook
def sos():
    """After a 9: 1, 9 again or nothing raises the alarm for the elder she visited; 2 goes back."""
    response = VoiceResponse()
    person = volunteer_caller()
    visit, question = _current(person) if person is not None else (None, None)
    if person is None or visit is None:
        twiml.say(response, translate_for("zh_Hans", "Thank you. Goodbye."), "zh_Hans")
        return _twiml(response)
    if request.form.get("Digits", "") not in ("", "1", "9") and question is not None:
        return _twiml(_ask(response, person, question))
    profile = db().get(ElderProfile, visit.elder_id)
    emergencies.raise_alarm(db(), profile, "voice", utcnow())
    commit()
    _say(response, person, msg("We are alerting the community worker and the family now. If anyone is in "
                               "danger, call 120."))
    return _twiml(_dial_worker(response, person, visit))
