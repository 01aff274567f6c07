"""Planning: each period's obligation for every elder of every tier, with a visitor, set-based.

A district of 130,000 elders is planned in a few statements (INSERT … SELECT, bulk UPDATE),
never one elder at a time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from portal.models import ElderProfile, ObligationEvent, Pairing, Person, VisitObligation, VolunteerProfile
from portal.policy import policy
from portal.services.compliance.assignment import monthly_load, spare_volunteers
from portal.services.compliance.history import bulk_status
from portal.services.compliance.periods import Window, window_for
from portal.services.scope import community_worker_ids
from portal.types import UTCDateTime


def plan_visits(session: Session, now: datetime, elder_ids: list[int] | None = None) -> dict:
    """Create this period's obligation for every elder of every tier (idempotent, set-based); with
    `elder_ids`, for those elders only (a newly registered elder is planned at once)."""
    summary: dict = {"created": 0, "periods": []}
    for tier, conf in policy()["tiers"].items():
        window = window_for(conf["cadence"], now, tier)
        summary["periods"].append(window.period)
        summary["created"] += _plan_tier(session, tier, window, now, elder_ids)
    opening = and_(VisitObligation.status == "upcoming", VisitObligation.window_start <= now)
    if elder_ids is not None:
        opening = and_(opening, VisitObligation.elder_id.in_(elder_ids))
    summary["opened"] = bulk_status(session, opening, "due", now, "window open")
    return summary


def _plan_tier(session: Session, tier: str, window: Window, now: datetime, elder_ids: list[int] | None = None) -> int:
    before = session.scalar(select(func.coalesce(func.max(VisitObligation.id), 0)))
    # Planned inside its window, an obligation is due at once.
    status = "due" if window.start <= now else "upcoming"
    # The paired volunteer of the elder's own community, looked up once per elder by a join.
    paired = (
        select(Pairing.elder_id.label("elder_id"), VolunteerProfile.community_id.label("community_id"),
               func.min(Pairing.volunteer_id).label("volunteer_id"))
        .join(VolunteerProfile, VolunteerProfile.person_id == Pairing.volunteer_id)
        .where(Pairing.active, VolunteerProfile.active, VolunteerProfile.verified_at.is_not(None))
        .group_by(Pairing.elder_id, VolunteerProfile.community_id)
        .subquery()
    )
    already = select(VisitObligation.id).where(VisitObligation.elder_id == ElderProfile.person_id,
                                               VisitObligation.period == window.period)
    chosen = ElderProfile.person_id.in_(elder_ids) if elder_ids is not None else true()
    candidates = (
        select(ElderProfile.person_id.label("elder_id"), ElderProfile.community_id.label("community_id"),
               paired.c.volunteer_id.label("paired_id"))
        .join(Person, Person.id == ElderProfile.person_id)
        .outerjoin(paired, and_(paired.c.elder_id == ElderProfile.person_id,
                                paired.c.community_id == ElderProfile.community_id))
        .where(ElderProfile.care_tier == tier, Person.active, ~already.exists(), chosen)
    )
    # PostgreSQL fills the volunteers' spare places in the same statement (a join on running sums,
    # which it hashes), so no row is written twice; elsewhere a linear merge after the insert does it
    # (SQLite runs that join as a nested loop).
    in_sql = session.get_bind().dialect.name == "postgresql"
    if in_sql:
        candidates = candidates.cte("candidates")
        capacity = _capacity_places(candidates, window, now)
        visitor = func.coalesce(candidates.c.paired_id, capacity.c.volunteer_id)
        source = candidates.outerjoin(capacity, capacity.c.elder_id == candidates.c.elder_id)
    else:
        candidates = candidates.subquery("candidates")
        visitor, source = candidates.c.paired_id, candidates
    session.execute(
        insert(VisitObligation).from_select(
            ["elder_id", "period", "cadence", "tier", "community_id", "window_start", "due_at", "window_end",
             "status", "assigned_to_id", "assigned_role", "created_at", "updated_at"],
            select(candidates.c.elder_id, literal(window.period), literal(window.cadence), literal(tier),
                   candidates.c.community_id, literal(window.start, UTCDateTime), literal(window.due, UTCDateTime),
                   literal(window.end, UTCDateTime), literal(status), visitor,
                   case((visitor.is_not(None), literal("volunteer")), else_=None),
                   literal(now, UTCDateTime), literal(now, UTCDateTime))
            .select_from(source),
        )
    )
    new = and_(VisitObligation.id > before, VisitObligation.period == window.period)
    rows = session.scalar(select(func.count()).select_from(VisitObligation).where(new))
    if not rows:
        return 0
    if not in_sql:
        _assign_by_capacity(session, new, now)
    _assign_rest_to_workers(session, new, before, window.period)
    # One history row per new obligation, with the status it was planned in ("due" when its window is
    # already open) and its visitor; a later opening of the window leaves its own row (`plan_visits`).
    session.execute(
        insert(ObligationEvent).from_select(
            ["obligation_id", "at", "kind", "from_status", "to_status", "assigned_to_id", "reason"],
            select(VisitObligation.id, literal(now, UTCDateTime), literal("status"),
                   literal(None, VisitObligation.status.type), literal(status),
                   VisitObligation.assigned_to_id, literal("planned")).where(new),
        )
    )
    return rows


def _capacity_places(candidates, window: Window, now: datetime):
    """(elder_id, volunteer_id) for the candidates without a paired volunteer: per community, taken
    in elder order, the volunteers' spare places in person order (what `_assign_by_capacity` does).
    The paired visits planned in the same statement count toward their volunteers' load, as they
    would once written, when this window lies in the month the load is counted for."""
    month = window_for("monthly", now)
    load = monthly_load(now)
    spare = VolunteerProfile.monthly_capacity - func.coalesce(load.c.n, 0)
    query = (select(VolunteerProfile.person_id, VolunteerProfile.community_id)
             .join(Person, Person.id == VolunteerProfile.person_id)
             .outerjoin(load, load.c.person_id == VolunteerProfile.person_id))
    if month.start <= window.start < month.end:
        planned = (select(candidates.c.paired_id.label("person_id"), func.count().label("n"))
                   .where(candidates.c.paired_id.is_not(None)).group_by(candidates.c.paired_id).subquery())
        query = query.outerjoin(planned, planned.c.person_id == VolunteerProfile.person_id)
        spare = spare - func.coalesce(planned.c.n, 0)
    places = (
        query.add_columns(spare.label("spare"),
                          (func.sum(spare).over(partition_by=VolunteerProfile.community_id,
                                                order_by=VolunteerProfile.person_id) - spare).label("taken"))
        .where(VolunteerProfile.active, VolunteerProfile.verified_at.is_not(None), Person.active, spare > 0)
        .cte("places")
    )
    waiting = (
        select(candidates.c.elder_id, candidates.c.community_id,
               func.row_number().over(partition_by=candidates.c.community_id,
                                      order_by=candidates.c.elder_id).label("place"))
        .where(candidates.c.paired_id.is_(None))
        .cte("waiting")
    )
    return (
        select(waiting.c.elder_id, places.c.person_id.label("volunteer_id"))
        .join(places, and_(places.c.community_id == waiting.c.community_id, waiting.c.place > places.c.taken,
                           waiting.c.place <= places.c.taken + places.c.spare))
        .cte("capacity")
    )


def _assign_by_capacity(session: Session, new, now: datetime) -> None:
    """Unpaired elders go to community volunteers with spare capacity, filled in order: per community
    the waiting obligations by elder id take the volunteers' spare places by person id.

    Two plain reads and a merge here; the same as one SQL join on running sums, but that join
    (a range condition between two window-function subqueries) grew quadratically: 23 s for
    130,000 elders on SQLite."""
    spare = spare_volunteers(now).subquery()
    places: dict[int, list[list[int]]] = {}
    for person_id, community_id, free in session.execute(
            select(spare.c.person_id, spare.c.community_id, spare.c.spare).order_by(spare.c.community_id,
                                                                                   spare.c.person_id)):
        places.setdefault(community_id, []).append([person_id, free])
    if not places:
        return
    pairs = []
    cursor: dict[int, int] = {}
    for obligation_id, community_id in session.execute(
            select(VisitObligation.id, VisitObligation.community_id)
            .where(new, VisitObligation.assigned_to_id.is_(None),
                   VisitObligation.community_id.in_(list(places)))
            .order_by(VisitObligation.community_id, VisitObligation.elder_id)):
        slots = places[community_id]
        at = cursor.get(community_id, 0)
        while at < len(slots) and slots[at][1] <= 0:
            at += 1
        cursor[community_id] = at
        if at == len(slots):
            continue
        slots[at][1] -= 1
        pairs.append({"id": obligation_id, "assigned_to_id": slots[at][0], "assigned_role": "volunteer"})
    if pairs:
        session.execute(update(VisitObligation), pairs)


def _assign_rest_to_workers(session: Session, new, before: int, period: str) -> None:
    """Whoever is still unassigned goes to the community's worker: one statement per community
    (role_grants also holds every elder's grant, so the workers are looked up once, not per row)."""
    waiting = set(session.scalars(select(VisitObligation.community_id).where(
        new, VisitObligation.assigned_to_id.is_(None)).distinct()))
    workers = community_worker_ids(session, waiting)
    params = [{"c": community_id, "w": ids[0]} for community_id, ids in workers.items() if ids]
    if params:
        table = VisitObligation.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id > before, table.c.period == period, table.c.assigned_to_id.is_(None),
                   table.c.community_id == bindparam("c"))
            .values(assigned_to_id=bindparam("w"), assigned_role="worker"),
            params,
        )
