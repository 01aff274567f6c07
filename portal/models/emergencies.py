"""The state of an emergency (助急): alerted → someone is coming (who) → resolved with an outcome,
or stood down by the elder within a couple of minutes ("按错了"). One row per emergency request."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base
from portal.models.people import Person
from portal.types import UTCDateTime

EMERGENCY_STATES = ("alerted", "coming", "resolved", "stood_down")
EMERGENCY_OUTCOMES = ("visited", "hospital", "false_alarm")


class Emergency(Base):
    __tablename__ = "emergencies"

    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="alerted", server_default="alerted", index=True)
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # every phone the alarm was sent to: a stand-down or an outcome is told to the same people
    alerted_phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    responder_name: Mapped[str | None] = mapped_column(String(80))
    coming_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coming_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    stood_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    responder: Mapped[Person | None] = relationship(foreign_keys=[responder_id])
    resolved_by: Mapped[Person | None] = relationship(foreign_keys=[resolved_by_id])
