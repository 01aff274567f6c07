"""Inbound-SMS handlers every number gets: unknown senders, STOP / START / HELP, and the fallback.

Priorities (portal.channels.inbound): 1 unknown number, 10 global keywords, 100 fallback help.
Replies are in the person's language; the STOP confirmation goes through the outbox (kind
"opt_out_confirmation") so that it is recorded like every other text.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from portal.channels.inbound import inbound_handler
from portal.channels.sms_conversation import ask_again
from portal.conversation import engine, keywords
from portal.i18n import supported_locale, translate_for
from portal.models import Person
from portal.services import outbox, questions
from portal.services.inbox import hotline_for, set_contact_status

_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")
_LATIN = re.compile(r"[A-Za-z]")


def default_hotline() -> str:
    return current_app.config["LINLI_HOTLINE"] if has_app_context() else "12349"


def _guess_locale(text: str) -> str:
    """For an unknown sender: English only when they wrote Latin letters and no Chinese."""
    return "en" if _LATIN.search(text) and not _CJK.search(text) else "zh_Hans"


def help_text(session: Session, person: Person | None) -> str:
    return translate_for(
        person.locale if person else "zh_Hans",
        "Linli: to ask for a service send 订餐 (meal), 打扫 (cleaning), 陪同 (escort) or 洗澡 (bathing), "
        "then answer with the number of your choice. 救命 or SOS: emergency help. 帮助 or HELP: this text. "
        "退订 or STOP: no more texts. Hotline %(hotline)s.",
        hotline=hotline_for(session, person, default_hotline()),
    )


@inbound_handler(1, "unknown-number")
def unknown_number(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    if person is not None:
        return None
    return translate_for(
        _guess_locale(text),
        "Linli: this phone number is not registered with us, so we cannot act on texts from it. "
        "Please call the community hotline %(hotline)s.",
        hotline=default_hotline(),
    )


@inbound_handler(10, "stop")
def stop(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    """Exactly Twilio's opt-out words (and 退订 / TD): honoured as opt-out even in the middle of an order,
    since the provider stops delivering to the number anyway (a provider-level opt-out cannot be
    overridden). The reply says plainly that texts are stopped and how to get them back (START for
    Twilio's words, which only START lifts), and that a half-finished order was not placed
    (docs/messages-and-calls.md, "Opting out")."""
    if person is None or keywords.normalize(text) not in keywords.STOP:
        return None
    set_contact_status(session, person.phone, "stopped", now)
    hotline = hotline_for(session, person, default_hotline())
    if keywords.normalize(text) in keywords.PROVIDER_STOP:
        # Twilio blocks every later text to her (emergency alerts too) until she sends START, its own word.
        body = translate_for(person.locale, "Linli: texts to this phone are stopped, visit notices too; emergency "
                                            "alerts come by phone call. To get texts again, send START. "
                                            "Hotline %(hotline)s.", hotline=hotline)
    else:
        body = translate_for(
            person.locale,
            "Linli: you will get no more texts from us, except emergency alerts: those always come. "
            "Send 订阅 or START to get the others again. Hotline %(hotline)s.",
            hotline=hotline,
        )
    if drop_open_conversation(session, person, now):
        body = opt_out_reply(person.locale, body, translate_for(person.locale, "The order you were placing was "
                                                                               "not placed."))
    outbox.enqueue(session, person.phone, body, kind="opt_out_confirmation", person=person,
                   elder_quiet_hours=False, now=now)
    return ""  # the confirmation above is the only answer


def opt_out_reply(locale: str, body: str, dropped: str) -> str:
    """The confirmation and, when an order was half-way, that it was not placed: one text."""
    return f"{body} {dropped}" if locale == "en" else f"{body.rstrip('。')}。{dropped}"


@inbound_handler(10, "start")
def start(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    if person is None or keywords.normalize(text) not in keywords.START:
        return None
    set_contact_status(session, person.phone, "active", now)
    return translate_for(
        person.locale, "Linli: you will get our texts again. Send 帮助 or HELP to see what you can send."
    )


@inbound_handler(10, "help")
def help_keyword(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    if person is None or keywords.normalize(text) not in keywords.HELP:
        return None
    # half-way through an order the help is how to answer the question, which is asked again in the same text
    lead = translate_for(person.locale, "Reply with the number of your choice. For an emergency, reply 救命. "
                                        "Hotline %(hotline)s.", hotline=hotline_for(session, person, default_hotline()))
    return ask_again(session, person, now, lead) or help_text(session, person)


@inbound_handler(100, "fallback-help")
def fallback(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    """Nothing understood the text: explain what can be sent. Any open conversation is left as it is."""
    if person is None:
        return None
    lead = translate_for(person.locale, "Sorry, we did not understand that. For an emergency, reply 救命.")
    return ask_again(session, person, now, lead) or fallback_text(session, person)


def fallback_text(session: Session, person: Person) -> str:
    """Not understood, and no question waiting: what can be sent, as one text."""
    space = " " if supported_locale(person.locale) == "en" else ""  # no space between Chinese sentences
    return translate_for(person.locale, "Sorry, we did not understand that.") + space + help_text(session, person)


def drop_open_conversation(session: Session, person: Person, now: datetime) -> bool:
    """Opting out ends any half-finished order (nothing more can be texted about it)."""
    questions.answered(session, person.id)
    return engine.end_all(session, person, now) > 0
