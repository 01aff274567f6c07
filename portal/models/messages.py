"""The outbox of texts and calls, and each phone's contact status."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.types import UTCDateTime

# Status only moves forward: a late "sent" callback never overrides "delivered".
MESSAGE_STATUS_ORDER = {
    "queued": 0,
    "sending": 1,
    # The provider did not answer in time: it may have been sent. Looked up before any retry.
    "unknown": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "busy": 3,
    "no-answer": 3,
    "completed": 3,
    "canceled": 3,
    # Not sent because the phone opted out (STOP / 退订) after the message was queued.
    "opted_out": 3,
    # A call an answering machine picked up (Twilio's MachineDetection); a reminder is texted instead.
    "machine": 3,
}


# The sender's lanes: an emergency alert first, then login codes and other urgent messages, then the
# rest (reminder waves). `priority` is written by `enqueue` and read by the sender's claim.
PRIORITY_EMERGENCY, PRIORITY_URGENT, PRIORITY_BULK = 0, 1, 2


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_due", "status", "priority", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms | call
    to_phone: Mapped[str] = mapped_column(String(20), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="notice")  # login_code, notice, urgent, reminder…
    body: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Held back during the elder quiet hours (21:00–08:00), also when a retry falls inside them.
    quiet_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A key that makes enqueueing idempotent (e.g. "reminder:obligation:17:day10").
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    priority: Mapped[int] = mapped_column(SmallInteger, default=PRIORITY_BULK, server_default=str(PRIORITY_BULK))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Calls: what to text instead when an answering machine picks up (None: no detection asked).
    sms_fallback: Mapped[str | None] = mapped_column(Text)
    # Urgent calls about an elder: when the last try fails, the next person on her list is called;
    # every call of that chain shares `chain_key`, so nobody on the list is called twice.
    about_elder_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    chain_key: Mapped[str | None] = mapped_column(String(64), index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ContactStatus(Base):
    """Opt-out state per phone (STOP / 退订), checked before every send."""

    __tablename__ = "contact_statuses"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | stopped
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EarlyStatusCallback(Base):
    """A provider status callback that arrived before the sender saved the message's sid.

    Twilio may call back before `messages.create` has returned to us; the status is kept here and
    applied when the sid is recorded.
    """

    __tablename__ = "early_status_callbacks"

    provider_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
