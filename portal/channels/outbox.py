"""The outbox sender: delivers the rows `portal.services.outbox` queued, after their commit.

`claim_next` takes one due row for this sender — lane by lane: emergency alerts, then login codes
and urgent messages, then the rest — with `FOR UPDATE SKIP LOCKED` on PostgreSQL and a conditional
UPDATE on SQLite, so several senders never send the same row. `send_one` checks opt-out and quiet
hours again at send time (neither ever stops an emergency alert), calls the transport, and records
the outcome: retried with backoff on 5xx and 429, failed on other 4xx. A request that timed out at
the provider may have been delivered: it becomes "unknown" and is looked up at the provider before
it is ever sent again (a login code is never sent twice). Calls that are busy or not answered (the
provider's status callback) are placed again a bounded number of times. A status callback that
arrives before the sid is saved is kept and applied when it is.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.channels.transport import TransportError
from portal.db import utcnow
from portal.models import MESSAGE_STATUS_ORDER, EarlyStatusCallback, OutboundMessage, Person
from portal.policy import policy
from portal.services.calls import after_last_try
from portal.services.outbox import EMERGENCY_KIND, call_retry_pauses, is_stopped, opt_out_applies, quiet_hours_end

log = logging.getLogger("linli.outbox")

STALE_SENDING = timedelta(minutes=5)
CALL_RETRY_STATUSES = frozenset({"busy", "no-answer"})
CALL_GAVE_UP_STATUSES = frozenset({"busy", "no-answer", "machine", "failed"})


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


SENDABLE = ("queued", "unknown")


def _due_query(now: datetime, ids: list[int] | None, max_priority: int | None, status: str = "queued"):
    query = (
        select(OutboundMessage.id, OutboundMessage.priority, OutboundMessage.next_attempt_at)
        .where(OutboundMessage.status == status, OutboundMessage.next_attempt_at <= now)
        # Lane by lane, along the index on (status, priority, next_attempt_at): a wave of reminders
        # never keeps an emergency alert or a login code waiting.
        .order_by(OutboundMessage.priority, OutboundMessage.next_attempt_at, OutboundMessage.id)
    )
    if ids is not None:
        query = query.where(OutboundMessage.id.in_(ids))
    if max_priority is not None:
        query = query.where(OutboundMessage.priority <= max_priority)
    return query


def claim_batch(session: Session, now: datetime, limit: int, ids: list[int] | None = None,
                max_priority: int | None = None) -> list[OutboundMessage]:
    """Take up to `limit` of the most urgent due messages for this sender (marked "sending",
    committed once for all of them), most urgent first; [] when nothing is due."""
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(20):  # on SQLite another sender may win the rows between the SELECT and the UPDATE
        candidates = []
        for status in SENDABLE:  # one index range each (an IN would sort the whole backlog)
            query = _due_query(now, ids, max_priority, status).limit(limit)
            if postgres:
                query = query.with_for_update(skip_locked=True, of=OutboundMessage)
            candidates.extend((row.priority, row.next_attempt_at, row.id) for row in session.execute(query))
        if not candidates:
            session.commit()
            return []
        chosen = [message_id for _priority, _at, message_id in sorted(candidates)[:limit]]
        claimed = set(session.scalars(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(chosen), OutboundMessage.status.in_(SENDABLE))
            .values(status="sending", attempts=OutboundMessage.attempts + 1, updated_at=now)
            .returning(OutboundMessage.id)
            .execution_options(synchronize_session=False)
        ))
        session.commit()
        if claimed:
            loaded = {message.id: message for message in session.scalars(
                select(OutboundMessage).where(OutboundMessage.id.in_(claimed))
                .execution_options(populate_existing=True))}
            return [loaded[message_id] for message_id in chosen if message_id in loaded]
    return []


def claim_next(session: Session, now: datetime, ids: list[int] | None = None,
               max_priority: int | None = None) -> OutboundMessage | None:
    """Take the most urgent due message for this sender (marked "sending", committed), or None."""
    claimed = claim_batch(session, now, 1, ids, max_priority)
    return claimed[0] if claimed else None


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


UNKNOWN_PREFIX = "unknown: "
LOGIN_CODE_LOOKUP_AFTER = timedelta(seconds=10)


def _record_sent(session: Session, message: OutboundMessage, sid: str, now: datetime, commit: bool = True) -> None:
    message.status = "sent"
    message.provider_sid = sid
    message.sent_at = now
    message.last_error = None
    _scrub(message)
    if commit:
        session.commit()
        apply_early_callbacks(session, [sid], now)


def apply_early_callbacks(session: Session, sids: list[str], now: datetime) -> None:
    """After the sids are committed: callbacks the provider sent before we saved them are applied.
    Checked after our commit, as the callback side checks after its own: neither can miss the other."""
    if not sids:
        return
    early_ones = list(session.scalars(select(EarlyStatusCallback).where(EarlyStatusCallback.provider_sid.in_(sids))))
    for early in early_ones:  # the provider's callback beat us to it: apply it now
        apply_status(session, early.provider_sid, early.status, now)
        session.delete(early)
    if early_ones:
        session.commit()


def _look_up_unknown(session: Session, transport, message: OutboundMessage, now: datetime) -> bool:
    """A message whose last try timed out: True when it was handled (found, held, or given up)."""
    finder = getattr(transport, "find_sent", None)
    since = message.created_at
    try:
        sid = finder(message.channel, message.to_phone, message.body, since - timedelta(minutes=1)) if finder else None
    except TransportError as exc:  # cannot ask now: stay unknown, ask again later, never resend blindly
        message.status, message.next_attempt_at = "unknown", now + backoff(message.attempts)
        message.last_error = f"{UNKNOWN_PREFIX}{exc}"[:500]
        session.commit()
        return True
    if sid is not None:
        try:
            _record_sent(session, message, sid, now)
        except IntegrityError:  # the sid is already ours: another row recorded it
            session.rollback()
        return True
    if message.kind == "login_code":
        # Not found, but a login code is never sent twice: the person asks for a new one.
        message.status, message.last_error = "failed", "timed out at the provider; not sent again"
        _scrub(message)
        session.commit()
        return True
    return False  # the provider has no such message: send it


def _done(session: Session, commit: bool) -> None:
    if commit:
        session.commit()


def send_one(session: Session, transport, message: OutboundMessage, now: datetime, commit: bool = True,
             stopped: set[str] | None = None) -> str | None:
    """Send a claimed message and record the result; the provider's sid when it was sent.

    `commit=False` (the sender's batches): the outcome is left in the session for one commit after
    the batch (a crash before it leaves the rows "sending": looked up, never sent blindly again).
    `stopped`: the batch's recipients who opted out, read once for the batch."""
    if (message.last_error or "").startswith(UNKNOWN_PREFIX):
        if commit is False:
            session.commit()  # a lookup commits on its own: the batch's outcomes go first
        if _look_up_unknown(session, transport, message, now):
            return None
    if message.kind == "login_code" and now - message.created_at > timedelta(minutes=5):
        message.status, message.last_error = "failed", "expired before it could be sent"
        _scrub(message)
        _done(session, commit)
        return None
    emergency = message.kind == EMERGENCY_KIND
    # Opt-out: never stops an emergency alert (opt_out_applies is False for EMERGENCY_KIND).
    if opt_out_applies(message.kind) and (message.to_phone in stopped if stopped is not None
                                          else is_stopped(session, message.to_phone)):
        # STOP arrived after this was queued: it never leaves.
        message.status, message.last_error = "opted_out", "the recipient opted out"
        _done(session, commit)
        return None
    # Quiet hours: never hold an emergency alert (nor anything urgent).
    quiet_end = quiet_hours_end(now, message.channel) if message.quiet_hours and not message.urgent and not emergency else None
    if quiet_end is not None:
        # A retry (or a late sender) landed inside the quiet hours: wait, without using up an attempt.
        message.status, message.next_attempt_at = "queued", quiet_end
        message.attempts = max(message.attempts - 1, 0)
        _done(session, commit)
        return None
    try:
        if message.channel == "call" and message.body.startswith(("https://", "http://", "/twilio/")):
            # A call whose body is a URL (or a path on Linli) is answered by the TwiML served there.
            url = message.body if message.body.startswith("http") else getattr(transport, "public_url", "") + message.body
            sid = transport.place_call(message.to_phone, "", kind=message.kind, twiml_url=url,
                                       machine_detection=bool(message.sms_fallback))
        elif message.channel == "call":
            person = session.get(Person, message.person_id) if message.person_id else None
            sid = transport.place_call(message.to_phone, message.body, kind=message.kind,
                                       locale=person.locale if person else None,
                                       machine_detection=bool(message.sms_fallback))
        else:
            sid = transport.send_sms(message.to_phone, message.body, kind=message.kind)
    except TransportError as exc:
        if exc.maybe_sent:
            # Timed out at the provider: perhaps delivered. Look it up before any retry.
            message.status, message.next_attempt_at = "unknown", now + backoff(message.attempts)
            message.last_error = f"{UNKNOWN_PREFIX}{exc}"[:500]
            if message.kind == "login_code":  # decide soon whether the code went out
                message.next_attempt_at = now + LOGIN_CODE_LOOKUP_AFTER
        else:
            _retry_or_fail(message, str(exc), exc.retryable, now)
        _done(session, commit)
        return None
    except Exception as exc:  # a bug or an unexpected provider answer: keep the message, try later
        log.exception("sending message %s failed unexpectedly", message.id)
        _retry_or_fail(message, f"unexpected error: {type(exc).__name__}", True, now)
        _done(session, commit)
        return None
    _record_sent(session, message, sid, now, commit)
    return sid


def release_stale(session: Session, now: datetime) -> int:
    """A sender that died mid-send leaves "sending" rows: they may have gone out, so look them up."""
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == "sending", OutboundMessage.updated_at < now - STALE_SENDING)
        .values(status="unknown", last_error=f"{UNKNOWN_PREFIX}the sender stopped while sending")
    )
    session.commit()
    return result.rowcount


def send_due(session: Session, transport, now: datetime | None = None, ids: list[int] | None = None,
             limit: int = 200, pace=None) -> int:
    """Send due messages (or just `ids`), most urgent first. Returns how many were attempted.

    `pace`: called before each send (the provider's token bucket); None sends without waiting.
    """
    now = now or utcnow()
    release_stale(session, now)
    attempted = 0
    while attempted < limit:
        message = claim_next(session, now, ids=ids)
        if message is None:
            break
        if pace is not None:
            pace()
        send_one(session, transport, message, now)
        attempted += 1
    return attempted


def _earlier_than(status: str) -> list[str]:
    rank = MESSAGE_STATUS_ORDER[status]
    return [name for name, order in MESSAGE_STATUS_ORDER.items() if order < rank]


def apply_status(session: Session, provider_sid: str, new_status: str, now: datetime | None = None,
                 answered_by: str = "") -> bool:
    """Move a message's status forward from a provider callback; never backwards.

    Calls: busy or not answered is placed again (a new call, a new sid) after each pause of
    `call_retry_minutes`; an answering machine (Twilio's AnsweredBy) on a reminder call ends it as
    "machine". After the last try `services.calls.after_last_try` texts the reminder instead or
    calls the next person on the elder's list. Returns True when something changed.
    """
    now = now or utcnow()
    new_status = (new_status or "").strip().lower()
    if not provider_sid or new_status not in MESSAGE_STATUS_ORDER:
        return False
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid))
    if message is None:
        return False
    outcome = new_status
    if message.channel == "call" and new_status == "completed" and answered_by.startswith(("machine", "fax")):
        # A machine is nobody: a reminder becomes a text; an urgent call counts as unanswered.
        outcome = "machine" if message.sms_fallback and not message.urgent else "no-answer"
    pauses = call_retry_pauses()
    if message.channel == "call" and outcome in CALL_RETRY_STATUSES and message.attempts <= len(pauses):
        result = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id, OutboundMessage.provider_sid == provider_sid,
                   OutboundMessage.status.in_(_earlier_than(outcome)))
            .values(status="queued", provider_sid=None, last_error=outcome, updated_at=now,
                    next_attempt_at=now + timedelta(minutes=pauses[message.attempts - 1]))
            .execution_options(synchronize_session=False)
        )
        session.expire(message)
        return result.rowcount == 1
    # One conditional UPDATE: two callbacks racing each other still only move forward.
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.provider_sid == provider_sid,
               OutboundMessage.status.in_(_earlier_than(outcome)))
        .values(status=outcome, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(message)
    if result.rowcount == 1 and message.channel == "call" and outcome in CALL_GAVE_UP_STATUSES:
        after_last_try(session, message, outcome, now)
    return result.rowcount == 1


def receive_status(session: Session, provider_sid: str, new_status: str, now: datetime | None = None,
                   answered_by: str = "") -> bool:
    """A provider status callback, committed. One for a sid not saved yet (Twilio can call back
    before `create` has answered us) is kept and applied when the sender saves the sid."""
    now = now or utcnow()
    new_status = (new_status or "").strip().lower()
    if not provider_sid or new_status not in MESSAGE_STATUS_ORDER:
        return False
    if apply_status(session, provider_sid, new_status, now, answered_by):
        session.commit()
        return True
    if session.scalar(select(OutboundMessage.id).where(OutboundMessage.provider_sid == provider_sid)) is not None:
        session.rollback()
        return False  # known, and the status would not move forward
    early = session.get(EarlyStatusCallback, provider_sid)
    if early is None:
        session.add(EarlyStatusCallback(provider_sid=provider_sid, status=new_status, received_at=now))
    elif MESSAGE_STATUS_ORDER[new_status] > MESSAGE_STATUS_ORDER.get(early.status, -1):
        early.status, early.received_at = new_status, now
    try:
        session.commit()
    except IntegrityError:  # the same early callback twice at once
        session.rollback()
    # The sender may have saved the sid meanwhile (it checks kept callbacks after its own commit).
    if apply_status(session, provider_sid, new_status, now, answered_by):
        session.execute(delete(EarlyStatusCallback).where(EarlyStatusCallback.provider_sid == provider_sid))
        session.commit()
        return True
    return False


def forget_early_callbacks(session: Session, now: datetime) -> int:
    """Callbacks kept for a day and never matched belong to no message of ours."""
    result = session.execute(delete(EarlyStatusCallback).where(EarlyStatusCallback.received_at < now - timedelta(days=1)))
    return result.rowcount
