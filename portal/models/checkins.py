"""每日问安: a daily call for elders living alone, and each day's answer."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.types import UTCDateTime

# calling: today's call(s) are out; ok: she pressed or texted 1; emergency: she pressed 9;
# missed: no answer after the retry (her volunteer and family were texted).
CHECKIN_STATUSES = ("calling", "ok", "emergency", "missed")


class DailyCheckIn(Base):
    """An elder's opt-in to the daily call, at the local time she chose."""

    __tablename__ = "daily_checkins"

    elder_id: Mapped[int] = mapped_column(ForeignKey("elder_profiles.person_id", ondelete="CASCADE"),
                                          primary_key=True)
    call_time: Mapped[str] = mapped_column(String(5), default="09:00")  # HH:MM, local time
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    opted_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    elder = relationship("ElderProfile")


class CheckInDay(Base):
    """One elder's 问安 on one local day: the calls made, her answer, and who saw her after a miss."""

    __tablename__ = "checkin_days"
    __table_args__ = (UniqueConstraint("elder_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elder_profiles.person_id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="calling")
    calls: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    first_call_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_call_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_via: Mapped[str | None] = mapped_column(String(8))  # call | sms
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    officer_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    elder = relationship("ElderProfile")
