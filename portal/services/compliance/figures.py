"""Completion figures per community: the frozen snapshot of a closed period, otherwise live counts."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

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


def among(column, ids):
    """`column IN ids` with the ids written into the statement: a district officer's few hundred
    community ids, sent as as many bind parameters, cost more to pass to PostgreSQL than the query
    itself takes. Ids are integers, so writing them in is safe."""
    return column.in_(bindparam(None, [int(i) for i in ids] or [-1], expanding=True, literal_execute=True))


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
        query = query.where(among(VisitObligation.community_id, community_ids))
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


@dataclass(frozen=True)
class Community:
    """A community's name and its street's, as the figures' rows show them."""

    id: int
    name: str
    street_id: int | None
    street: str


def communities_of(session: Session, community_ids: list[int]) -> list[Community]:
    """The communities with their streets, by street and name."""
    street = aliased(Area)
    found = session.execute(
        select(Area.id, Area.name, Area.parent_id, street.name).outerjoin(street, street.id == Area.parent_id)
        .where(among(Area.id, community_ids))).all()
    result = [Community(area_id, name, street_id, street_name or "") for area_id, name, street_id, street_name in found]
    result.sort(key=lambda c: (c.street, c.name))
    return result


def period_figures(session: Session, period: str, community_ids: list[int]) -> dict[int, Figures]:
    """Each community's figures for a period: the frozen snapshot of a closed period, otherwise live."""
    if not is_closed(session, period):
        return live_figures(session, period, community_ids)
    return {area_id: Figures(total=total, excused=excused, done=done, missed=missed,
                             open=total - excused - done - missed)
            for area_id, total, excused, done, missed in session.execute(
                select(ComplianceSnapshot.area_id, ComplianceSnapshot.total, ComplianceSnapshot.excused,
                       ComplianceSnapshot.done, ComplianceSnapshot.missed)
                .where(ComplianceSnapshot.period == period, among(ComplianceSnapshot.area_id, community_ids)))}


def rows_of(communities: list[Community], figures: dict[int, Figures]) -> list[CommunityRow]:
    """One row per community (in the order given), with its figures (none: all zero)."""
    return [CommunityRow(c.id, c.name, c.street, c.street_id, figures.get(c.id, Figures())) for c in communities]


def community_rows(session: Session, period: str, community_ids: list[int]) -> list[CommunityRow]:
    """One row per community: the frozen snapshot of a closed period, otherwise the live figures."""
    return rows_of(communities_of(session, community_ids), period_figures(session, period, community_ids))


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
