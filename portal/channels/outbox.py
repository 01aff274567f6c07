"""Outbound texts and calls: written with the change that causes them, sent after commit.

`enqueue` only adds rows to the caller's session; nothing leaves until the caller commits.
`send_due` claims due rows one at a time (a conditional UPDATE, so two senders never send the
same row), calls the transport, and records the outcome with retries and backoff.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.channels.transport import TransportError
from portal.db import utcnow
from portal.models import MESSAGE_STATUS_ORDER, ContactStatus, OutboundMessage, Person
from portal.policy import policy

# Replies to what a person just sent, and login codes they just asked for, are not marketing:
# they go out even after STOP (the provider's own opt-out list still applies).
ALWAYS_ALLOWED_KINDS = frozenset({"login_code", "opt_out_confirmation"})
SMS_MAX_CHARS = 1600
STALE_SENDING = timedelta(minutes=5)


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_hours_end(now: datetime, tz: str = "Asia/Shanghai") -> datetime | None:
    """If `now` is inside the quiet hours, the UTC moment they end; otherwise None."""
    rules = policy()["messages"]
    start, end = _parse_hhmm(rules["quiet_start"]), _parse_hhmm(rules["quiet_end"])
    local = now.astimezone(ZoneInfo(tz))
    local_time = local.time()
    in_quiet = (local_time >= start or local_time < end) if start > end else (start <= local_time < end)
    if not in_quiet:
        return None
    end_day = local.date() if local_time < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=ZoneInfo(tz)).astimezone(now.tzinfo)


def is_stopped(session: Session, phone: str) -> bool:
    status = session.get(ContactStatus, phone)
    return status is not None and status.status == "stopped"


def enqueue(
    session: Session,
    to_phone: str,
    body: str,
    *,
    kind: str = "notice",
    person: Person | None = None,
    channel: str = "sms",
    urgent: bool = False,
    elder_quiet_hours: bool = False,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    tz: str = "Asia/Shanghai",
) -> OutboundMessage | None:
    """Queue a text or call in `session`. Returns None when the person opted out or it was queued before."""
    now = now or utcnow()
    if kind not in ALWAYS_ALLOWED_KINDS and is_stopped(session, to_phone):
        return None
    if dedupe_key is not None:
        existing = session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    send_at = now
    if elder_quiet_hours and not urgent:
        send_at = quiet_hours_end(now, tz) or now
    message = OutboundMessage(
        channel=channel,
        to_phone=to_phone,
        person_id=person.id if person else None,
        kind=kind,
        body=body[:SMS_MAX_CHARS],
        urgent=urgent,
        dedupe_key=dedupe_key,
        status="queued",
        next_attempt_at=send_at,
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.info.setdefault("outbox_new_ids", []).append(message.id)
    return message


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def _claim(session: Session, message_id: int, now: datetime) -> bool:
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == "queued")
        .values(status="sending", attempts=OutboundMessage.attempts + 1, updated_at=now)
    )
    session.commit()
    return result.rowcount == 1


def _scrub(message: OutboundMessage) -> None:
    if message.kind == "login_code":
        message.body = "[login code]"


def send_one(session: Session, transport, message: OutboundMessage, now: datetime) -> None:
    """Send a claimed message and record the result."""
    max_attempts = policy()["messages"]["max_attempts"]
    if message.kind == "login_code" and now - message.created_at > timedelta(minutes=5):
        message.status, message.last_error = "failed", "expired before it could be sent"
        _scrub(message)
        session.commit()
        return
    try:
        if message.channel == "call" and message.body.startswith(("https://", "http://")):
            # A call whose body is a URL is answered by the TwiML served there (a Gather, say).
            sid = transport.place_call(message.to_phone, "", kind=message.kind, twiml_url=message.body)
        elif message.channel == "call":
            sid = transport.place_call(message.to_phone, message.body, kind=message.kind)
        else:
            sid = transport.send_sms(message.to_phone, message.body, kind=message.kind)
    except TransportError as exc:
        message.last_error = str(exc)[:500]
        if exc.retryable and message.attempts < max_attempts:
            message.status = "queued"
            message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.status = "failed"
            _scrub(message)
        session.commit()
        return
    message.status = "sent"
    message.provider_sid = sid
    message.sent_at = now
    message.last_error = None
    _scrub(message)
    session.commit()


def send_due(session: Session, transport, now: datetime | None = None, ids: list[int] | None = None,
             limit: int = 200) -> int:
    """Send queued messages that are due (or just `ids`). Returns how many were attempted."""
    now = now or utcnow()
    session.execute(  # a sender that died mid-send leaves "sending" rows; give them back
        update(OutboundMessage)
        .where(OutboundMessage.status == "sending", OutboundMessage.updated_at < now - STALE_SENDING)
        .values(status="queued")
    )
    query = (
        select(OutboundMessage.id)
        .where(OutboundMessage.status == "queued", OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.urgent.desc(), OutboundMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboundMessage.id.in_(ids))
    due_ids = list(session.scalars(query))
    session.commit()
    attempted = 0
    for message_id in due_ids:
        if not _claim(session, message_id, now):
            continue
        message = session.get(OutboundMessage, message_id)
        send_one(session, transport, message, now)
        attempted += 1
    return attempted


def apply_status(session: Session, provider_sid: str, new_status: str) -> bool:
    """Move a message's status forward from a provider callback; never backwards."""
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid))
    if message is None or new_status not in MESSAGE_STATUS_ORDER:
        return False
    if MESSAGE_STATUS_ORDER[new_status] <= MESSAGE_STATUS_ORDER.get(message.status, 0):
        return False
    message.status = new_status
    return True
