"""Idempotency keys: each rendered form carries one; the first submit claims it, a repeat replays."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.types import UTCDateTime


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)   # endpoint + the form's key
    person_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[int | None] = mapped_column(Integer)                # None while the first is running
    location: Mapped[str | None] = mapped_column(String(2000))
