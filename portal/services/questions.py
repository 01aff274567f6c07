"""The last question Linli asked a person, so that a bare digit answers that question and no other.

Recorded when the text is queued or the call prompt is spoken (a text held over the quiet hours
opens when it can be read). Kinds:
    refuse          a family member's order: 2 refuses it (subject: the request)
    confirm_request a volunteer says a request is done: 1 confirms it (subject: the request)
    rate            how was it: 1 / 2 / 3 (subject: the request)
    confirm_visit   did this visit happen: 1 yes, 2 no (subject: the visit)
    conversation    a step of the request conversation (no subject: the conversation state holds it)
    checkin         today's 每日问安 call: 1 fine, 9 help (subject: the check-in day); asked when the call
                    is placed, open until the end of her day, so a text of 1 after a missed call answers it
    visit_record    the visitor's record of a visit, one short question at a time (subject: the visit;
                    `answers` holds what she answered so far; services/visit_record_questions.py)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.models import PendingQuestion
from portal.policy import policy
from portal.services.outbox import quiet_hours_end

KINDS = ("refuse", "confirm_request", "rate", "confirm_visit", "conversation", "checkin", "visit_record")


@dataclass(frozen=True)
class Asked:
    kind: str
    subject_id: int | None
    channel: str
    asked_at: datetime
    expired: bool
    answers: dict | None = None


def ask(session: Session, person_id: int, kind: str, now: datetime, subject_id: int | None = None,
        channel: str = "sms", until: datetime | None = None, held_for_quiet_hours: bool = False,
        answers: dict | None = None) -> None:
    """Record that `kind` is now the question this person was asked last (replacing any earlier one)."""
    assert kind in KINDS, kind
    opens = (quiet_hours_end(now) or now) if held_for_quiet_hours else now
    expires = until or opens + timedelta(hours=policy()["messages"].get("question_open_hours", 24))
    row = session.get(PendingQuestion, person_id)
    if row is None:
        row = PendingQuestion(person_id=person_id)
        session.add(row)
    row.kind, row.subject_id, row.channel, row.asked_at, row.expires_at = kind, subject_id, channel, now, expires
    row.answers = dict(answers) if answers is not None else None
    session.flush()


def last_asked(session: Session, person_id: int, now: datetime) -> Asked | None:
    """The question this person was asked last, open or expired (None: nothing asked, or it was answered)."""
    row = session.get(PendingQuestion, person_id)
    if row is None:
        return None
    return Asked(row.kind, row.subject_id, row.channel, row.asked_at, row.expires_at <= now,
                 dict(row.answers) if row.answers is not None else None)


def answered(session: Session, person_id: int) -> None:
    """The question was answered (or its conversation ended): a later digit answers nothing."""
    row = session.get(PendingQuestion, person_id)
    if row is not None:
        session.delete(row)
        session.flush()


def answered_if(session: Session, person_id: int, kind: str, subject_id: int | None) -> None:
    """That question was answered another way (a key on the call): a later digit answers nothing —
    unless another question has been asked since."""
    row = session.get(PendingQuestion, person_id)
    if row is not None and row.kind == kind and row.subject_id == subject_id:
        session.delete(row)
        session.flush()
