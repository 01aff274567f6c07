"""The monthly visit rate over the last months in a viewer's communities."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import ComplianceSnapshot
from portal.services.compliance.figures import Figures, among, live_figures
from portal.services.compliance.periods import current_month, previous_month


def trend(session: Session, community_ids: list[int], now: datetime, months: int = 12,
          current: Figures | None = None) -> list[dict]:
    """The monthly rate over the last `months` months (closed months from snapshots; the others live).
    `current`: this month's figures when the caller has them already (the dashboard's own rows)."""
    this_month = current_month(now)
    keys = [this_month]
    for _ in range(months - 1):
        keys.append(previous_month(keys[-1]))
    keys.reverse()
    # Closed months from the communities' snapshots in one grouped query (scoped like every officer
    # read, so a replica or a district's own partition can answer it): a month with snapshots of these
    # communities is closed for them. The others are counted live (this month: `current` when given).
    frozen = _snapshot_totals(session, set(keys), community_ids)
    result = []
    for key in keys:
        if key in frozen:
            total = frozen[key]
        elif key == this_month and current is not None:
            total = current
        else:
            total = Figures()
            for figures in live_figures(session, key, community_ids).values():
                total.add(figures)
        result.append({"period": key, "rate": total.rate, "done": total.done, "due": total.due,
                       "live": key == this_month})
    return result


def _snapshot_totals(session: Session, periods: set[str], community_ids: list[int]) -> dict[str, Figures]:
    """The communities' frozen figures summed per closed period (one grouped query)."""
    frozen: dict[str, Figures] = {}
    for period, total, excused, done, missed in session.execute(
            select(ComplianceSnapshot.period, func.sum(ComplianceSnapshot.total),
                   func.sum(ComplianceSnapshot.excused), func.sum(ComplianceSnapshot.done),
                   func.sum(ComplianceSnapshot.missed))
            .where(ComplianceSnapshot.period.in_(sorted(periods)), among(ComplianceSnapshot.area_id, community_ids))
            .group_by(ComplianceSnapshot.period)):
        frozen[period] = Figures(total=int(total), excused=int(excused), done=int(done), missed=int(missed),
                                 open=int(total - excused - done - missed))
    return frozen
