"""Service requests, their timeline, volunteer declines, conversation state and voice turns."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.models.people import Person
from portal.types import UTCDateTime

REQUEST_STATUSES = ("open", "accepted", "in_progress", "done", "confirmed", "cancelled", "expired", "refused")
ACTIVE_STATUSES = ("open", "accepted", "in_progress", "done")
CLOSED_STATUSES = ("confirmed", "cancelled", "expired", "refused")
RATINGS = (1, 2, 3)  # the three faces: 1 unhappy, 2 so-so, 3 happy


class ServiceRequest(Base):
    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    placed_via: Mapped[str] = mapped_column(String(8))  # web | sms | voice | worker
    service: Mapped[str] = mapped_column(String(16), index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    urgent: Mapped[bool] = mapped_column(default=False, server_default="0")
    refusal_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    rating: Mapped[int | None] = mapped_column(Integer)
    # who pays the visit with time-bank minutes (chosen on the check page); None: the community mints.
    # A plain column (no foreign key) so the migration is a plain ADD COLUMN on SQLite too; the visit
    # that serves the request copies it into visits.paid_by_id, which has its key.
    paid_by_id: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="joined")
    placed_by: Mapped[Person | None] = relationship(foreign_keys=[placed_by_id], lazy="joined")
    volunteer: Mapped[Person | None] = relationship(foreign_keys=[volunteer_id], lazy="joined")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="all, delete-orphan"
    )

    @property
    def placed_by_family(self) -> bool:
        return self.placed_by_id is not None and self.placed_by_id != self.elder_id and self.placed_via != "worker"


class RequestEvent(Base):
    """The timeline of a request: one row per thing that happened, never edited."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(String(200))

    request: Mapped[ServiceRequest] = relationship(back_populates="events")
    actor: Mapped[Person | None] = relationship(lazy="joined")


class RequestDecline(Base):
    """A volunteer said no to a request: no more alerts about it to them."""

    __tablename__ = "request_declines"
    __table_args__ = (UniqueConstraint("request_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationState(Base):
    """Where a person is in a conversation, per channel. See portal/conversation/engine.py."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("person_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class VoiceTurn(Base):
    """One answered voice webhook: a Twilio retry of the same step gets the same answer, acting once."""

    __tablename__ = "voice_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingQuestion(Base):
    """The last question Linli put to a person (by text or call) and until when it is open.

    One row per person: asking anything new replaces it, so a bare "1" answers exactly the
    question asked last ("kind" says which: a family order to refuse, a visit or a finished
    request to confirm, a rating, or the request conversation's own step).
    """

    __tablename__ = "pending_questions"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # a run of short questions (the visit record by text or call): what was answered so far
    answers: Mapped[dict | None] = mapped_column(JSON)
