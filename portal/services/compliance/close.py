"""Period close: when a window has ended, open obligations become missed and the figures are frozen
once into a snapshot per community, street and district."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from portal.models import Area, ComplianceSnapshot, FamilyLink, VisitObligation
from portal.services import family_notices
from portal.services.compliance.figures import Figures, live_figures
from portal.services.compliance.history import OPEN, bulk_status
from portal.services.compliance.periods import is_closed


def close_periods(session: Session, now: datetime) -> dict:
    """Periods whose window has ended: open obligations become missed, figures are frozen once."""
    ended = session.execute(
        select(VisitObligation.period, VisitObligation.cadence).where(VisitObligation.window_end <= now)
        .group_by(VisitObligation.period, VisitObligation.cadence)
    ).all()
    summary = {"closed": [], "missed": 0}
    for period, cadence in ended:
        if is_closed(session, period):
            continue
        # relatives who asked to hear of a missed visit (read before the rows change)
        missing = session.execute(
            select(VisitObligation.id, VisitObligation.elder_id, VisitObligation.window_start,
                   VisitObligation.window_end).join(FamilyLink, and_(
                FamilyLink.elder_id == VisitObligation.elder_id, FamilyLink.status == "approved",
                FamilyLink.notify_visits.is_(True)))
            .where(VisitObligation.period == period, VisitObligation.status.in_(OPEN),
                   VisitObligation.window_end <= now, VisitObligation.cadence != "event")
            .distinct()).all()
        summary["missed"] += bulk_status(
            session, and_(VisitObligation.period == period, VisitObligation.status.in_(OPEN),
                          VisitObligation.window_end <= now), "missed", now, "period ended")
        for obligation_id, elder_id, start, end in missing:
            family_notices.visit_missed(session, elder_id, obligation_id, start, end, now)
        if cadence == "event":
            continue
        snapshot(session, period, now)
        summary["closed"].append(period)
    session.flush()
    return summary


def snapshot(session: Session, period: str, now: datetime) -> None:
    """The period's live figures summed up each community's area path, one row per area."""
    figures = live_figures(session, period)
    if not figures:
        return
    areas = {a.id: a for a in session.scalars(select(Area))}
    per_area: dict[int, Figures] = {}
    for community_id, community_figures in figures.items():
        area = areas[community_id]
        for part in area.path.strip("/").split("/"):
            if part:
                per_area.setdefault(int(part), Figures()).add(community_figures)
    rows = []
    for area_id, f in per_area.items():
        area = areas[area_id]
        parent = areas.get(area.parent_id) if area.parent_id else None
        rows.append({"period": period, "area_id": area_id, "area_level": area.level, "area_name": area.name,
                     "parent_name": parent.name if parent else None, "area_path": area.path, "total": f.total,
                     "due": f.due, "done": f.done, "missed": f.missed, "excused": f.excused, "closed_at": now})
    session.execute(insert(ComplianceSnapshot), rows)
