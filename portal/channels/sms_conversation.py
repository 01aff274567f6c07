"""The SMS adapter of the conversation, and the short SMS answers about requests.

Registered inbound handlers (portal.channels.inbound):
    15 emergency words (救命 / SOS / help me): alert at once, before any open conversation
    30 answers to what the portal asked: "2" refuses a family order, "1" confirms a finished visit
       (only when no SMS conversation is open, which then owns the digits)
    50 the request conversation: numbered options in one text, digits (full-width too) and keywords
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from portal.channels.inbound import inbound_handler
from portal.conversation import engine, keywords
from portal.conversation.engine import CHECK, FLOWS, NoMatch, normalize
from portal.conversation.flows import REQUEST_FLOW, SERVICE_OPTIONS
from portal.i18n import force_locale, gettext, msg, supported_locale
from portal.models import ElderProfile, Person
from portal.services import DomainError
from portal.services import requests as service_requests

SMS_RATINGS = {"1": 3, "2": 2, "3": 1}  # the text lists good first; stored as the faces: 3 happy .. 1 unhappy


def _locale(person: Person) -> str:
    return supported_locale(person.locale)


def _elder(session: Session, person: Person | None) -> ElderProfile | None:
    if person is None or not person.has_role("elder"):
        return None
    return session.get(ElderProfile, person.id)


def _hotline(session: Session, elder: ElderProfile) -> str:
    return service_requests.hotline_for(session, elder.community_id, current_app.config["LINLI_HOTLINE"])


def render(state, person: Person) -> str:
    """One text: the question and its numbered options (or the answers to check)."""
    flow = FLOWS[state.flow]
    with force_locale(_locale(person)):
        if state.step == CHECK:
            lines = [gettext("Please check:")]
            lines += [f"{label}: {value}" for _name, label, value in engine.summary(flow, state.data)]
            lines.append(gettext("Reply 1 to send it, 2 to start again, 3 to stop."))
            return "\n".join(lines)
        step = flow.steps[state.step]
        lines = [str(step.question)]
        lines += [f"{index} {option.label}" for index, option in enumerate(step.options, start=1)]
        if step.free == "date":
            lines.append(gettext("Or write a date, like 11月25日."))
        elif step.free == "time":
            lines.append(gettext("Or write a time, like 9:30."))
        elif step.free == "text":
            lines.append(gettext("Or write it in a few words."))
        lines.append(gettext("Reply with the number. Reply 取消 to stop."))
        return "\n".join(lines)


def _say(person: Person, message: str, **variables) -> str:
    with force_locale(_locale(person)):
        return gettext(message, **variables)


@inbound_handler(15, "request-emergency")
def emergency_words(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    elder = _elder(session, person)
    if elder is None or normalize(text) not in keywords.EMERGENCY:
        return None
    service_requests.emergency(session, elder, "sms", now)
    return _say(person, msg("We are alerting your community worker and your family now. If you are in danger, "
                        "call 120. Community hotline: %(hotline)s"), hotline=_hotline(session, elder))


@inbound_handler(30, "request-answers")
def request_answers(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    """Short answers to what the portal last asked: refuse a family order, confirm a visit, rate it.

    When one digit could answer two questions, the question asked most recently wins.
    """
    elder = _elder(session, person)
    if elder is None or engine.load(session, person, "sms", now, adopt=False) is not None:
        return None
    word = normalize(text)
    asked = []  # (when the question was asked, which question, the request)
    if word in keywords.NO:
        pending = service_requests.pending_refusal(session, person.id, now)
        if pending is not None:
            asked.append((pending.created_at, "refuse", pending))
    if word in keywords.YES:
        pending = service_requests.pending_confirmation(session, person.id)
        if pending is not None:
            asked.append((pending.done_at or pending.created_at, "confirm", pending))
    if word in SMS_RATINGS:
        pending = service_requests.pending_rating(session, person.id, now)
        if pending is not None:
            asked.append((pending.confirmed_at, "rate", pending))
    if not asked:
        return None
    _at, question, pending = max(asked, key=lambda item: item[0])
    if question == "refuse":
        service_requests.refuse(session, pending, person, "sms", now)
        return _say(person, msg("All right, %(service)s (reference %(ref)s) is cancelled. We have told %(family)s."),
                    service=service_requests.service_name(person.locale, pending.service),
                    ref=pending.reference, family=pending.placed_by.name)
    if question == "confirm":
        service_requests.confirm(session, pending, person, "sms", now)
        return _say(person, msg("Thank you for confirming. How was it? Reply 1 good, 2 so-so, 3 not good."))
    service_requests.rate(session, pending, person, SMS_RATINGS[word], now, channel="sms")
    return _say(person, msg("Thank you! We have noted it. Take care!"))


@inbound_handler(50, "request-conversation")
def conversation(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    elder = _elder(session, person)
    if elder is None:
        return None
    word = normalize(text)
    state = engine.load(session, person, "sms", now)
    if state is not None and word in keywords.CANCEL:
        engine.end(session, state)
        return _say(person, msg("All right, we stopped. Nothing was ordered."))
    if state is None:
        if len(word) > 40 or word.isdigit():
            return None
        picked = next((o for o in SERVICE_OPTIONS if any(k in word for k in o.keywords)), None)
        if picked is not None:
            state = engine.begin(session, person, "sms", REQUEST_FLOW, now, {"service": picked.value})
        elif word in keywords.MENU:
            state = engine.begin(session, person, "sms", REQUEST_FLOW, now)
        else:
            return None
        return render(state, person)
    if state.step == CHECK:
        if word in keywords.YES:
            try:
                reference = engine.finish(session, person, state, now)
            except DomainError as error:
                engine.end(session, state)
                return _say(person, msg("Sorry: %(reason)s"), reason=_in_locale(person, error.message))
            return _say(person, msg("Received. Your reference is %(ref)s. We will text you when a volunteer "
                                "accepts it. To change it, call %(hotline)s."), ref=reference,
                        hotline=_hotline(session, elder))
        if word == "2":
            state = engine.begin(session, person, "sms", REQUEST_FLOW, now)
            return render(state, person)
        if word == "3":
            engine.end(session, state)
            return _say(person, msg("All right, we stopped. Nothing was ordered."))
        return None
    try:
        engine.answer(session, state, text, now, allow_free=True)
    except NoMatch:
        return None  # the fallback help answers; the conversation is kept
    except DomainError as error:
        return _in_locale(person, error.message) + "\n" + render(state, person)
    return render(state, person)


def _in_locale(person: Person, message) -> str:
    with force_locale(_locale(person)):
        return str(message)
