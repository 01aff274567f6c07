"""The SMS adapter of the conversation, and the short SMS answers about requests.

Registered inbound handlers (portal.channels.inbound):
    15 emergency words anywhere in a text (救命 / 摔倒 / SOS): alert at once, before any open conversation
    50 the request conversation: numbered options in one text, digits (full-width too), keywords and
       free text read by portal.conversation.understand ("后天上午陪我去医院" skips what it answers)
(Short answers to other questions Linli asked are portal.channels.sms_answers', at priority 30.)
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from portal.channels.inbound import inbound_handler
from portal.clock import local_tz
from portal.conversation import engine, keywords, slots, understand
from portal.conversation.engine import CHECK, FLOWS, NoMatch
from portal.conversation.flows import REQUEST_FLOW, SERVICE_OPTIONS
from portal.db import utcnow
from portal.i18n import force_locale, gettext, msg, supported_locale
from portal.models import ElderProfile, Person
from portal.services import DomainError, emergencies, questions
from portal.services import requests as service_requests
from portal.services.sms_text import signed


def _locale(person: Person) -> str:
    return supported_locale(person.locale)


def _elder(session: Session, person: Person | None) -> ElderProfile | None:
    if person is None or not person.has_role("elder"):
        return None
    return session.get(ElderProfile, person.id)


def _hotline(session: Session, elder: ElderProfile) -> str:
    return service_requests.hotline_for(session, elder.community_id, current_app.config["LINLI_HOTLINE"])


def render(state, person: Person, now: datetime | None = None, form: str = "full") -> str:
    """One text: the question and its numbered options (or the answers to check). Only the options that
    can still be kept are listed and numbered (slots.offered): at 16:12 "今天" is not offered for lunch.

    `form`: "full" (with how to answer), "short" (the options and 请回数字) or "options" (the question
    and its options only) — the shorter forms follow another message in the same text (`composed`)."""
    flow = FLOWS[state.flow]
    with force_locale(_locale(person)):
        if state.step == CHECK:
            lines = [gettext("Please check:")]
            colon = ": " if _locale(person) == "en" else "："  # full-width in a Chinese text
            lines += [f"{label}{colon}{value}" for _name, label, value in engine.summary(flow, state.data)]
            lines.append(gettext("Reply 1 to send it, 2 to start again, 3 to stop."))
            return "\n".join(lines)
        step = slots.offered(state, now or utcnow())
        lines = [str(step.question)]
        lines += [f"{index} {option.label}" for index, option in enumerate(step.options, start=1)]
        if form == "full":
            if step.free == "date":
                lines.append(gettext("Or write a date, like 11月25日."))
            elif step.free == "time":
                lines.append(gettext("Or write a time, like 9:30."))
            elif step.free == "text":
                lines.append(gettext("Or write it in a few words."))
            lines.append(gettext("Reply with the number. Reply 取消 to stop."))
        elif form == "short":
            lines.append(gettext("Reply with the number."))
        return "\n".join(lines)


ONE_SEGMENT = 70  # characters of a UCS-2 text in one segment, the 【邻里】 signature included
CHECK_SEGMENTS = 134  # the check summary alone may take two segments (docs/messages-and-calls.md)


def composed(lead: str, state, person: Person, now: datetime | None = None) -> str:
    """Another message and then the question still waiting, as ONE text that is measured as one: the
    question in its full form if the whole fits one segment, else shorter (how to answer, then the
    "or write …" line, dropped first). The check summary is never shortened."""
    forms = ("full",) if state.step == CHECK else ("full", "short", "options")
    for form in forms:
        text = f"{lead}\n{render(state, person, now, form)}"
        if len(signed(text)) <= ONE_SEGMENT:
            return text
    return text


def _say(person: Person, message: str, **variables) -> str:
    with force_locale(_locale(person)):
        return gettext(message, **variables)


@inbound_handler(15, "request-emergency")
def emergency_words(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    """An emergency word anywhere in the text ("我摔倒了起不来") alerts at once, every time it is sent."""
    elder = _elder(session, person)
    if elder is None or not keywords.is_emergency(text):
        return None
    request = emergencies.raise_alarm(session, elder, "sms", now)
    return alarm_reply(session, person, request, _hotline(session, elder), now)


def alarm_reply(session: Session, person: Person, request, hotline: str, now: datetime) -> str:
    """The answer to an alarm raised by text (救命, or a 9 after the 问安 call): help is being told, 120
    in danger, the hotline — and, while it can still be called off by text, "按错了请回2" (the question
    is recorded here and answered in sms_answers)."""
    if request is not None and emergencies.ask_to_call_off(session, request, now, "sms"):
        minutes = int(emergencies.stand_down_window().total_seconds() // 60)
        return _say(person, msg("We are alerting your community worker and your family now. If you are in danger, "
                                "call 120. Sent by mistake? Reply 2 within %(minutes)d minutes. Hotline "
                                "%(hotline)s"), minutes=minutes, hotline=hotline)
    return _say(person, msg("We are alerting your community worker and your family now. If you are in danger, "
                        "call 120. Community hotline: %(hotline)s"), hotline=hotline)


def _asking(session: Session, person: Person, state, now: datetime, lead: str | None = None) -> str:
    """The text of the conversation's current question (after `lead`, as one text), recorded as the
    question asked last."""
    questions.ask(session, person.id, "conversation", now, channel="sms", until=state.expires_at)
    return composed(lead, state, person, now) if lead else render(state, person, now)


def ask_again(session: Session, person: Person, now: datetime, lead: str) -> str | None:
    """`lead` (a help text, the answer to another question) and then the pending question of an open
    request conversation, as one text (`composed`); None when no conversation is open."""
    if _elder(session, person) is None:
        return None
    state = engine.load(session, person, "sms", now, adopt=False)
    if state is None or state.step == engine.DONE:
        return None
    questions.ask(session, person.id, "conversation", now, channel="sms", until=state.expires_at)
    return composed(lead, state, person, now)


def _stopped(session: Session, person: Person, state, now: datetime) -> str:
    engine.end(session, state)
    engine.end_all(session, person, now)  # and any other open order, say one left on a call
    questions.answered(session, person.id)
    return _say(person, msg("All right, we stopped. Nothing was ordered."))


def _begin(session: Session, person: Person, said: understand.Understood, now: datetime) -> str:
    today = now.astimezone(local_tz()).date()
    state, too_late = slots.begin(session, person, "sms", REQUEST_FLOW, now, said.answers(today))
    if too_late:  # a time named in the text had passed: said why, and the day asked with what is still open
        return _asking(session, person, state, now, lead=_in_locale(person, slots.TOO_LATE))
    return _asking(session, person, state, now)


def _service_label(person: Person, service: str) -> str:
    option = next(o for o in SERVICE_OPTIONS if o.value == service)
    return _in_locale(person, option.label)


@inbound_handler(50, "request-conversation")
def conversation(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    elder = _elder(session, person)
    if elder is None:
        return None
    today = now.astimezone(local_tz()).date()
    word = keywords.normalize(text)
    said = understand.understand(text, today)
    state = engine.load(session, person, "sms", now)
    if state is None:
        if len(word) > 40 or word.isdigit():
            return None
        if said.service is not None:
            return _begin(session, person, said, now)
        if said.command in ("menu", "greeting", "restart"):
            return _begin(session, person, understand.Understood(text=word), now)
        return None
    switch = state.data.get("_switch")
    if switch:
        state.data = {k: v for k, v in state.data.items() if k != "_switch"}
        if word in keywords.YES:
            return _begin(session, person, understand.understand(switch, today), now)
        if word in keywords.NO:
            return _asking(session, person, state, now)
    if said.command == "restart":
        state = engine.begin(session, person, "sms", REQUEST_FLOW, now)
        return _asking(session, person, state, now)
    step = FLOWS[state.flow].steps.get(state.step)
    yes_no_step = step is not None and {o.value for o in step.options} == {"yes", "no"}
    if word in keywords.CANCEL and not (yes_no_step and word in keywords.NO_OR_CANCEL):
        return _stopped(session, person, state, now)
    if state.step == CHECK:
        if word in keywords.YES:
            questions.answered(session, person.id)
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
            return _asking(session, person, state, now)
        if word == "3":
            return _stopped(session, person, state, now)
        if said.service not in (None, state.data.get("service")):
            return _ask_to_switch(session, person, state, text, said.service, now)
        return None
    if step.name != "service" and said.service not in (None, state.data.get("service")) \
            and engine.match_option(step, text) is None:
        return _ask_to_switch(session, person, state, text, said.service, now)
    try:
        slots.answer(session, state, text, now, allow_free=True)
    except NoMatch:
        return None  # the fallback help answers and asks the question again
    except DomainError as error:
        return _asking(session, person, state, now, lead=_in_locale(person, error.message))
    if slots.fill(session, state, said.answers(today, state.data.get("service")), now):
        return _asking(session, person, state, now, lead=_in_locale(person, slots.TOO_LATE))
    return _asking(session, person, state, now)


def _ask_to_switch(session: Session, person: Person, state, text: str, service: str, now: datetime) -> str:
    """Another service named during a question (the check too): ask before throwing the answers away.
    1 starts the new order with what the text said ("明天打扫卫生" keeps 明天); 2 asks the question again."""
    state.data = {**state.data, "_switch": text}
    engine.touch(state, now)
    questions.ask(session, person.id, "conversation", now, channel="sms", until=state.expires_at)
    return _say(person, msg("You are ordering %(current)s. Change to %(new)s instead? Reply 1 to change, "
                            "2 to carry on."), current=_service_label(person, state.data["service"]),
                new=_service_label(person, service))


def _in_locale(person: Person, message) -> str:
    with force_locale(_locale(person)):
        return str(message)
