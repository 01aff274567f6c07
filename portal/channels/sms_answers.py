"""A short answer ("1", "2", 要得, 没来, 巴适) answers the last question Linli asked that person.

Registered at priority 30 (portal.channels.inbound), after the global keywords and the emergency
words, before the request conversation. Which question was asked last is recorded by
portal.services.questions when the text is queued or the call prompt spoken; an answer to a
question that has expired is told so and acts on nothing. When the last question was a step of
the request conversation, this handler passes and the conversation answers.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.channels.inbound import inbound_handler
from portal.channels.sms_conversation import alarm_reply, ask_again
from portal.clock import local_tz
from portal.conversation import engine, understand
from portal.conversation import keywords as words
from portal.i18n import force_locale, gettext, msg, supported_locale
from portal.models import CheckInDay, Person, ServiceRequest, Visit
from portal.services import DomainError, checkins, emergencies, questions
from portal.services import requests as service_requests
from portal.services import visit_record_questions as record_questions
from portal.services import visits as visit_service
from portal.services.inbox import hotline_for

RATINGS = {"1": 3, "2": 2, "3": 1}  # said good first; stored as the faces, 3 happy .. 1 unhappy
YES_NO = {"yes": words.YES, "no": words.NO}
VOCABULARY = {
    "refuse": YES_NO,
    "confirm_request": {"yes": words.VISITED, "no": words.NOT_VISITED},
    "confirm_visit": {"yes": words.VISITED, "no": words.NOT_VISITED},
    "rate": words.RATING,
    "checkin": {"1": words.YES, "9": frozenset({"9"})},  # 每日问安: fine today / I need help
    "emergency": {"call_off": words.CALL_OFF},  # the alarm just raised: 按错了请回2
}


def _say(person: Person, message: str, **variables) -> str:
    with force_locale(supported_locale(person.locale)):
        return gettext(message, **variables)


def _error(person: Person, error: DomainError) -> str:
    with force_locale(supported_locale(person.locale)):
        return str(error.message)


def meaning(kind: str, text: str) -> str | None:
    """What a reply means as an answer to a question of `kind` ("yes", "no", "1".."3"), or None."""
    word = words.normalize(text)
    table = VOCABULARY.get(kind, {})
    return next((meaning for meaning, vocabulary in table.items() if word in vocabulary), None)


def answers_last_question(session: Session, person: Person | None, text: str, now: datetime) -> bool:
    """True when the text is an answer to the question this person was asked last (the loop guard spares it)."""
    if person is None:
        return False
    asked = questions.last_asked(session, person.id, now)
    if asked is None or asked.expired:
        return False
    if asked.kind == record_questions.KIND:
        return understand.read_choice(text, 9) is not None
    if asked.kind != "conversation":
        return meaning(asked.kind, text) is not None
    state = engine.load(session, person, "sms", now, adopt=False)
    if state is None:
        return False
    if state.step == engine.CHECK:
        return words.normalize(text) in ("1", "2", "3") or words.is_word(text, words.YES)
    try:
        engine.parse(engine.FLOWS[state.flow].steps[state.step], text, now.astimezone(local_tz()).date())
    except engine.NoMatch:
        return False
    except DomainError:
        return True  # a wrong answer is still an answer: she is told why, every time
    return True


@inbound_handler(30, "last-question")
def last_question(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    if person is None:
        return None
    asked = questions.last_asked(session, person.id, now)
    if asked is None or asked.kind == "conversation":
        return None
    if asked.kind == record_questions.KIND:
        return _visit_record(session, person, asked, text, now)
    said = meaning(asked.kind, text)
    if said is None:
        return None
    questions.answered(session, person.id)
    if asked.kind == "emergency":
        return _call_off(session, person, asked, now)  # after the window: told to call the hotline
    if asked.expired:
        return _say(person, msg("That question has expired, so your reply changed nothing. "
                                "Please call %(hotline)s."), hotline=_hotline(session, person))
    try:
        reply = _act(session, person, asked, said, now)
    except DomainError as error:
        reply = _error(person, error)
    if asked.kind == "checkin" and said == "9":
        return reply  # an emergency: nothing else in that text
    return ask_again(session, person, now, reply) or reply  # a request conversation left half-way: asked again


def _visit_record(session: Session, person: Person, asked: questions.Asked, text: str, now: datetime) -> str | None:
    """The visit record, a digit per question: the next question, or thanks once it is saved. A longer
    text that is not a number is not meant as an answer and goes on to the other handlers."""
    choice = understand.read_choice(text, 9)
    if choice is None and len(words.normalize(text)) > 4:
        return None
    try:
        outcome = record_questions.answer(session, person, choice, now, "sms")
    except DomainError as error:
        questions.answered(session, person.id)
        return _error(person, error)
    if outcome.question is None:
        return record_questions.thanks(outcome, person.locale)
    text = record_questions.question_text(outcome.question, person.locale, "sms")
    return (_say(person, msg("Please reply with one of the numbers.")) + "\n" + text) if outcome.repeated else text


def _call_off(session: Session, person: Person, asked: questions.Asked, now: datetime) -> str:
    """"按错了" after 救命: within the window the alarm is stood down and everyone alerted is told (as on the
    web); after it, she is told it can no longer be called off by text, with the community hotline."""
    request = session.get(ServiceRequest, asked.subject_id)
    if request is None:
        raise_late = True
    else:
        emergency = emergencies.state_of(session, request)
        if emergency is not None and emergency.state == "stood_down":
            return _say(person, msg("It is already called off. We have told everyone we alerted."))
        raise_late = not emergencies.can_stand_down(emergency, now)
    if raise_late:
        return _say(person, msg("It is too late to call it off by text. Please call the community hotline "
                                "%(hotline)s."), hotline=_hotline(session, person))
    emergencies.stand_down(session, request, person, now, channel="sms")
    return _say(person, msg("All right, it is called off. We have told everyone we alerted."))


def _hotline(session: Session, person: Person) -> str:
    return hotline_for(session, person, current_app.config["LINLI_HOTLINE"])


def _act(session: Session, person: Person, asked: questions.Asked, said: str, now: datetime) -> str:
    if asked.kind == "checkin":
        return _checkin(session, person, asked, said, now)
    if asked.kind == "confirm_visit":
        visit = session.get(Visit, asked.subject_id)
        if visit is None:
            raise DomainError(msg("This visit has already been confirmed or disputed."))
        if said == "yes":
            visit_service.confirm_by_elder(session, visit, person, "sms", now)
            if visit.status == "verified":
                return _say(person, msg("Thank you. The visit by %(name)s is confirmed."), name=visit.volunteer.name)
            return _say(person, msg("Thank you. The community worker will also check this visit."))
        visit_service.dispute_by_elder(session, visit, person, "sms", now)
        return _say(person, msg("Thank you for telling us. The community worker will call you."))
    request = session.get(ServiceRequest, asked.subject_id)
    if request is None:
        raise DomainError(msg("There is nothing to confirm yet."))
    if asked.kind == "refuse":
        if said == "no":
            service_requests.refuse(session, request, person, "sms", now)
            return _say(person, msg("All right, %(service)s (reference %(ref)s) is cancelled. We have told "
                                    "%(family)s."), service=service_requests.service_name(person.locale,
                                                                                         request.service),
                        ref=request.reference, family=request.placed_by.name)
        return _say(person, msg("All right, %(service)s stays as %(family)s ordered it."),
                    service=service_requests.service_name(person.locale, request.service),
                    family=request.placed_by.name)
    if asked.kind == "confirm_request":
        if said == "no":
            service_requests.not_done(session, request, person, "sms", now)
            return _say(person, msg("Thank you for telling us. The community worker will call you."))
        service_requests.confirm(session, request, person, "sms", now)
        questions.ask(session, person.id, "rate", now, subject_id=request.id)
        return _say(person, msg("Thank you for confirming. How was it? Reply 1 good, 2 so-so, 3 not good."))
    service_requests.rate(session, request, person, RATINGS[said], now, channel="sms")
    return _say(person, msg("Thank you! We have noted it. Take care!"))


def _checkin(session: Session, person: Person, asked: questions.Asked, said: str, now: datetime) -> str:
    """A text answering today's 问安 call: 1 she is fine, 9 she needs help (an emergency, at once)."""
    day = session.get(CheckInDay, asked.subject_id)
    if day is None:
        raise DomainError(msg("There is nothing to confirm yet."))
    if said == "9":
        checkins.answer(session, day, "9", "sms", now)
        alarm = session.scalar(select(ServiceRequest).where(
            ServiceRequest.elder_id == person.id, ServiceRequest.service == "emergency",
        ).order_by(ServiceRequest.id.desc()))
        return alarm_reply(session, person, alarm, _hotline(session, person), now)  # as for 救命
    checkins.answer(session, day, "1", "sms", now)
    return _say(person, msg("Thank you, we have noted that you are well today."))


def never_silenced(session: Session, person: Person | None, text: str, now: datetime) -> bool:
    """Texts the loop guard lets through however often they come: an emergency, opting out or back in,
    backing out of an order, and an answer to the question just asked. Only repeated texts Linli
    does not understand are silenced (an auto-responder's)."""
    word = words.normalize(text)
    if words.is_emergency(text) or word in words.STOP or word in words.START or word in words.CANCEL \
            or word in words.RESTART:
        return True
    if person is not None and understand.understand(text, now.astimezone(local_tz()).date()).service is not None:
        return True  # "订餐" again is understood, not an auto-responder's echo
    return answers_last_question(session, person, text, now)
