"""What a relative with an approved link may see of an elder's month: her visits (with the visitor's
name), her own requests and emergencies (and how they ended), whether the month's visit is done, and
her 每日问安 answers day by day when she has the daily call."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import CheckInDay, DailyCheckIn, FamilyLink, ServiceRequest, Visit, VisitObligation, VisitRecord
from portal.services.compliance.periods import local_date, month_window


@dataclass
class ElderMonth:
    period: str
    visits: list[Visit]
    requests: list[ServiceRequest]
    emergencies: list[ServiceRequest]
    obligations: list[VisitObligation]
    records: list[VisitRecord]
    daily_call: DailyCheckIn | None = None     # her 每日问安, when she has it
    checkins: list[CheckInDay] = field(default_factory=list)  # each day's answer this month


def approved_link(session: Session, family_id: int, elder_id: int) -> FamilyLink | None:
    """The relative's approved link to this elder: without one she sees nothing of her."""
    return session.scalar(select(FamilyLink).where(FamilyLink.family_id == family_id,
                                                   FamilyLink.elder_id == elder_id, FamilyLink.status == "approved"))


def elder_month(session: Session, elder_id: int, period: str, now: datetime) -> ElderMonth:
    window = month_window(period, now)
    visits = list(session.scalars(select(Visit).where(
        Visit.elder_id == elder_id, Visit.checked_in_at >= window.start, Visit.checked_in_at < window.end,
    ).order_by(Visit.checked_in_at)))
    asked = list(session.scalars(select(ServiceRequest).where(
        ServiceRequest.elder_id == elder_id, ServiceRequest.created_at >= window.start,
        ServiceRequest.created_at < window.end,
    ).order_by(ServiceRequest.created_at)))
    obligations = list(session.scalars(select(VisitObligation).where(
        VisitObligation.elder_id == elder_id, VisitObligation.window_start < window.end,
        VisitObligation.window_end > window.start,
    ).order_by(VisitObligation.window_start)))
    records = list(session.scalars(select(VisitRecord).where(
        VisitRecord.elder_id == elder_id, VisitRecord.created_at >= window.start, VisitRecord.created_at < window.end,
    ).order_by(VisitRecord.created_at)))
    first, last = local_date(window.start), local_date(window.end - timedelta(seconds=1))
    checkins = list(session.scalars(select(CheckInDay).where(
        CheckInDay.elder_id == elder_id, CheckInDay.day >= first, CheckInDay.day <= last,
    ).order_by(CheckInDay.day.desc())))
    return ElderMonth(period=period, visits=visits, requests=[r for r in asked if r.service != "emergency"],
                      emergencies=[r for r in asked if r.service == "emergency"], obligations=obligations,
                      records=records, daily_call=session.get(DailyCheckIn, elder_id), checkins=checkins)
