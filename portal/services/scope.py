"""Area scoping: workers and officers see their own subtree and nothing outside it."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import null, or_, select
from sqlalchemy.orm import Session, aliased

from portal.models import Area, Person, RoleGrant

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
    found = nearest_hotlines(session, [area_id])[0].get(area_id) if area_id else None
    return found or default


_PARENT, _GRANDPARENT = aliased(Area, name="parent_area"), aliased(Area, name="grandparent_area")


def nearest_hotlines(session: Session, area_ids: Iterable[int], also=None) -> tuple[dict[int, str | None], object]:
    """The nearest hotline set on each area or one of its ancestors (None where none is), in one query:
    the tree is three levels deep (community → street → district); a deeper one is walked up from there.
    `also`: a scalar subquery naming one more area (e.g. an elder's community); its value comes back
    second (None without it)."""
    ids = [area_id for area_id in area_ids if area_id]
    if not ids and also is None:
        return {}, None
    parent, grand = _PARENT, _GRANDPARENT
    wanted = Area.id.in_(ids) if also is None else or_(Area.id.in_(ids or [-1]), Area.id == also)
    query = (select(Area.id, Area.hotline, parent.hotline, grand.hotline, grand.parent_id,
                    also if also is not None else null())
             .outerjoin(parent, parent.id == Area.parent_id).outerjoin(grand, grand.id == parent.parent_id)
             .where(wanted))
    found: dict[int, str | None] = {}
    also_value = None
    for area_id, own, parents, grands, beyond, also_value in session.execute(query):
        found[area_id] = chain_hotline(session, own, parents, grands, beyond)
    return found, also_value


def chain_hotline(session: Session, own: str | None, parent: str | None, grandparent: str | None,
                  beyond: int | None) -> str | None:
    """The nearest hotline from an area's, its parent's and its grandparent's (read in one row); a tree
    deeper than three levels is walked up from `beyond`, the grandparent's parent."""
    hotline = own or parent or grandparent
    area = session.get(Area, beyond) if not hotline and beyond else None
    while area is not None and not hotline:
        hotline, area = area.hotline or None, area.parent
    return hotline or None


def _worker_grants(session: Session) -> dict[int, list[int]]:
    """Active workers by the area they are granted (a small table: a district has dozens)."""
    grants: dict[int, list[int]] = {}
    # sorted here, not in SQL: an ORDER BY person_id makes SQLite walk every grant in the unique
    # index's order instead of reading the few worker grants from the (role, area) index
    for area_id, person_id in sorted(session.execute(
        select(RoleGrant.area_id, RoleGrant.person_id).join(Person, Person.id == RoleGrant.person_id)
        .where(RoleGrant.role == "worker", Person.active, RoleGrant.area_id.is_not(None))
    ).all(), key=lambda grant: grant[1]):
        grants.setdefault(area_id, []).append(person_id)
    return grants


def community_worker_ids(session: Session, community_ids) -> dict[int, list[int]]:
    """The workers of each community: those granted the community itself first, then a street or
    district above it (nearest first). The one definition of "a community's workers"."""
    grants = _worker_grants(session)
    result: dict[int, list[int]] = {}
    for community_id, path in session.execute(select(Area.id, Area.path).where(Area.id.in_(list(community_ids)))):
        ancestors = [int(part) for part in (path or "").strip("/").split("/") if part]
        result[community_id] = [person_id for area_id in reversed(ancestors) for person_id in grants.get(area_id, [])]
    return result


def community_workers(session: Session, community_id: int) -> list[Person]:
    """The community's workers, nearest grant first (see `community_worker_ids`)."""
    ids = community_worker_ids(session, [community_id]).get(community_id, [])
    people = {person.id: person for person in session.scalars(select(Person).where(Person.id.in_(ids)))}
    return [people[person_id] for person_id in dict.fromkeys(ids)]


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
