"""The outbox sender: delivers the rows `portal.services.outbox` queued, after their commit.

`send_due` claims due rows one at a time (a conditional UPDATE, so two senders never send the
same row), emergency alerts first, checks opt-out and quiet hours again at send time (neither ever
stops an emergency alert), calls the transport, and records
the outcome: retried with backoff on 5xx, 429 and time-outs, failed on other 4xx. Calls that are
busy or not answered (the provider's status callback) are placed again a bounded number of times.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from portal.channels.transport import TransportError
from portal.db import utcnow
from portal.models import MESSAGE_STATUS_ORDER, OutboundMessage
from portal.policy import policy
from portal.services.outbox import EMERGENCY_KIND, is_stopped, opt_out_applies, quiet_hours_end

log = logging.getLogger("linli.outbox")

STALE_SENDING = timedelta(minutes=5)
CALL_RETRY_STATUSES = frozenset({"busy", "no-answer"})


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


def _retry_or_fail(message: OutboundMessage, error: str, retryable: bool, now: datetime) -> None:
    message.last_error = error[:500]
    if retryable and message.attempts < policy()["messages"]["max_attempts"]:
        message.status = "queued"
        message.next_attempt_at = now + backoff(message.attempts)
    else:
        message.status = "failed"
        _scrub(message)


def send_one(session: Session, transport, message: OutboundMessage, now: datetime) -> None:
    """Send a claimed message and record the result."""
    if message.kind == "login_code" and now - message.created_at > timedelta(minutes=5):
        message.status, message.last_error = "failed", "expired before it could be sent"
        _scrub(message)
        session.commit()
        return
    emergency = message.kind == EMERGENCY_KIND
    # Opt-out: never stops an emergency alert (opt_out_applies is False for EMERGENCY_KIND).
    if opt_out_applies(message.kind) and is_stopped(session, message.to_phone):
        # STOP arrived after this was queued: it never leaves.
        message.status, message.last_error = "opted_out", "the recipient opted out"
        session.commit()
        return
    # Quiet hours: never hold an emergency alert (nor anything urgent).
    quiet_end = quiet_hours_end(now) if message.quiet_hours and not message.urgent and not emergency else None
    if quiet_end is not None:
        # A retry (or a late sender) landed inside the quiet hours: wait, without using up an attempt.
        message.status, message.next_attempt_at = "queued", quiet_end
        message.attempts = max(message.attempts - 1, 0)
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
        _retry_or_fail(message, str(exc), exc.retryable, now)
        session.commit()
        return
    except Exception as exc:  # a bug or an unexpected provider answer: keep the message, try later
        log.exception("sending message %s failed unexpectedly", message.id)
        _retry_or_fail(message, f"unexpected error: {type(exc).__name__}", True, now)
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
        # Emergency alerts first, then anything urgent: the batch limit never keeps an alert waiting.
        .order_by(case((OutboundMessage.kind == EMERGENCY_KIND, 0), else_=1), OutboundMessage.urgent.desc(),
                  OutboundMessage.id)
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
        session.refresh(message)
        send_one(session, transport, message, now)
        attempted += 1
    return attempted


def _earlier_than(status: str) -> list[str]:
    rank = MESSAGE_STATUS_ORDER[status]
    return [name for name, order in MESSAGE_STATUS_ORDER.items() if order < rank]


def apply_status(session: Session, provider_sid: str, new_status: str, now: datetime | None = None) -> bool:
    """Move a message's status forward from a provider callback; never backwards.

    A call that was busy or not answered is queued again (a new call, a new sid) until
    `call_max_attempts` calls were placed. Returns True when something changed.
    """
    now = now or utcnow()
    new_status = (new_status or "").strip().lower()
    if not provider_sid or new_status not in MESSAGE_STATUS_ORDER:
        return False
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid))
    if message is None:
        return False
    rules = policy()["messages"]
    if (message.channel == "call" and new_status in CALL_RETRY_STATUSES
            and message.attempts < rules["call_max_attempts"]):
        result = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id, OutboundMessage.provider_sid == provider_sid,
                   OutboundMessage.status.in_(_earlier_than(new_status)))
            .values(status="queued", provider_sid=None, last_error=new_status, updated_at=now,
                    next_attempt_at=now + timedelta(minutes=rules["call_retry_minutes"]))
            .execution_options(synchronize_session=False)
        )
    else:
        # One conditional UPDATE: two callbacks racing each other still only move forward.
        result = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.provider_sid == provider_sid,
                   OutboundMessage.status.in_(_earlier_than(new_status)))
            .values(status=new_status, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    session.expire(message)
    return result.rowcount == 1
