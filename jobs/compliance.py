"""Scheduled jobs of visit compliance. Thin: each calls one service function."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.services import compliance


@job("plan-visits", "cron", hour=0, minute=10)
def plan_visits(session: Session, now: datetime) -> dict:
    """Plan this period's visit obligations for every elder (idempotent)."""
    return compliance.plan_visits(session, now)


@job("visit-reminders", "cron", hour=9, minute=30)
def visit_reminders(session: Session, now: datetime) -> dict:
    """Remind visitors, tell workers, reassign and tell officers along the escalation ladder."""
    return compliance.run_escalation(session, now)


@job("close-period", "cron", hour=0, minute=30)
def close_period(session: Session, now: datetime) -> dict:
    """Close ended periods (the month on the 1st): open visits become missed, figures are frozen."""
    return compliance.close_periods(session, now)


@job("forecast-ranks", "cron", minute=7)
def forecast_ranks(session: Session, now: datetime) -> dict:
    """Rank this month's open visits for the forecast and count the officer pages' figures, once an hour."""
    return compliance.refresh_forecast_ranks(session, now)
