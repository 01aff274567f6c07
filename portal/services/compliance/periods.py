"""Periods and their windows: which month, week or quarter a moment falls in, in local time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.i18n import _l
from portal.models import ComplianceSnapshot
from portal.policy import policy
from portal.services import DomainError

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_tz()).astimezone(timezone.utc)


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_tz()).date()


@dataclass(frozen=True)
class Window:
    period: str
    cadence: str
    start: datetime
    due: datetime
    end: datetime


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window_for(cadence: str, now: datetime, tier: str | None = None) -> Window:
    """The period containing `now` (local time) for a cadence, with its window in UTC."""
    today = local_date(now)
    if cadence == "monthly":
        start = today.replace(day=1)
        end = _add_months(start, 1)
        key = f"{start.year}-{start.month:02d}"
        due_day = (policy()["tiers"].get(tier or "", {}) or {}).get("due_day")
        due = start + timedelta(days=due_day) if due_day else end
    elif cadence == "weekly":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
        iso = start.isocalendar()
        key = f"{iso.year}-W{iso.week:02d}"
        due = end
    elif cadence == "quarterly":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        end = _add_months(start, 3)
        key = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        due = end - timedelta(days=14)
    else:
        raise ValueError(f"unknown cadence {cadence!r}")
    return Window(key, cadence, local_midnight(start), local_midnight(due), local_midnight(end))


def month_window(period: str, now: datetime | None = None) -> Window:
    """A month asked for as "YYYY-MM": a clear error when malformed or in the future."""
    match = MONTH_RE.match((period or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError(_l("Give the month as YYYY-MM, for example 2026-11."), field="period")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if now is not None and first > local_date(now):
        raise DomainError(_l("%(period)s has not started yet.", period=period), field="period")
    return window_for("monthly", local_midnight(first), "special_hardship")


def _shift_month(period: str, months: int) -> str:
    first = _add_months(date(int(period[:4]), int(period[5:7]), 1), months)
    return f"{first.year}-{first.month:02d}"


def previous_month(period: str) -> str:
    return _shift_month(period, -1)


def next_month(period: str) -> str:
    return _shift_month(period, 1)


def current_month(now: datetime) -> str:
    today = local_date(now)
    return f"{today.year}-{today.month:02d}"


def is_closed(session: Session, period: str) -> bool:
    return session.scalar(select(ComplianceSnapshot.id).where(ComplianceSnapshot.period == period).limit(1)) is not None
