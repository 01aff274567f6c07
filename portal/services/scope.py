"""Area scoping: workers and officers see their own subtree and nothing outside it."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import Area, Person, RoleGrant


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


def community_workers(session: Session, community_id: int) -> list[Person]:
    """Workers whose area contains the community (the community itself or a street/district above)."""
    community = session.get(Area, community_id)
    if community is None:
        return []
    ancestor_ids = [int(part) for part in community.path.strip("/").split("/") if part]
    return list(session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "worker", RoleGrant.area_id.in_(ancestor_ids), Person.active)
        .order_by(RoleGrant.area_id.desc(), Person.id)
    ).unique())


def governs_whole_installation(person: Person) -> bool:
    """An admin grant without an area (the first administrator's) covers every area."""
    return any(g.role == "admin" and g.area_id is None for g in person.grants)


def admin_area_filter(session: Session, person: Person):
    """A WHERE clause on Area: the areas an administrator governs (all, or their admin subtrees)."""
    if governs_whole_installation(person):
        return Area.id.is_not(None)
    return subtree_filter(session, [g.area_id for g in person.grants if g.role == "admin" and g.area_id])


def admin_governs(session: Session, person: Person, area: Area | None) -> bool:
    """Whether `person` administers `area` (None: a new district, which only a whole-installation admin adds)."""
    if governs_whole_installation(person):
        return True
    if area is None:
        return False
    return session.scalar(select(Area.id).where(Area.id == area.id, admin_area_filter(session, person))) is not None
