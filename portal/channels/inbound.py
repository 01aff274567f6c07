"""Inbound text messages: one ordered list of handlers, the first reply wins.

Each part of the product registers what it understands; the SMS webhook only validates,
deduplicates and calls `dispatch_sms`. Priorities (lower runs first):

    10  global keywords: STOP / 退订, START, HELP / 帮助 (before any open conversation)
    20  door-code commands: 到 123456 / IN 123456, 走 123456 / OUT 123456
    15  emergency words anywhere in a text
    30  a short answer to the last question Linli asked that person (portal.channels.sms_answers),
        today's 每日问安 call included: one model answers every digit
    50  the request conversation
    100 fallback: the help text (the open conversation is kept)

A handler is `fn(session, person, text, now) -> str | None`; `person` is None for an unknown
number; return the reply text (translated for the person) or None to pass.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from portal.models import Person

Handler = Callable[[Session, "Person | None", str, datetime], "str | None"]
_handlers: list[tuple[int, str, Handler]] = []

# Modules that register handlers; each part of the product adds its own here.
HANDLER_MODULES: list[str] = ["portal.channels.sms_keywords", "portal.channels.sms_conversation", "portal.channels.visits_sms",
                             "portal.channels.sms_unknown_emergency",
                             "portal.channels.sms_answers"]


def inbound_handler(priority: int, name: str):
    def register(fn: Handler) -> Handler:
        if not any(existing == name for _, existing, _ in _handlers):
            _handlers.append((priority, name, fn))
            _handlers.sort(key=lambda item: item[0])
        return fn

    return register


def load_handlers() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)


def handlers() -> list[tuple[int, str, Handler]]:
    return list(_handlers)


def dispatch_sms(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    """The reply to an inbound text from the first handler that understands it (None: no reply)."""
    for _priority, _name, handler in _handlers:
        reply = handler(session, person, text, now)
        if reply is not None:
            return reply
    return None
