"""The officer pages' figures per community as the hourly job counts them: this month's visit figures
and the registered elders per care tier. A district officer's page then reads one row per community
instead of counting the district's obligations and elders on every request.

The stored figures are used only when they are for this month and at most `FRESH` old; otherwise (a
fresh install, a stopped scheduler, the first hour of a month) they are counted live, and a community
added since the last count is counted live on its own. Either way each page shows its own
communities only: every read is limited to the ids the caller passes (the viewer's scope).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from portal.models import CARE_TIERS, Area, CommunityFigures, ElderProfile
from portal.services.compliance.figures import Figures, among, live_figures, period_figures
from portal.services.compliance.periods import current_month

# Stored figures older than this (the job stopped) are not shown; they are counted live instead.
FRESH = timedelta(hours=2)


@dataclass
class TierCounts:
    """A community's registered elders per care tier."""

    community_id: int
    name: str
    tiers: dict[str, int]
    total: int   # every registered elder, whatever the tier


def refresh_community_figures(session: Session, now: datetime, communities: list[int]) -> dict:
    """Count this month's visit figures and the elders per tier for every community (`communities`:
    all their ids, as the hourly job read them), replacing what the last run stored. Running it twice
    leaves the same figures."""
    period = current_month(now)
    visits = live_figures(session, period)
    tiers = _tier_counts(session, None)
    session.execute(delete(CommunityFigures))
    rows = []
    for community_id in communities:  # every community, empty ones included: a missing row means "not counted"
        figures = visits.get(community_id, Figures())
        counted, elders = tiers.get(community_id, ({}, 0))
        rows.append({"community_id": community_id, "period": period, "total": figures.total,
                     "excused": figures.excused, "done": figures.done, "missed": figures.missed,
                     **{tier: counted.get(tier, 0) for tier in CARE_TIERS}, "elders": elders, "computed_at": now})
    if rows:
        session.execute(insert(CommunityFigures), rows)
    return {"communities": len(rows), "obligations": sum(row["total"] for row in rows)}


STORED_COLUMNS = (CommunityFigures.community_id, CommunityFigures.period, CommunityFigures.total,
                  CommunityFigures.excused, CommunityFigures.done, CommunityFigures.missed,
                  *(getattr(CommunityFigures, tier) for tier in CARE_TIERS), CommunityFigures.elders,
                  CommunityFigures.computed_at)


def _stored(session: Session, community_ids: list[int], now: datetime, period: str | None = None) -> list | None:
    """The stored rows of these communities, or None when they are too old or of another month."""
    rows = session.execute(select(*STORED_COLUMNS).where(among(CommunityFigures.community_id, community_ids))).all()
    if not rows:
        return None
    if now - min(row.computed_at for row in rows) > FRESH or (period is not None and any(
            row.period != period for row in rows)):
        return None
    return rows


def month_figures(session: Session, period: str, community_ids: list[int],
                  now: datetime) -> tuple[dict[int, Figures], datetime | None]:
    """Each community's figures for a month, and when they were counted: this month's as the hourly
    job counted them (or live, None, when it has not lately); any other month as `period_figures`."""
    stored = _stored(session, community_ids, now, period) if period == current_month(now) else None
    if stored is None:
        return period_figures(session, period, community_ids), None
    figures = {row.community_id: Figures(total=row.total, excused=row.excused, done=row.done, missed=row.missed,
                                         open=row.total - row.excused - row.done - row.missed) for row in stored}
    missing = [community_id for community_id in community_ids if community_id not in figures]
    if missing:  # a community added since the last count
        figures.update(live_figures(session, period, missing))
    return figures, min(row.computed_at for row in stored)


def tier_counts(session: Session, community_ids: list[int], now: datetime) -> tuple[list[TierCounts], datetime | None]:
    """The registered elders per community and care tier (communities with elders, by name), and when
    they were counted (None: live, just now)."""
    names = dict(session.execute(select(Area.id, Area.name).where(among(Area.id, community_ids))).all())
    stored = _stored(session, community_ids, now)
    if stored is None:
        counted, as_of = _tier_counts(session, community_ids), None
    else:
        counted = {row.community_id: ({tier: getattr(row, tier) for tier in CARE_TIERS if getattr(row, tier)},
                                      row.elders) for row in stored}
        missing = [community_id for community_id in community_ids if community_id not in counted]
        if missing:  # a community added since the last count
            counted.update(_tier_counts(session, missing))
        as_of = min(row.computed_at for row in stored)
    result = [TierCounts(community_id, names[community_id], tiers, total)
              for community_id, (tiers, total) in counted.items() if community_id in names and total]
    result.sort(key=lambda row: (row.name, row.community_id))
    return result, as_of


def _tier_counts(session: Session, community_ids: list[int] | None) -> dict[int, tuple[dict[str, int], int]]:
    """Elders per community: ({care tier: count}, every elder), counted now (one grouped query on the
    community-tier index)."""
    query = (select(ElderProfile.community_id, ElderProfile.care_tier, func.count())
             .group_by(ElderProfile.community_id, ElderProfile.care_tier))
    if community_ids is not None:
        query = query.where(among(ElderProfile.community_id, community_ids))
    result: dict[int, tuple[dict[str, int], int]] = {}
    for community_id, tier, count in session.execute(query):
        tiers, total = result.get(community_id, ({}, 0))
        tiers[tier] = count
        result[community_id] = (tiers, total + count)
    return result
