"""Completion figures per community: the frozen snapshot of a closed period, otherwise live counts."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Area, ComplianceSnapshot, VisitObligation
from portal.services.compliance.periods import is_closed


@dataclass
class Figures:
    total: int = 0
    excused: int = 0
    done: int = 0
    missed: int = 0
    open: int = 0

    @property
    def due(self) -> int:
        """The denominator: excused elders leave it."""
        return self.total - self.excused

    @property
    def rate(self) -> float | None:
        return None if self.due == 0 else self.done / self.due

    def add(self, other: Figures) -> None:
        self.total += other.total
        self.excused += other.excused
        self.done += other.done
        self.missed += other.missed
        self.open += other.open


@dataclass
class CommunityRow:
    community_id: int
    community: str
    street: str
    street_id: int | None
    figures: Figures = field(default_factory=Figures)


def live_figures(session: Session, period: str, community_ids: list[int] | None = None) -> dict[int, Figures]:
    query = (select(VisitObligation.community_id, VisitObligation.status, func.count())
             .where(VisitObligation.period == period)
             .group_by(VisitObligation.community_id, VisitObligation.status))
    if community_ids is not None:
        query = query.where(VisitObligation.community_id.in_(community_ids or [-1]))
    result: dict[int, Figures] = {}
    for community_id, status, count in session.execute(query):
        figures = result.setdefault(community_id, Figures())
        figures.total += count
        if status == "excused":
            figures.excused += count
        elif status == "done":
            figures.done += count
        elif status == "missed":
            figures.missed += count
        else:
            figures.open += count
    return result


def community_rows(session: Session, period: str, community_ids: list[int]) -> list[CommunityRow]:
    """One row per community: the frozen snapshot of a closed period, otherwise the live figures."""
    communities = session.execute(
        select(Area.id, Area.name, Area.parent_id).where(Area.id.in_(community_ids or [-1]))
    ).all()
    streets = dict(session.execute(select(Area.id, Area.name).where(
        Area.id.in_({c.parent_id for c in communities if c.parent_id} or {-1}))).all())
    if is_closed(session, period):
        snaps = session.scalars(select(ComplianceSnapshot).where(
            ComplianceSnapshot.period == period, ComplianceSnapshot.area_id.in_(community_ids or [-1]))).all()
        figures = {s.area_id: Figures(total=s.total, excused=s.excused, done=s.done, missed=s.missed,
                                      open=s.total - s.excused - s.done - s.missed) for s in snaps}
    else:
        figures = live_figures(session, period, community_ids)
    rows = [CommunityRow(c.id, c.name, streets.get(c.parent_id, ""), c.parent_id, figures.get(c.id, Figures()))
            for c in communities]
    rows.sort(key=lambda r: (r.street, r.community))
    return rows


def totals(rows: list[CommunityRow]) -> Figures:
    total = Figures()
    for row in rows:
        total.add(row.figures)
    return total


def street_rows(rows: list[CommunityRow]) -> list[dict]:
    """The community rows summed per street, by street name: {"id", "name", "figures"}."""
    streets: dict = {}
    for row in rows:
        entry = streets.setdefault(row.street_id, {"id": row.street_id, "name": row.street, "figures": Figures()})
        entry["figures"].add(row.figures)
    return sorted(streets.values(), key=lambda s: s["name"])


def communities_at_full(rows: list[CommunityRow]) -> int:
    return sum(1 for row in rows if row.figures.due > 0 and row.figures.done == row.figures.due)
