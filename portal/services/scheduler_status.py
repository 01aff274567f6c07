"""Is the scheduler alive? It writes a heartbeat row every minute (jobs.runner.beat); web pages and
metrics read it here."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.models import SchedulerHeartbeat
from portal.policy import policy

HEARTBEAT = "scheduler"


def scheduler_silent(session: Session, now: datetime, minutes: int | None = None) -> bool:
    """No heartbeat for more than `minutes` (default: the policy's heartbeat_silent_minutes), or never one."""
    if minutes is None:
        minutes = policy()["compliance"]["heartbeat_silent_minutes"]
    row = session.get(SchedulerHeartbeat, HEARTBEAT)
    return row is None or row.beat_at < now - timedelta(minutes=minutes)
