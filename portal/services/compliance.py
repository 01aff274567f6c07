"""Visit compliance: plan each period's obligations, complete them from verified visits, remind and
escalate, forecast, close periods into snapshots, and report.

Planning and period close are set-based (INSERT … SELECT, bulk UPDATE): a district of 130,000
elders is planned in a few statements, never one elder at a time.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from portal import events
from portal.clock import local_tz
from portal.i18n import _l, msg, translate_for
from portal.models import (
    EXCUSE_REASONS,
    MAJOR_EVENT_KINDS,
    Area,
    ComplianceSnapshot,
    ElderProfile,
    ElderVisitStat,
    MajorEvent,
    ObligationEvent,
    OutboundMessage,
    Pairing,
    Person,
    RoleGrant,
    VisitObligation,
    VolunteerProfile,
)
from portal.policy import policy
from portal.services import DomainError
from portal.services.outbox import enqueue
from portal.types import UTCDateTime

OPEN = ("upcoming", "due")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def tz() -> ZoneInfo:
    return local_tz()


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz()).astimezone(timezone.utc)


def local_date(moment: datetime) -> date:
    return moment.astimezone(tz()).date()


# ---------------------------------------------------------------- periods and windows

@dataclass(frozen=True)
class Window:
    period: str
    cadence: str
    start: datetime
    due: datetime
    end: datetime


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window_for(cadence: str, now: datetime, tier: str | None = None) -> Window:
    """The period containing `now` (local time) for a cadence, with its window in UTC."""
    today = local_date(now)
    if cadence == "monthly":
        start = today.replace(day=1)
        end = _add_months(start, 1)
        key = f"{start.year}-{start.month:02d}"
        due_day = (policy()["tiers"].get(tier or "", {}) or {}).get("due_day")
        due = start + timedelta(days=due_day) if due_day else end
    elif cadence == "weekly":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
        iso = start.isocalendar()
        key = f"{iso.year}-W{iso.week:02d}"
        due = end
    elif cadence == "quarterly":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        end = _add_months(start, 3)
        key = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        due = end - timedelta(days=14)
    else:
        raise ValueError(f"unknown cadence {cadence!r}")
    return Window(key, cadence, local_midnight(start), local_midnight(due), local_midnight(end))


def month_window(period: str, now: datetime | None = None) -> Window:
    """A month asked for as "YYYY-MM": a clear error when malformed or in the future."""
    match = MONTH_RE.match((period or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError(_l("Give the month as YYYY-MM, for example 2026-11."), field="period")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if now is not None and first > local_date(now):
        raise DomainError(_l("%(period)s has not started yet.", period=period), field="period")
    return window_for("monthly", local_midnight(first), "special_hardship")


def previous_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    first = _add_months(date(year, month, 1), -1)
    return f"{first.year}-{first.month:02d}"


def current_month(now: datetime) -> str:
    today = local_date(now)
    return f"{today.year}-{today.month:02d}"


def is_closed(session: Session, period: str) -> bool:
    return session.scalar(select(ComplianceSnapshot.id).where(ComplianceSnapshot.period == period).limit(1)) is not None


# ---------------------------------------------------------------- history

def _log(session: Session, obligation: VisitObligation, kind: str, now: datetime, *, from_status=None,
         to_status=None, actor_id=None, reason=None, visit_id=None) -> None:
    session.add(ObligationEvent(obligation_id=obligation.id, at=now, kind=kind, from_status=from_status,
                                to_status=to_status, assigned_to_id=obligation.assigned_to_id,
                                actor_id=actor_id, reason=reason, visit_id=visit_id))


def _set_status(session: Session, obligation: VisitObligation, status: str, now: datetime, **detail) -> None:
    previous = obligation.status
    obligation.status = status
    obligation.updated_at = now
    _log(session, obligation, "status", now, from_status=previous, to_status=status, **detail)


def _bulk_status(session: Session, where, to_status: str, now: datetime, reason: str) -> int:
    """Move every obligation matching `where` to `to_status`, with one history row each (set-based)."""
    session.execute(
        insert(ObligationEvent).from_select(
            ["obligation_id", "at", "kind", "from_status", "to_status", "assigned_to_id", "reason"],
            select(VisitObligation.id, literal(now, UTCDateTime), literal("status"), VisitObligation.status,
                   literal(to_status), VisitObligation.assigned_to_id, literal(reason)).where(where),
        )
    )
    result = session.execute(
        update(VisitObligation).where(where).values(status=to_status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# ---------------------------------------------------------------- assignment

def _month_bounds(now: datetime) -> tuple[datetime, datetime]:
    window = window_for("monthly", now)
    return window.start, window.end


def _load_subquery(now: datetime):
    """How many visits each person is assigned this month (their capacity is per month)."""
    start, end = _month_bounds(now)
    return (
        select(VisitObligation.assigned_to_id.label("person_id"), func.count().label("n"))
        .where(VisitObligation.window_start >= start, VisitObligation.window_start < end,
               VisitObligation.status != "excused", VisitObligation.assigned_to_id.is_not(None))
        .group_by(VisitObligation.assigned_to_id)
        .subquery()
    )


def _spare_volunteers(now: datetime, community_ids=None, exclude: tuple[int, ...] = ()):
    load = _load_subquery(now)
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
    return session.scalar(
        select(func.min(RoleGrant.person_id)).join(Person, Person.id == RoleGrant.person_id)
        .where(RoleGrant.role == "worker", RoleGrant.area_id == community_id, Person.active)
    )


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
    spare = _spare_volunteers(now, [obligation.community_id], exclude).subquery()
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
    _log(session, obligation, "assigned", now, actor_id=actor_id, reason=reason)


# ---------------------------------------------------------------- planning

def plan_visits(session: Session, now: datetime) -> dict:
    """Create this period's obligation for every elder of every tier (idempotent, set-based)."""
    summary: dict = {"created": 0, "periods": []}
    for tier, conf in policy()["tiers"].items():
        window = window_for(conf["cadence"], now, tier)
        summary["periods"].append(window.period)
        summary["created"] += _plan_tier(session, tier, window, now)
    summary["opened"] = _bulk_status(
        session, and_(VisitObligation.status == "upcoming", VisitObligation.window_start <= now), "due", now,
        "window open")
    return summary


def _plan_tier(session: Session, tier: str, window: Window, now: datetime) -> int:
    before = session.scalar(select(func.coalesce(func.max(VisitObligation.id), 0)))
    # Planned inside its window, an obligation is due at once (both steps go into its history).
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
    session.execute(
        insert(VisitObligation).from_select(
            ["elder_id", "period", "cadence", "tier", "community_id", "window_start", "due_at", "window_end",
             "status", "assigned_to_id", "assigned_role", "created_at", "updated_at"],
            select(ElderProfile.person_id, literal(window.period), literal(window.cadence), literal(tier),
                   ElderProfile.community_id, literal(window.start, UTCDateTime), literal(window.due, UTCDateTime),
                   literal(window.end, UTCDateTime), literal(status), paired.c.volunteer_id,
                   case((paired.c.volunteer_id.is_not(None), literal("volunteer")), else_=None),
                   literal(now, UTCDateTime), literal(now, UTCDateTime))
            .join(Person, Person.id == ElderProfile.person_id)
            .outerjoin(paired, and_(paired.c.elder_id == ElderProfile.person_id,
                                    paired.c.community_id == ElderProfile.community_id))
            .where(ElderProfile.care_tier == tier, Person.active, ~already.exists()),
        )
    )
    new = and_(VisitObligation.id > before, VisitObligation.period == window.period)
    rows = session.scalar(select(func.count()).select_from(VisitObligation).where(new))
    if not rows:
        return 0
    _assign_by_capacity(session, new, now)
    # Whoever is still unassigned goes to the community's worker: one statement per community
    # (role_grants also holds every elder's grant, so a correlated lookup per row would crawl).
    workers = session.execute(
        select(RoleGrant.area_id, func.min(RoleGrant.person_id)).join(Person, Person.id == RoleGrant.person_id)
        .where(RoleGrant.role == "worker", Person.active).group_by(RoleGrant.area_id)
    ).all()
    waiting = set(session.scalars(select(VisitObligation.community_id).where(
        new, VisitObligation.assigned_to_id.is_(None)).distinct()))
    params = [{"c": area_id, "w": worker_id} for area_id, worker_id in workers if area_id in waiting]
    if params:
        table = VisitObligation.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id > before, table.c.period == window.period, table.c.assigned_to_id.is_(None),
                   table.c.community_id == bindparam("c"))
            .values(assigned_to_id=bindparam("w"), assigned_role="worker"),
            params,
        )
    steps = [(None, "upcoming", "planned")] + ([("upcoming", "due", "window open")] if status == "due" else [])
    for from_status, to_status, reason in steps:
        session.execute(
            insert(ObligationEvent).from_select(
                ["obligation_id", "at", "kind", "from_status", "to_status", "assigned_to_id", "reason"],
                select(VisitObligation.id, literal(now, UTCDateTime), literal("status"),
                       literal(from_status, VisitObligation.status.type), literal(to_status),
                       VisitObligation.assigned_to_id, literal(reason)).where(new),
            )
        )
    return rows


def _assign_by_capacity(session: Session, new, now: datetime) -> None:
    """Unpaired elders go to community volunteers with spare capacity, filled in order: per community
    the waiting obligations by elder id take the volunteers' spare places by person id.

    Two plain reads and a merge here; the same as one SQL join on running sums, but that join
    (a range condition between two window-function subqueries) grew quadratically: 23 s for
    130,000 elders on SQLite."""
    spare = _spare_volunteers(now).subquery()
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


# ---------------------------------------------------------------- visits complete obligations

def visit_counts(visit) -> bool:
    """Only a visit that counts for compliance, by a method the policy counts, completes an obligation."""
    if not getattr(visit, "counts_for_compliance", False) or getattr(visit, "checked_in_at", None) is None:
        return False
    rules = policy()["visits"]
    method = getattr(visit, "method", None)
    if method == "phone":
        return bool(rules.get("phone_visits_count"))
    return method in rules["counting_methods"]


def _silence_reminders(session: Session, obligation: VisitObligation, now: datetime) -> None:
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.dedupe_key.like(f"obl:{obligation.id}:%"), OutboundMessage.status == "queued")
        .values(status="cancelled", last_error="visit done", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def record_visit(session: Session, visit, now: datetime) -> list[VisitObligation]:
    """A verified visit: note it as the elder's last visit and complete the obligations it satisfies."""
    if not visit_counts(visit):
        return []
    at = visit.checked_in_at
    stat = session.get(ElderVisitStat, visit.elder_id)
    if stat is None:
        session.add(ElderVisitStat(elder_id=visit.elder_id, last_visit_at=at, last_visit_id=visit.id))
    elif stat.last_visit_at is None or stat.last_visit_at < at:
        stat.last_visit_at, stat.last_visit_id = at, visit.id
    matching = session.scalars(
        select(VisitObligation).where(VisitObligation.elder_id == visit.elder_id,
                                      VisitObligation.window_start <= at, VisitObligation.window_end > at)
    ).all()
    completed = []
    for obligation in matching:
        if obligation.status in ("done", "excused"):
            continue
        if obligation.status == "missed" and is_closed(session, obligation.period):
            if obligation.late_visit_id is None:
                obligation.late_visit_id, obligation.late_visit_at = visit.id, at
                _log(session, obligation, "late_visit", now, visit_id=visit.id,
                     reason="visit verified after the period was closed")
            continue
        obligation.satisfied_by_visit_id = visit.id
        obligation.done_at = at
        _set_status(session, obligation, "done", now, visit_id=visit.id)
        _silence_reminders(session, obligation, now)
        completed.append(obligation)
    session.flush()
    return completed


def _on_visit_verified(visit, session: Session, now: datetime, **_kwargs) -> None:
    record_visit(session, visit, now)


# ---------------------------------------------------------------- worker actions

EXCUSE_LABELS = {
    "in_hospital": _l("In hospital"),
    "moved_away": _l("Moved away"),
    "died": _l("Passed away"),
}
MAJOR_EVENT_LABELS = {
    "hospital_discharge": _l("Discharged from hospital"),
    "bereavement": _l("Bereavement"),
    "fall": _l("A fall"),
}


def excuse(session: Session, obligation: VisitObligation, reason: str, actor_id: int | None, now: datetime) -> None:
    if reason not in EXCUSE_REASONS:
        raise DomainError(_l("Please choose a reason from the list."), field="reason")
    if obligation.status not in OPEN or is_closed(session, obligation.period):
        raise DomainError(_l("Only an open visit of an open period can be excused."), field="reason")
    obligation.excuse_reason = reason
    _set_status(session, obligation, "excused", now, actor_id=actor_id, reason=reason)
    _silence_reminders(session, obligation, now)


def reassign(session: Session, obligation: VisitObligation, person_id: int, actor_id: int | None,
             now: datetime) -> None:
    """A worker gives the visit to another verified volunteer of the community, or to a worker."""
    if obligation.status not in OPEN:
        raise DomainError(_l("Only an open visit can be given to someone else."), field="assignee")
    volunteer = session.get(VolunteerProfile, person_id)
    if volunteer is not None and volunteer.active and volunteer.verified_at and \
            volunteer.community_id == obligation.community_id:
        role = "volunteer"
    elif community_worker_id(session, obligation.community_id) == person_id or session.scalar(
            select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.role == "worker",
                                       RoleGrant.area_id == obligation.community_id)):
        role = "worker"
    else:
        raise DomainError(_l("Please choose a verified volunteer of this community."), field="assignee")
    assign(session, obligation, person_id, role, now, actor_id=actor_id, reason="reassigned by a worker")
    _notify_assignee(session, obligation, now, f"obl:{obligation.id}:assigned:{person_id}:{now:%Y%m%d%H%M}")


def record_major_event(session: Session, elder: ElderProfile, kind: str, occurred_at: datetime | None,
                       note: str | None, actor_id: int | None, now: datetime) -> MajorEvent:
    """A worker records a discharge, bereavement or fall: the elder gets a visit within the policy's hours."""
    if kind not in MAJOR_EVENT_KINDS:
        raise DomainError(_l("Please choose what happened from the list."), field="kind")
    if occurred_at is None or occurred_at > now + timedelta(minutes=5):
        raise DomainError(_l("Please give when it happened (not in the future)."), field="occurred_at")
    if occurred_at < now - timedelta(days=30):
        raise DomainError(_l("That is more than 30 days ago."), field="occurred_at")
    note = (note or "").strip()[:200] or None
    event = MajorEvent(elder_id=elder.person_id, kind=kind, occurred_at=occurred_at, note=note,
                       recorded_by_id=actor_id, created_at=now)
    session.add(event)
    session.flush()
    hours = (policy()["tiers"].get(elder.care_tier) or {}).get("after_event_hours")
    if hours:
        obligation = VisitObligation(
            elder_id=elder.person_id, period=f"E{event.id}", cadence="event", tier=elder.care_tier,
            community_id=elder.community_id, window_start=occurred_at, due_at=occurred_at + timedelta(hours=hours),
            window_end=occurred_at + timedelta(hours=hours), status="upcoming", major_event_id=event.id,
            created_at=now, updated_at=now,
        )
        session.add(obligation)
        session.flush()
        _log(session, obligation, "status", now, to_status="upcoming", actor_id=actor_id, reason=kind)
        person_id, role = pick_visitor(session, obligation, now)
        assign(session, obligation, person_id, role, now, actor_id=actor_id, reason="after a major event")
        _set_status(session, obligation, "due", now, reason="window open")
        _notify_assignee(session, obligation, now, f"obl:{obligation.id}:event")
    return event


def deactivate_volunteer(session: Session, volunteer: VolunteerProfile, actor_id: int | None, now: datetime) -> None:
    volunteer.active = False
    for pairing in session.scalars(select(Pairing).where(Pairing.volunteer_id == volunteer.person_id, Pairing.active)):
        pairing.active, pairing.ended_at = False, now
    session.flush()
    events.volunteer_deactivated.send(volunteer, session=session, now=now, actor_id=actor_id)


def _on_volunteer_deactivated(volunteer, session: Session, now: datetime, **_kwargs) -> None:
    open_ones = session.scalars(
        select(VisitObligation).where(VisitObligation.assigned_to_id == volunteer.person_id,
                                      VisitObligation.status.in_(OPEN))
    ).all()
    for obligation in open_ones:
        person_id, role = pick_visitor(session, obligation, now, exclude=(volunteer.person_id,))
        assign(session, obligation, person_id, role, now, reason="volunteer deactivated")
        _notify_assignee(session, obligation, now, f"obl:{obligation.id}:assigned:{person_id}:deactivated")
    session.flush()


def _on_elder_moved(profile, session: Session, now: datetime, old_community_id: int | None = None,
                    **_kwargs) -> None:
    """The elder's obligations of open periods follow them, so the new community counts them once."""
    obligations = session.scalars(
        select(VisitObligation).where(VisitObligation.elder_id == profile.person_id,
                                      VisitObligation.community_id != profile.community_id)
    ).all()
    for obligation in obligations:
        if is_closed(session, obligation.period):
            continue
        obligation.community_id = profile.community_id
        _log(session, obligation, "moved", now, reason=f"from community {old_community_id}")
        if obligation.status in OPEN:
            volunteer = session.get(VolunteerProfile, obligation.assigned_to_id) if obligation.assigned_to_id else None
            if volunteer is None or volunteer.community_id != profile.community_id:
                person_id, role = pick_visitor(session, obligation, now)
                assign(session, obligation, person_id, role, now, reason="elder moved")
    session.flush()


events.visit_verified.connect(_on_visit_verified)
events.volunteer_deactivated.connect(_on_volunteer_deactivated)
events.elder_moved.connect(_on_elder_moved)


# ---------------------------------------------------------------- reminders and escalation

def _send_to(session: Session, person: Person | None, message_id: str, dedupe_key: str, now: datetime,
             **variables) -> None:
    if person is None or not person.active:
        return
    body = translate_for(person.locale, message_id, **variables)
    channel = "call" if person.preferred_channel == "voice" else "sms"
    # Reminders are planned for daytime; should a job run at night, they wait for the morning.
    enqueue(session, person.phone, body, kind="reminder", person=person, channel=channel,
            elder_quiet_hours=True, dedupe_key=dedupe_key, now=now)


def _notify_assignee(session: Session, obligation: VisitObligation, now: datetime, dedupe_key: str) -> None:
    if obligation.assigned_to_id is None:
        return
    person = session.get(Person, obligation.assigned_to_id)
    _send_to(session, person, msg("Please visit %(elder)s (%(community)s) by %(date)s. Thank you!"), dedupe_key, now,
             elder=obligation.elder.name, community=obligation.community.name,
             date=local_date(obligation.window_end - timedelta(seconds=1)).isoformat())


def _names(obligations: list[VisitObligation], limit: int = 20) -> str:
    names = [o.elder.name for o in obligations[:limit]]
    return "、".join(names) + ("…" if len(obligations) > limit else "")


def _officers_for(session: Session, community: Area) -> list[Person]:
    """The street's officers; when the street has none, the district's."""
    ancestors = [int(part) for part in community.path.strip("/").split("/") if part][:-1]
    for area_id in reversed(ancestors):
        officers = session.scalars(
            select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.role == "officer", RoleGrant.area_id == area_id, Person.active)
        ).unique().all()
        if officers:
            return list(officers)
    return []


def _workers_for(session: Session, community_id: int) -> list[Person]:
    return list(session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "worker", RoleGrant.area_id == community_id, Person.active)
    ).unique())


def run_escalation(session: Session, now: datetime) -> dict:
    """Apply the escalation ladder to open obligations. Every step is keyed, so it happens once."""
    summary = {"reminded": 0, "workers_told": 0, "reassigned": 0, "officers_told": 0}
    for cadence, ladder in policy()["escalation"].items():
        obligations = session.scalars(
            select(VisitObligation).where(VisitObligation.cadence == cadence, VisitObligation.status == "due",
                                          VisitObligation.window_start <= now, VisitObligation.window_end > now)
            .order_by(VisitObligation.community_id, VisitObligation.id)
        ).all()
        by_window: dict[tuple, list[VisitObligation]] = {}
        for obligation in obligations:
            by_window.setdefault((obligation.period, obligation.window_start), []).append(obligation)
        for (period, start), group in by_window.items():
            day = (local_date(now) - local_date(start)).days + 1
            reached = [step for step in ladder if step["day"] <= day]
            # After downtime only the latest step of each kind is taken: one catch-up, not a burst.
            latest: dict[str, int] = {}
            for step in reached:
                latest[step["action"]] = max(latest.get(step["action"], 0), step["day"])
            if "remind_visitor" in latest:
                step_day = latest["remind_visitor"]
                for obligation in group:
                    _notify_assignee(session, obligation, now, f"obl:{obligation.id}:remind:d{step_day}")
                    summary["reminded"] += 1
            by_community: dict[int, list[VisitObligation]] = {}
            for obligation in group:
                by_community.setdefault(obligation.community_id, []).append(obligation)
            if "tell_worker" in latest:
                step_day = latest["tell_worker"]
                for community_id, open_ones in by_community.items():
                    for worker in _workers_for(session, community_id):
                        _send_to(session, worker,
                                 msg("%(count)s elders in %(community)s are not visited yet this period: %(names)s"),
                                 f"compliance:{period}:c{community_id}:w{worker.id}:d{step_day}", now,
                                 count=len(open_ones), community=open_ones[0].community.name,
                                 names=_names(open_ones))
                        summary["workers_told"] += 1
            if "reassign_and_tell_officer" in latest:
                step_day = latest["reassign_and_tell_officer"]
                for community_id, open_ones in by_community.items():
                    for obligation in open_ones:
                        if obligation.escalated_at is not None:
                            continue
                        obligation.escalated_at = now
                        exclude = (obligation.assigned_to_id,) if obligation.assigned_role == "volunteer" else ()
                        person_id, role = pick_visitor(session, obligation, now, exclude=exclude)
                        if person_id and person_id != obligation.assigned_to_id:
                            assign(session, obligation, person_id, role, now, reason=f"escalation day {step_day}")
                            _notify_assignee(session, obligation, now, f"obl:{obligation.id}:escalated:d{step_day}")
                            summary["reassigned"] += 1
                    community = open_ones[0].community
                    for officer in _officers_for(session, community):
                        _send_to(session, officer,
                                 msg("%(count)s elders in %(community)s are still not visited on day %(day)s: "
                                     "%(names)s"),
                                 f"compliance:{period}:c{community_id}:o{officer.id}:d{step_day}", now,
                                 count=len(open_ones), community=community.name, day=step_day,
                                 names=_names(open_ones))
                        summary["officers_told"] += 1
    session.flush()
    return summary


# ---------------------------------------------------------------- figures

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


def forecast(session: Session, period: str, community_ids: list[int], now: datetime) -> list[dict] | None:
    """From mid-period: at the current pace, how many elders per community will be missed, and who."""
    window = month_window(period)
    if not window.start <= now < window.end:
        return None
    elapsed = (now - window.start) / (window.end - window.start)
    if elapsed < policy()["compliance"]["forecast_from"]:
        return None
    wanted: dict[int, tuple[CommunityRow, int]] = {}
    for row in community_rows(session, period, community_ids):
        figures = row.figures
        if figures.open == 0:
            continue
        expected_done = figures.done / elapsed
        will_miss = min(figures.open, max(0, math.floor(figures.due - expected_done + 0.5)))
        if will_miss:
            wanted[row.community_id] = (row, will_miss)
    if not wanted:
        return []
    # The names for every community in one query: open obligations ranked per community (the
    # longest unvisited first), cut at the largest number any community needs.
    rank = func.row_number().over(
        partition_by=VisitObligation.community_id,
        order_by=(ElderVisitStat.last_visit_at.is_not(None), ElderVisitStat.last_visit_at, Person.name),
    ).label("rank")
    ranked = (
        select(VisitObligation.community_id, Person.name, rank)
        .join(Person, Person.id == VisitObligation.elder_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == Person.id)
        .where(VisitObligation.period == period, VisitObligation.community_id.in_(list(wanted)),
               VisitObligation.status.in_(OPEN))
        .subquery()
    )
    names: dict[int, list[str]] = {}
    for community_id, name, position in session.execute(
            select(ranked.c.community_id, ranked.c.name, ranked.c.rank)
            .where(ranked.c.rank <= max(n for _r, n in wanted.values()))
            .order_by(ranked.c.community_id, ranked.c.rank)):
        if position <= wanted[community_id][1]:
            names.setdefault(community_id, []).append(name)
    result = []
    for row, will_miss in sorted(wanted.values(), key=lambda item: (item[0].street, item[0].community)):
        result.append({"community": row.community, "community_id": row.community_id, "will_miss": will_miss,
                       "names": names.get(row.community_id, [])})
    return result


def stale_elders(session: Session, community_ids: list[int], now: datetime, limit: int = 200):
    """Special-hardship elders with no counted visit for longer than the policy allows."""
    cutoff = now - timedelta(days=policy()["compliance"]["stale_visit_days"])
    return session.execute(
        select(Person.id, Person.name, Area.name, ElderVisitStat.last_visit_at)
        .join(ElderProfile, ElderProfile.person_id == Person.id)
        .join(Area, Area.id == ElderProfile.community_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == Person.id)
        .where(ElderProfile.community_id.in_(community_ids or [-1]), Person.active,
               ElderProfile.care_tier.in_(("special_hardship", "high_risk")),
               or_(ElderVisitStat.last_visit_at.is_(None), ElderVisitStat.last_visit_at < cutoff))
        .order_by(ElderVisitStat.last_visit_at.is_not(None), ElderVisitStat.last_visit_at, Area.name, Person.name)
        .limit(limit)
    ).all()


# ---------------------------------------------------------------- period close

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
        summary["missed"] += _bulk_status(
            session, and_(VisitObligation.period == period, VisitObligation.status.in_(OPEN),
                          VisitObligation.window_end <= now), "missed", now, "period ended")
        if cadence == "event":
            continue
        _snapshot(session, period, now)
        summary["closed"].append(period)
    session.flush()
    return summary


def _snapshot(session: Session, period: str, now: datetime) -> None:
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


def trend(session: Session, area_paths: list[str], community_ids: list[int], now: datetime,
          months: int = 12) -> list[dict]:
    """The monthly rate over the last `months` months in the viewer's area (snapshots; this month live)."""
    this_month = current_month(now)
    keys = [this_month]
    for _ in range(months - 1):
        keys.append(previous_month(keys[-1]))
    keys.reverse()
    # Closed months from their frozen snapshots (one grouped query), the others live.
    closed = set(session.scalars(select(ComplianceSnapshot.period)
                                 .where(ComplianceSnapshot.period.in_(keys)).distinct()))
    frozen: dict[str, Figures] = {}
    if closed:
        for period, total, excused, done, missed in session.execute(
                select(ComplianceSnapshot.period, func.sum(ComplianceSnapshot.total),
                       func.sum(ComplianceSnapshot.excused), func.sum(ComplianceSnapshot.done),
                       func.sum(ComplianceSnapshot.missed))
                .where(ComplianceSnapshot.period.in_(closed), ComplianceSnapshot.area_id.in_(community_ids or [-1]))
                .group_by(ComplianceSnapshot.period)):
            frozen[period] = Figures(total=int(total), excused=int(excused), done=int(done), missed=int(missed),
                                     open=int(total - excused - done - missed))
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


def communities_at_full(rows: list[CommunityRow]) -> int:
    return sum(1 for row in rows if row.figures.due > 0 and row.figures.done == row.figures.due)
