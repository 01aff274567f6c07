"""Area scoping: workers and officers see their own subtree and nothing outside it."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import Area, Person

T = TypeVar("T")


def subtree_filter(session: Session, area_ids: list[int]):
    """A WHERE clause on Area matching every area under (and including) `area_ids`."""
    if not area_ids:
        return Area.id.is_(None) & Area.id.is_not(None)  # matches nothing
    paths = session.scalars(select(Area.path).where(Area.id.in_(area_ids))).all()
    return or_(*[Area.path.startswith(path) for path in paths])


def community_ids_in(session: Session, area_ids: list[int]) -> list[int]:
    """The communities under `area_ids`."""
    return list(
        session.scalars(
            select(Area.id).where(Area.level == "community", subtree_filter(session, area_ids))
        )
    )


def staff_area_ids(person: Person) -> list[int]:
    """Every area a worker, officer or admin grant gives `person`."""
    return [g.area_id for g in person.grants if g.role in ("worker", "officer", "admin") and g.area_id]


def staff_community_ids(session: Session, person: Person) -> list[int]:
    return community_ids_in(session, staff_area_ids(person))


def governed(session: Session, person: Person, found: T | None,
             communities_of: Callable[[T], Iterable[int | None]] = lambda found: (found.community_id,)) -> T | None:
    """`found` when a staff grant of `person` covers its community (or one of `communities_of(found)`),
    else None. A read checks the same as a write; callers answer None with 404, so nothing tells a
    worker of another area whether the record exists."""
    if found is None:
        return None
    return found if set(communities_of(found)) & set(staff_community_ids(session, person)) else None


def area_path(session: Session, parent: Area | None, area: Area) -> str:
    return f"{parent.path if parent else '/'}{area.id}/"


def add_area(session: Session, name: str, level: str, parent: Area | None = None, hotline=None) -> Area:
    """Create an area and its materialised path."""
    area = Area(name=name, level=level, parent=parent, hotline=hotline)
    session.add(area)
    session.flush()
    area.path = area_path(session, parent, area)
    return area


def area_hotline(session: Session, area_id: int | None, default: str | None = None) -> str | None:
    """The nearest hotline set on the area or one of its ancestors, else `default`."""
    area = session.get(Area, area_id) if area_id else None
    while area is not None:
        if area.hotline:
            return area.hotline
        area = area.parent
    return default
