"""The outbox: texts and calls are written with the change that causes them and leave after commit.

`enqueue` only adds rows to the caller's session; nothing leaves until the caller commits, and
the sender (`portal.channels.outbox`) delivers them. Opt-out and quiet hours are decided here and
checked again at send time.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.db import utcnow
from portal.models import ContactStatus, ElderProfile, OutboundMessage, Person
from portal.policy import policy
from portal.services.sms_text import SMS_MAX_CHARS, signed, truncate

# Replies to what a person just sent, and login codes they just asked for, are not marketing:
# they go out even after STOP (the provider's own opt-out list still applies).
ALWAYS_ALLOWED_KINDS = frozenset({"login_code", "opt_out_confirmation"})


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_hours_end(now: datetime) -> datetime | None:
    """If `now` is inside the quiet hours, the UTC moment they end; otherwise None."""
    rules = policy()["messages"]
    start, end = _parse_hhmm(rules["quiet_start"]), _parse_hhmm(rules["quiet_end"])
    local = now.astimezone(local_tz())
    local_time = local.time()
    in_quiet = (local_time >= start or local_time < end) if start > end else (start <= local_time < end)
    if not in_quiet:
        return None
    end_day = local.date() if local_time < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=local_tz()).astimezone(now.tzinfo)


def is_stopped(session: Session, phone: str) -> bool:
    status = session.get(ContactStatus, phone)
    return status is not None and status.status == "stopped"


def _is_elder(session: Session, person: Person | None, phone: str) -> bool:
    if person is None:
        person = session.scalar(select(Person).where(Person.phone == phone))
    if person is None:
        return False
    return session.get(ElderProfile, person.id) is not None


def enqueue(
    session: Session,
    to_phone: str,
    body: str,
    *,
    kind: str = "notice",
    person: Person | None = None,
    channel: str = "sms",
    urgent: bool = False,
    elder_quiet_hours: bool | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage | None:
    """Queue a text or call in `session`. Returns None when the person opted out or it was queued before.

    `elder_quiet_hours`: hold a non-urgent message until the quiet hours end. None (the default)
    decides by the recipient: elders get quiet hours, everybody else does not.
    """
    now = now or utcnow()
    if kind not in ALWAYS_ALLOWED_KINDS and is_stopped(session, to_phone):
        return None
    if dedupe_key is not None:
        existing = session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    if elder_quiet_hours is None:
        elder_quiet_hours = not urgent and _is_elder(session, person, to_phone)
    quiet = bool(elder_quiet_hours) and not urgent
    send_at = (quiet_hours_end(now) or now) if quiet else now
    message = OutboundMessage(
        channel=channel,
        to_phone=to_phone,
        person_id=person.id if person else None,
        kind=kind,
        body=truncate(signed(body) if channel == "sms" else body, SMS_MAX_CHARS),
        urgent=urgent,
        quiet_hours=quiet,
        dedupe_key=dedupe_key,
        status="queued",
        attempts=0,
        next_attempt_at=send_at,
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.info.setdefault("outbox_new_ids", []).append(message.id)
    return message
