"""The outbox: texts and calls are written with the change that causes them and leave after commit.

`enqueue` only adds rows to the caller's session; nothing leaves until the caller commits, and
the sender (`portal.channels.outbox`) delivers them. Opt-out and quiet hours are decided here and
checked again at send time; emergency alerts (EMERGENCY_KIND) pass both, always.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.db import utcnow
from portal.models import (
    PRIORITY_BULK,
    PRIORITY_EMERGENCY,
    PRIORITY_URGENT,
    ContactStatus,
    ElderProfile,
    OutboundMessage,
    Person,
)
from portal.policy import policy
from portal.services.sms_text import SMS_MAX_CHARS, signed, truncate

# Replies to what a person just sent, and login codes they just asked for, are not marketing:
# they go out even after STOP (the provider's own opt-out list still applies).
ALWAYS_ALLOWED_KINDS = frozenset({"login_code", "opt_out_confirmation"})

# An emergency alert (an elder's 救命 / SOS / key 9) reaches everyone on her emergency list: the
# workers, her emergency contacts, her paired volunteers. No filter ever drops or holds it: not
# opt-out (STOP), not quiet hours, not the loop guard, not a rate limit. `enqueue(emergency=True)`
# writes this kind; the sender (portal.channels.outbox) honours it the same way.
EMERGENCY_KIND = "emergency"


# The PostgreSQL channel the sender LISTENs on; a NOTIFY is delivered when the enqueueing commit lands.
OUTBOX_CHANNEL = "linli_outbox"


def priority_for(kind: str, urgent: bool) -> int:
    """The sender's lane: emergency alerts, then login codes and urgent messages, then the rest."""
    if kind == EMERGENCY_KIND:
        return PRIORITY_EMERGENCY
    if urgent or kind == "login_code":
        return PRIORITY_URGENT
    return PRIORITY_BULK


def _wake_sender_on_commit(session: Session) -> None:
    # NOTIFY is transactional: the sender hears it only if (and when) this transaction commits.
    transaction = session.get_transaction()
    if session.info.get("outbox_notified") is transaction or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    session.info["outbox_notified"] = transaction


def opt_out_applies(kind: str) -> bool:
    """Whether a STOP silences a message of `kind`: never an emergency alert, nor a reply or login code."""
    return kind != EMERGENCY_KIND and kind not in ALWAYS_ALLOWED_KINDS


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_hours_end(now: datetime, channel: str = "sms") -> datetime | None:
    """If `now` is inside the quiet hours (for calls, the calls' own), the UTC moment they end; otherwise None."""
    rules = policy()["messages"]
    prefix = "call_quiet" if channel == "call" and "call_quiet_start" in rules else "quiet"
    start, end = _parse_hhmm(rules[f"{prefix}_start"]), _parse_hhmm(rules[f"{prefix}_end"])
    local = now.astimezone(local_tz())
    local_time = local.time()
    in_quiet = (local_time >= start or local_time < end) if start > end else (start <= local_time < end)
    if not in_quiet:
        return None
    end_day = local.date() if local_time < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=local_tz()).astimezone(now.tzinfo)


def call_retry_pauses() -> list[int]:
    """Minutes before each retry of a busy or unanswered call (policy messages.call_retry_minutes)."""
    pauses = policy()["messages"]["call_retry_minutes"]
    return [int(pauses)] * 2 if isinstance(pauses, int) else [int(p) for p in pauses]


def is_stopped(session: Session, phone: str) -> bool:
    status = session.get(ContactStatus, phone)
    return status is not None and status.status == "stopped"


def stopped_among(session: Session, phones) -> set[str]:
    """Which of `phones` sent STOP (e.g. an elder's emergency contacts, for the worker to follow up)."""
    phones = [phone for phone in phones if phone]
    if not phones:
        return set()
    return set(session.scalars(select(ContactStatus.phone).where(ContactStatus.phone.in_(phones),
                                                                ContactStatus.status == "stopped")))


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
    emergency: bool = False,
    elder_quiet_hours: bool | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    sms_fallback: str | None = None,
    about_elder: Person | None = None,
    chain_key: str | None = None,
) -> OutboundMessage | None:
    """Queue a text or call in `session`. Returns None when the person opted out or it was queued before.

    `emergency`: an emergency alert (kind EMERGENCY_KIND, urgent). Nothing filters it: it is queued
    and sent whatever the recipient's opt-out or the quiet hours.
    `elder_quiet_hours`: hold a non-urgent message until the quiet hours end. None (the default)
    decides by the recipient: elders get quiet hours, everybody else does not.
    Calls: `sms_fallback` is texted instead when an answering machine picks up; `about_elder` makes
    an urgent call go to the next person on that elder's list after its last failed try.
    """
    now = now or utcnow()
    if emergency or kind == EMERGENCY_KIND:
        emergency, kind, urgent, elder_quiet_hours = True, EMERGENCY_KIND, True, False
    # Opt-out: never filters an emergency alert (nor ALWAYS_ALLOWED_KINDS).
    if opt_out_applies(kind) and is_stopped(session, to_phone):
        return None
    # Dedupe is idempotence, not a filter: the same alert is not queued twice for one phone and medium.
    if dedupe_key is not None:
        existing = session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    if elder_quiet_hours is None:
        elder_quiet_hours = not urgent and _is_elder(session, person, to_phone)
    # Quiet hours: never hold an emergency alert (nor anything urgent).
    quiet = bool(elder_quiet_hours) and not urgent and not emergency
    send_at = (quiet_hours_end(now, channel) or now) if quiet else now
    message = OutboundMessage(
        channel=channel,
        to_phone=to_phone,
        person_id=person.id if person else None,
        kind=kind,
        body=truncate(signed(body) if channel == "sms" else body, SMS_MAX_CHARS),
        urgent=urgent,
        priority=priority_for(kind, urgent),
        quiet_hours=quiet,
        dedupe_key=dedupe_key,
        sms_fallback=truncate(sms_fallback, SMS_MAX_CHARS) if sms_fallback else None,
        about_elder_id=about_elder.id if about_elder is not None else None,
        chain_key=chain_key,
        status="queued",
        attempts=0,
        next_attempt_at=send_at,
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.info.setdefault("outbox_new_ids", []).append(message.id)
    _wake_sender_on_commit(session)
    return message


def failing_since(session: Session, now: datetime) -> datetime | None:
    """Since when texts and calls have been failing to leave, if for longer than the policy allows
    (messages.failing_banner_minutes): the oldest one still waiting after a failed try, or due and
    never tried (no sender running). Held on purpose (quiet hours, a retry later) is not failing."""
    minutes = policy()["messages"]["failing_banner_minutes"]
    cutoff = now - timedelta(minutes=minutes)
    oldest = session.scalar(
        select(func.min(OutboundMessage.created_at)).where(
            OutboundMessage.status.in_(("queued", "unknown", "sending")),
            OutboundMessage.created_at <= cutoff,
            or_(OutboundMessage.last_error.is_not(None), OutboundMessage.next_attempt_at <= cutoff),
        )
    )
    recently_failed = session.scalar(
        select(func.min(OutboundMessage.created_at)).where(
            OutboundMessage.status == "failed", OutboundMessage.updated_at >= cutoff,
            OutboundMessage.created_at <= cutoff, OutboundMessage.kind != "login_code",
        )
    )
    moments = [moment for moment in (oldest, recently_failed) if moment is not None]
    return min(moments) if moments else None
