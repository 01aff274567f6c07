"""Inbound text messages: one row per provider message id, so a replayed webhook acts once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.types import UTCDateTime

# handled: dispatched to the inbound handlers; looped: a burst of identical texts, stored without a reply;
# error: a handler failed, the sender got an apology and the message is kept for a person to read.
INBOUND_STATUSES = ("handled", "looped", "error")


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_from_phone_received_at", "from_phone", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)  # Twilio's MessageSid
    from_phone: Mapped[str] = mapped_column(String(32))  # E.164 when it parses, else as received
    to_phone: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="handled")
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
