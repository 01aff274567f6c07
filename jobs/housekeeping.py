"""Housekeeping: forget form idempotency keys after a day."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from jobs.registry import job
from portal.models import IdempotencyKey

KEEP = timedelta(days=1)  # a day-old page is not resubmitted by a double click


@job("housekeeping.idempotency_keys", "cron", hour=3, minute=15)
def prune_idempotency_keys(session: Session, now: datetime) -> dict:
    """Delete idempotency keys older than a day (running twice deletes nothing more)."""
    removed = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP)).rowcount
    session.commit()
    return {"removed": removed}
