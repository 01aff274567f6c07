"""Who is at risk: the mid-period forecast of elders who will be missed, and elders unvisited too long."""
from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from portal.models import Area, ElderProfile, ElderVisitStat, ForecastRank, Person, StaleCount, VisitObligation
from portal.policy import policy
from portal.services.compliance.dashboard import refresh_community_figures
from portal.services.compliance.figures import CommunityRow, among, community_rows
from portal.services.compliance.history import OPEN
from portal.services.compliance.periods import current_month, month_window


def forecast(session: Session, period: str, community_ids: list[int], now: datetime,
             names_each: int | None = None, rows: list[CommunityRow] | None = None) -> list[dict] | None:
    """From mid-period: at the current pace, how many elders per community will be missed, and who
    (at most `names_each` names per community: a district overview names the first few, not all).
    `rows`: the period's community rows when the caller has them already."""
    window = month_window(period)
    if not window.start <= now < window.end:
        return None
    elapsed = (now - window.start) / (window.end - window.start)
    if elapsed < policy()["compliance"]["forecast_from"]:
        return None
    wanted: dict[int, tuple[CommunityRow, int]] = {}
    for row in rows if rows is not None else community_rows(session, period, community_ids):
        figures = row.figures
        if figures.open == 0:
            continue
        expected_done = figures.done / elapsed
        will_miss = min(figures.open, max(0, math.floor(figures.due - expected_done + 0.5)))
        if will_miss:
            wanted[row.community_id] = (row, will_miss)
    if not wanted:
        return []
    names = _longest_unvisited(session, period, {cid: min(n, names_each or n) for cid, (_row, n) in wanted.items()})
    result = []
    for row, will_miss in sorted(wanted.values(), key=lambda item: (item[0].street, item[0].community)):
        result.append({"community": row.community, "community_id": row.community_id, "will_miss": will_miss,
                       "names": names.get(row.community_id, [])})
    return result


# How far past the longest list a community needs the stored order is read: obligations completed
# since the job ranked them drop out, and the next in line take their place.
RANK_MARGIN = 5


def _ranked_open(period: str, community_ids: list[int]):
    """A period's open obligations ranked per community, the longest unvisited first (never-visited
    first, then the oldest last visit, then by name)."""
    rank = func.row_number().over(
        partition_by=VisitObligation.community_id,
        order_by=(ElderVisitStat.last_visit_at.is_not(None), ElderVisitStat.last_visit_at, Person.name,
                  VisitObligation.id),
    ).label("rank")
    query = (
        select(VisitObligation.community_id, VisitObligation.id.label("obligation_id"),
               VisitObligation.elder_id, Person.name, rank)
        .join(Person, Person.id == VisitObligation.elder_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == Person.id)
        .where(VisitObligation.period == period, VisitObligation.status.in_(OPEN))
    )
    if community_ids is not None:
        query = query.where(among(VisitObligation.community_id, community_ids))
    return query.subquery()


def refresh_forecast_ranks(session: Session, now: datetime) -> dict:
    """Rank this month's open obligations once for the whole district (the hourly job), replacing
    what the last run stored; earlier months' ranks are dropped. The same run counts the officer
    pages' figures per community (`dashboard.refresh_community_figures`) and the elders unvisited too
    long. Running it twice leaves the same rows."""
    period = current_month(now)
    session.execute(delete(ForecastRank))  # earlier months' ranks and the last run's
    ranked = _ranked_open(period, None)
    session.execute(insert(ForecastRank).from_select(
        ["period", "community_id", "rank", "obligation_id", "elder_id", "computed_at"],
        select(literal(period), ranked.c.community_id, ranked.c.rank, ranked.c.obligation_id,
               ranked.c.elder_id, literal(now, ForecastRank.computed_at.type))))
    stored = session.scalar(select(func.count()).select_from(ForecastRank).where(ForecastRank.period == period))
    communities = list(session.scalars(select(Area.id).where(Area.level == "community")))
    counts = stale_counts(session, communities, now)
    session.execute(delete(StaleCount))
    if communities:  # every community, none unvisited included: a missing row means "not counted"
        session.execute(insert(StaleCount), [{"community_id": community_id, "count": counts.get(community_id, 0),
                                              "computed_at": now} for community_id in communities])
    figures = refresh_community_figures(session, now, communities)
    return {"period": period, "ranked": stored, "stale": sum(counts.values()), "figures": figures["communities"]}


def _longest_unvisited(session: Session, period: str, wanted: dict[int, int]) -> dict[int, list[str]]:
    """The names for every community: from the order the hourly job stored (still-open obligations
    only), or, before the job has ranked this period, ranked here."""
    longest = max(wanted.values())
    first = _stored_order(session, period, list(wanted), 0, longest)
    rows = [(community_id, name) for community_id, name, status in first if status in OPEN]
    # Where some of the first in line were visited since the ranking, the next in line (rarely needed).
    ranked, still_open = Counter(row[0] for row in first), Counter(community_id for community_id, _ in rows)
    short = [community_id for community_id, count in wanted.items()
             if still_open[community_id] < count <= ranked[community_id]]
    if short:
        rows += [(community_id, name) for community_id, name, status in
                 _stored_order(session, period, short, longest, longest + RANK_MARGIN) if status in OPEN]
    if not first and session.scalar(select(ForecastRank.rank).where(ForecastRank.period == period).limit(1)) is None:
        ranked_here = _ranked_open(period, list(wanted))
        rows = session.execute(
            select(ranked_here.c.community_id, ranked_here.c.name)
            .where(ranked_here.c.rank <= longest)
            .order_by(ranked_here.c.community_id, ranked_here.c.rank)).all()
    names: dict[int, list[str]] = {}
    for community_id, name in rows:  # in rank order within each community
        chosen = names.setdefault(community_id, [])
        if len(chosen) < wanted[community_id]:
            chosen.append(name)
    return names


def _stored_order(session: Session, period: str, community_ids: list[int], after: int, upto: int) -> list:
    """The stored ranks `after` < rank <= `upto` of these communities: (community, name, status), in
    order. Driven by the stored ranks (a primary-key range per community); whether each is still open
    is read per row, not filtered on, so the planner never starts from the obligations' status."""
    return session.execute(
        select(ForecastRank.community_id, Person.name, VisitObligation.status)
        .join(VisitObligation, VisitObligation.id == ForecastRank.obligation_id)
        .join(Person, Person.id == ForecastRank.elder_id)
        .where(ForecastRank.period == period, among(ForecastRank.community_id, community_ids),
               ForecastRank.rank > after, ForecastRank.rank <= upto)
        .order_by(ForecastRank.community_id, ForecastRank.rank)).all()


def _stale(community_ids: list[int], now: datetime):
    """Special-hardship and high-risk elders with no counted visit for longer than the policy allows;
    an elder never visited counts from the day she was registered, not from the beginning of time."""
    cutoff = now - timedelta(days=policy()["compliance"]["stale_visit_days"])
    return and_(among(ElderProfile.community_id, community_ids), Person.active,
                ElderProfile.care_tier.in_(("special_hardship", "high_risk")),
                or_(and_(ElderVisitStat.last_visit_at.is_(None), ElderProfile.created_at < cutoff),
                    ElderVisitStat.last_visit_at < cutoff))


def stale_elders(session: Session, community_ids: list[int], now: datetime, limit: int = 200, offset: int = 0):
    """Those elders, longest unvisited first: (person id, name, community, last visit)."""
    return session.execute(
        select(Person.id, Person.name, Area.name, ElderVisitStat.last_visit_at)
        .join(ElderProfile, ElderProfile.person_id == Person.id)
        .join(Area, Area.id == ElderProfile.community_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == Person.id)
        .where(_stale(community_ids, now))
        .order_by(ElderVisitStat.last_visit_at.is_not(None), ElderVisitStat.last_visit_at, Area.name, Person.name)
        .limit(limit).offset(offset)
    ).all()


def stale_counts(session: Session, community_ids: list[int], now: datetime) -> dict[int, int]:
    """How many of those elders each community has (the officer's summary; one grouped query)."""
    return dict(session.execute(
        select(ElderProfile.community_id, func.count())
        .join(Person, Person.id == ElderProfile.person_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == ElderProfile.person_id)
        .where(_stale(community_ids, now))
        .group_by(ElderProfile.community_id)
    ).all())


# The overview's counts are at most this old; older (the job stopped), they are counted live.
STALE_COUNTS_FRESH = timedelta(hours=2)


def stale_counts_overview(session: Session, community_ids: list[int], now: datetime) -> dict[int, int]:
    """`stale_counts` for the officer's overview: as the hourly job counted them, or live when the job
    has not run for a while. A community without a stored row had none."""
    rows = session.execute(select(StaleCount.community_id, StaleCount.count, StaleCount.computed_at)
                           .where(among(StaleCount.community_id, community_ids))).all()
    if not rows or now - min(row.computed_at for row in rows) > STALE_COUNTS_FRESH:
        return stale_counts(session, community_ids, now)
    stored = {row.community_id: row.count for row in rows}
    missing = [community_id for community_id in community_ids if community_id not in stored]
    counts = {community_id: count for community_id, count in stored.items() if count}
    if missing:  # a community created since the last count
        counts.update(stale_counts(session, missing, now))
    return counts
