"""Text commands for visits: door-code check-in/out (priority 20), "记录" for the visit record (21).

The elder's yes/no to "did this visit happen" is an answer to the last question asked
(portal.channels.sms_answers)."""
from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from portal.channels.inbound import inbound_handler
from portal.conversation import keywords
from portal.i18n import msg, translate_for
from portal.models import Person, VolunteerProfile
from portal.services import DomainError
from portal.services import visit_record_questions as record_questions
from portal.services import visits as visit_service

DOOR_COMMAND = re.compile(r"^\s*(%s)\s*[:：]?\s*(\d{4,8})\s*$" % "|".join(
    re.escape(word) for word in sorted(keywords.CHECK_IN | keywords.CHECK_OUT, key=len, reverse=True)), re.IGNORECASE)


def _reply(person: Person, message: str, **values) -> str:
    return translate_for(person.locale, message, **values)


def _error(person: Person, error: DomainError) -> str:
    """The error in the sender's language (a lazy string keeps its msgid and values)."""
    return translate_for(person.locale, error.message)


@inbound_handler(20, "visit-door-code")
def door_code_command(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    match = DOOR_COMMAND.match(text or "")
    if match is None or person is None:
        return None
    if session.get(VolunteerProfile, person.id) is None:
        return _reply(person, msg("Only registered volunteers can check in."))
    arriving = match.group(1).lower() in keywords.CHECK_IN
    limiter = current_app.extensions["linli"].limiter
    try:
        elder = visit_service.elder_from_code(session, limiter, person.id, match.group(2), now)
        if arriving:
            visit_service.check_in(session, person, elder, "sms", now)
            return _reply(person, msg("Checked in with %(name)s. Text 走 %(code)s when you leave."),
                          name=elder.person.name, code=elder.door_code)
        visit = visit_service.open_visit_for(session, person.id)
        if visit is None or visit.elder_id != elder.person_id:
            return _reply(person, msg("You are not checked in at this door code."))
        visit_service.check_out(session, visit, person, now, "sms",
                                public_url=current_app.config["LINLI_PUBLIC_URL"])
        reply = _reply(person, msg("Checked out: %(minutes)s minutes. We will ask %(name)s to confirm."),
                       minutes=visit.duration_minutes, name=elder.person.name)
        # the 探访记录 comes next by text, a digit per question, while she still remembers what she saw
        first = record_questions.begin(session, person, visit, now, "sms")
        if first is None:
            return reply
        return reply + "\n" + record_questions.question_text(first, person.locale, "sms")
    except DomainError as error:
        return _error(person, error)


@inbound_handler(21, "visit-record")
def visit_record_command(session: Session, person: Person | None, text: str, now: datetime) -> str | None:
    """"记录" from a volunteer: the record of her last visit (checked out within the day), by text."""
    if person is None or keywords.normalize(text) not in keywords.VISIT_RECORD \
            or session.get(VolunteerProfile, person.id) is None:
        return None
    visit = record_questions.recordable(session, person, now)
    first = record_questions.begin(session, person, visit, now, "sms") if visit is not None else None
    if first is None:
        return _reply(person, msg("There is no visit of the last day left to record. Thank you!"))
    return record_questions.question_text(first, person.locale, "sms")
