"""Visits: check-in and check-out at an elder's door, verification, follow-up tasks for workers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.models.people import Person
from portal.types import UTCDateTime

VISIT_METHODS = ("door_qr", "door_code", "sms", "worker", "caller_id")
WELLBEING_FLAGS = ("fell", "unwell", "no_food", "needs_follow_up")
# open → done (checked out, waiting for confirmation) → verified | disputed
VISIT_STATUSES = ("open", "done", "verified", "disputed")


class Visit(Base):
    __tablename__ = "visits"
    # a volunteer's visits of a month (her statement's uncredited minutes) are one index range scan
    __table_args__ = (Index("ix_visits_volunteer_checked_in", "volunteer_id", "checked_in_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    # The service request this visit serves; the foreign key is added when requests are merged.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id", ondelete="SET NULL"), index=True)
    service_type: Mapped[str] = mapped_column(String(16), default="visit")
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(16))
    check_out_method: Mapped[str | None] = mapped_column(String(16))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    counts_for_compliance: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_worker: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_worker_reason: Mapped[str | None] = mapped_column(String(32))
    confirmation_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elder_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    verification_method: Mapped[str | None] = mapped_column(String(16))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    credited_minutes: Mapped[int | None] = mapped_column(Integer)
    uncredited_minutes: Mapped[int] = mapped_column(Integer, default=0)
    uncredited_reason: Mapped[str | None] = mapped_column(String(32))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    volunteer: Mapped[Person] = relationship(foreign_keys=[volunteer_id], lazy="joined")
    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="joined")
    verified_by: Mapped[Person | None] = relationship(foreign_keys=[verified_by_id])


class FollowUp(Base):
    """A task for the community worker: a wellbeing flag from a visit, or a disputed visit."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # wellbeing | disputed | relative
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # by when the worker should have acted (a gas hazard: a day; family not supporting: a week)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="joined")
    visit: Mapped[Visit | None] = relationship()


class VisitRecord(Base):
    """探访记录: what the visitor saw, one choice per heading of the national guidance (see
    services/visit_records.HEADINGS), once per visit."""

    __tablename__ = "visit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), unique=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8), default="web")       # web | sms
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

