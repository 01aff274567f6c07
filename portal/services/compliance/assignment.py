"""Who visits: the paired volunteer, else a community volunteer with spare monthly capacity, else the worker."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Pairing, Person, VisitObligation, VolunteerProfile
from portal.services.compliance.history import log_event
from portal.services.compliance.periods import window_for
from portal.services.scope import community_worker_ids


def monthly_load(now: datetime):
    """How many visits each person is assigned this month, excused ones excepted (their capacity is
    per month): the one definition of a visitor's load."""
    month = window_for("monthly", now)
    return (
        select(VisitObligation.assigned_to_id.label("person_id"), func.count().label("n"))
        .where(VisitObligation.window_start >= month.start, VisitObligation.window_start < month.end,
               VisitObligation.status != "excused", VisitObligation.assigned_to_id.is_not(None))
        .group_by(VisitObligation.assigned_to_id)
        .subquery()
    )


def spare_volunteers(now: datetime, community_ids=None, exclude: tuple[int, ...] = ()):
    """Active verified volunteers with room this month: (person_id, community_id, spare)."""
    load = monthly_load(now)
    spare = (VolunteerProfile.monthly_capacity - func.coalesce(load.c.n, 0)).label("spare")
    query = (
        select(VolunteerProfile.person_id, VolunteerProfile.community_id, spare)
        .join(Person, Person.id == VolunteerProfile.person_id)
        .outerjoin(load, load.c.person_id == VolunteerProfile.person_id)
        .where(VolunteerProfile.active, VolunteerProfile.verified_at.is_not(None), Person.active,
               VolunteerProfile.monthly_capacity - func.coalesce(load.c.n, 0) > 0)
    )
    if community_ids is not None:
        query = query.where(VolunteerProfile.community_id.in_(community_ids))
    if exclude:
        query = query.where(VolunteerProfile.person_id.not_in(exclude))
    return query


def community_worker_id(session: Session, community_id: int) -> int | None:
    """The worker a community's unassigned visits fall to: the first of its workers."""
    workers = community_worker_ids(session, [community_id]).get(community_id)
    return workers[0] if workers else None


def paired_volunteer_id(session: Session, elder_id: int, community_id: int | None = None,
                        exclude: tuple[int, ...] = ()) -> int | None:
    query = (
        select(func.min(Pairing.volunteer_id))
        .join(VolunteerProfile, VolunteerProfile.person_id == Pairing.volunteer_id)
        .where(Pairing.elder_id == elder_id, Pairing.active, VolunteerProfile.active,
               VolunteerProfile.verified_at.is_not(None))
    )
    if community_id is not None:
        query = query.where(VolunteerProfile.community_id == community_id)
    if exclude:
        query = query.where(Pairing.volunteer_id.not_in(exclude))
    return session.scalar(query)


def pick_visitor(session: Session, obligation: VisitObligation, now: datetime,
                 exclude: tuple[int, ...] = ()) -> tuple[int | None, str | None]:
    """The paired volunteer, else the community volunteer with the most spare capacity, else the worker."""
    paired = paired_volunteer_id(session, obligation.elder_id, obligation.community_id, exclude)
    if paired:
        return paired, "volunteer"
    spare = spare_volunteers(now, [obligation.community_id], exclude).subquery()
    best = session.execute(select(spare.c.person_id).order_by(spare.c.spare.desc(), spare.c.person_id).limit(1)).first()
    if best:
        return best[0], "volunteer"
    worker = community_worker_id(session, obligation.community_id)
    return worker, ("worker" if worker else None)


def assign(session: Session, obligation: VisitObligation, person_id: int | None, role: str | None, now: datetime,
           actor_id: int | None = None, reason: str | None = None) -> None:
    obligation.assigned_to_id = person_id
    obligation.assigned_role = role
    obligation.updated_at = now
    log_event(session, obligation, "assigned", now, actor_id=actor_id, reason=reason)
