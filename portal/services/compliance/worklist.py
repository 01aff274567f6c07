"""The worker's working table of a month's visits: one line per elder, filtered, searched, sorted and
paged in SQL, so a 450-elder community costs one page of rows and not the whole list."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from portal.models import ElderProfile, ElderVisitStat, Person, VisitObligation
from portal.services.compliance.history import OPEN
from portal.services.compliance.periods import month_window

# What a worker filters by: an obligation's state as she reads it (an open visit past its due
# time is "overdue", whatever its stored status).
STATES = ("overdue", "due", "upcoming", "done", "missed", "excused")
TIERS = ("high_risk", "special_hardship", "general")
SORTS = ("priority", "name", "due", "last_visit", "visitor")
PAGE_SIZE = 100


@dataclass(frozen=True)
class WorklistFilter:
    """What the worker asked for; every field is a plain string from the query string, checked here."""

    state: str = ""
    tier: str = ""
    visitor: str = ""          # a person id, or "none" for nobody assigned
    building: str = ""         # part of the address: the 网格 or building (e.g. "3 栋")
    q: str = ""                # a name, or the last digits of a phone number
    sort: str = "priority"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> WorklistFilter:
        page = args.get("page", "1")
        return cls(
            state=args.get("state", "") if args.get("state", "") in STATES else "",
            tier=args.get("tier", "") if args.get("tier", "") in TIERS else "",
            visitor=args.get("visitor", "") if args.get("visitor", "") == "none" or args.get("visitor", "").isdigit()
            else "",
            building=(args.get("building") or "").strip()[:40],
            q=(args.get("q") or "").strip()[:40],
            sort=args.get("sort", "priority") if args.get("sort", "priority") in SORTS else "priority",
            page=min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1,
        )

    def args(self, **changes) -> dict:
        """The query-string arguments of this filter (defaults left out), with `changes` applied."""
        chosen = replace(self, **changes)
        defaults = WorklistFilter()
        return {name: getattr(chosen, name) for name in ("state", "tier", "visitor", "building", "q", "sort", "page")
                if getattr(chosen, name) != getattr(defaults, name)}


@dataclass(frozen=True)
class WorklistRow:
    id: int
    elder_id: int
    name: str
    phone: str
    status: str
    state: str
    tier: str
    cadence: str
    due_at: datetime
    excuse_reason: str | None
    late_visit_at: datetime | None
    assigned_to_id: int | None
    visitor: str | None
    last_visit_at: datetime | None
    community_id: int


Visitor = aliased(Person, name="visitor")


def _state(now: datetime, o=VisitObligation):
    overdue = o.status.in_(OPEN) & (o.due_at <= now)
    return case((overdue, "overdue"), else_=o.status)


def _month(period: str, community_ids: list[int]):
    window = month_window(period)
    return and_(VisitObligation.community_id.in_(community_ids or [-1]),
                VisitObligation.window_start < window.end, VisitObligation.window_end > window.start)


def _filtered(query, chosen: WorklistFilter, now: datetime):
    if chosen.state:
        query = query.where(_state(now) == chosen.state)
    if chosen.tier:
        query = query.where(VisitObligation.tier == chosen.tier)
    if chosen.visitor == "none":
        query = query.where(VisitObligation.assigned_to_id.is_(None))
    elif chosen.visitor:
        query = query.where(VisitObligation.assigned_to_id == int(chosen.visitor))
    if chosen.building:
        query = query.join(ElderProfile, ElderProfile.person_id == VisitObligation.elder_id).where(
            ElderProfile.address.contains(chosen.building, autoescape=True))
    if chosen.q:
        query = query.join(Person, Person.id == VisitObligation.elder_id)
        digits = chosen.q.replace(" ", "")
        if digits.isdigit() and len(digits) >= 3:
            query = query.where(Person.phone.endswith(digits, autoescape=True))
        else:
            query = query.where(Person.name.contains(chosen.q, autoescape=True))
    return query


def _state_rank(now: datetime, o=VisitObligation):
    return case({"overdue": 0, "due": 1, "missed": 2, "upcoming": 3, "done": 4, "excused": 5},
                value=_state(now, o), else_=9)


# The obligation's columns a line shows or sorts by
_LINE = ("id", "elder_id", "status", "tier", "cadence", "due_at", "excuse_reason", "late_visit_at", "assigned_to_id",
         "community_id")


def _one_per_elder(period: str, community_ids: list[int], chosen: WorklistFilter, now: datetime):
    """The obligation each elder's line shows: a high-risk elder has a visit a week, four or five in
    a month; her line is the most pressing of those the filter picks (overdue, then due, missed …).
    The obligation's own columns come along (the line shows them, no second read of the row); the
    elder's profile and name are joined only for a filter on them (planning makes obligations from
    profiles, and a profile goes only with its person)."""
    rank = func.row_number().over(partition_by=VisitObligation.elder_id,
                                  order_by=(_state_rank(now), VisitObligation.due_at, VisitObligation.id))
    query = select(*(getattr(VisitObligation, name) for name in _LINE), rank.label("rank")).where(
        _month(period, community_ids))
    return _filtered(query, chosen, now).subquery()


def _order(chosen: WorklistFilter, now: datetime, o=VisitObligation):
    state_rank = _state_rank(now, o)
    high_first = case((o.tier == "high_risk", 0), else_=1)
    never_first = case((ElderVisitStat.last_visit_at.is_(None), 0), else_=1)
    by = {
        # overdue and high-risk first, then whoever is due soonest
        "priority": (state_rank, high_first, o.due_at, Person.name),
        "name": (Person.name,),
        "due": (o.due_at, Person.name),
        "last_visit": (never_first, ElderVisitStat.last_visit_at, Person.name),
        "visitor": (Visitor.name, Person.name),
    }[chosen.sort]
    return (*by, o.id)


def _columns(now: datetime, o=VisitObligation):
    """A line's columns, of the obligation `o` (the table, or the columns of the month's picked lines)."""
    return (
        select(o.id, o.elder_id, Person.name, Person.phone, o.status, _state(now, o).label("state"), o.tier,
               o.cadence, o.due_at, o.excuse_reason, o.late_visit_at, o.assigned_to_id,
               Visitor.name.label("visitor"), ElderVisitStat.last_visit_at, o.community_id)
        .select_from(o if o is VisitObligation else o.id.table)
        .join(Person, Person.id == o.elder_id)
        .outerjoin(Visitor, Visitor.id == o.assigned_to_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == o.elder_id)
    )


def worklist_query(period: str, community_ids: list[int], chosen: WorklistFilter, now: datetime):
    """Every row the filter picks, sorted (unpaged): the list pages it, the export takes all of it."""
    picked = _one_per_elder(period, community_ids, chosen, now)
    return _columns(now, picked.c).where(picked.c.rank == 1).order_by(*_order(chosen, now, picked.c))


def worklist_row(session: Session, obligation_id: int, now: datetime) -> WorklistRow:
    """One line of the table again, after an action on it."""
    return WorklistRow(*session.execute(_columns(now).where(VisitObligation.id == obligation_id)).one())


def worklist_rows(session: Session, period: str, community_ids: list[int], chosen: WorklistFilter,
                  now: datetime, page_size: int | None = None) -> tuple[list[WorklistRow], int]:
    """One page of rows and how many rows the filter picks in all (counted by the same query: the
    month's lines are picked once, not once for the page and again for the count)."""
    page_size = page_size or PAGE_SIZE
    query = worklist_query(period, community_ids, chosen, now)
    rows = session.execute(query.add_columns(func.count().over().label("total"))
                           .limit(page_size).offset((chosen.page - 1) * page_size)).all()
    if rows:
        return [WorklistRow(*row[:-1]) for row in rows], rows[0][-1]
    # a page past the end has no row to carry the count
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return [], total or 0


def state_counts(session: Session, period: str, community_ids: list[int], now: datetime) -> dict[str, int]:
    """How many elders' lines are in each state (the counts beside the state filter)."""
    return line_counts(session, period, community_ids, now)[0]


def line_counts(session: Session, period: str, community_ids: list[int],
                now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """How many elders' lines are in each state and of each tier, in one query: the list mixes tiers
    visited weekly, monthly and quarterly, while the month's visit rate counts the monthly ones."""
    picked = _one_per_elder(period, community_ids, WorklistFilter(), now)
    line = picked.c
    state = _state(now, line)
    states = dict.fromkeys(STATES, 0)
    tiers: dict[str, int] = {}
    for name, tier, n in session.execute(select(state, line.tier, func.count()).where(picked.c.rank == 1)
                                         .group_by(state, line.tier)):
        states[name] = states.get(name, 0) + n
        tiers[tier] = tiers.get(tier, 0) + n
    return states, tiers


def in_period(session: Session, ids: list[int], community_ids: list[int]) -> list[VisitObligation]:
    """The obligations among `ids` in these communities (a bulk action's rows; others are ignored)."""
    if not ids:
        return []
    return list(session.scalars(select(VisitObligation).where(
        VisitObligation.id.in_(ids), VisitObligation.community_id.in_(community_ids or [-1])
    ).order_by(VisitObligation.id)))
