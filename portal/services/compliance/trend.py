"""The monthly visit rate over the last months in a viewer's communities."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import ComplianceSnapshot
from portal.services.compliance.figures import Figures, live_figures
from portal.services.compliance.periods import current_month, previous_month


def trend(session: Session, community_ids: list[int], now: datetime, months: int = 12) -> list[dict]:
    """The monthly rate over the last `months` months (closed months from snapshots; the others live)."""
    this_month = current_month(now)
    keys = [this_month]
    for _ in range(months - 1):
        keys.append(previous_month(keys[-1]))
    keys.reverse()
    # closed for these communities (scoped like every officer read, so a replica or a district's own
    # partition can answer it)
    closed = set(session.scalars(select(ComplianceSnapshot.period)
                                 .where(ComplianceSnapshot.period.in_(keys),
                                        ComplianceSnapshot.area_id.in_(community_ids or [-1])).distinct()))
    frozen = _snapshot_totals(session, closed, community_ids) if closed else {}
    result = []
    for key in keys:
        if key in closed:
            total = frozen.get(key, Figures())
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
            .where(ComplianceSnapshot.period.in_(periods), ComplianceSnapshot.area_id.in_(community_ids or [-1]))
            .group_by(ComplianceSnapshot.period)):
        frozen[period] = Figures(total=int(total), excused=int(excused), done=int(done), missed=int(missed),
                                 open=int(total - excused - done - missed))
    return frozen
