"""每日问安: place the daily calls that are due, retry once, tell people about a miss."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.services.checkins import run_checkins


@job("daily-checkins", "interval", description="Place the 每日问安 calls that are due; retry; tell people", minutes=5)
def daily_checkins(session: Session, now: datetime) -> dict:
    return run_checkins(session, now)
