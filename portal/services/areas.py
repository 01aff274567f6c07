"""The area tree from a sheet (idempotent, by 统计用区划代码 where given), and its upkeep by an admin."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import Area, ElderProfile, VolunteerProfile
from portal.services import DomainError, audit
from portal.services.people import clean_text
from portal.services.scope import add_area, area_path
from portal.services.sheets import find_column

COLUMNS = {
    "district": ("district", "区", "区县", "区/县", "县区", "区（县）"),
    "street": ("street", "街道", "街道/乡镇", "乡镇", "街镇", "街道（乡镇）"),
    "community": ("community", "社区", "社区/村", "村", "村居", "居委会", "社区（村）"),
    "grid": ("grid", "网格"),
    "hotline": ("hotline", "热线", "服务电话", "电话"),
    "code": ("code", "统计用区划代码", "区划代码", "代码"),
}
LEVELS = ("district", "street", "community")
AREA_NAME_MAX = 100


@dataclass(frozen=True)
class AreaChange:
    action: str  # create, rename, move, code, hotline, grid
    level: str
    name: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action:8} {self.level:10} {self.name}{'  ' + self.detail if self.detail else ''}"


class AreaSheetError(DomainError):
    """The sheet has rows that cannot be imported; `problems` lists every one (nothing was written)."""

    def __init__(self, problems: list[str]):
        super().__init__(_l("The sheet has %(count)s problems; nothing was imported.", count=len(problems)))
        self.problems = problems


def _level_code(code: str | None, level: str) -> str | None:
    if not code:
        return None
    return {"district": code[:6] + "000000", "street": code[:9] + "000", "community": code}[level]


class _Tree:
    """Every area in memory, found by code or by (parent, level, name): one query for a whole sheet."""

    def __init__(self, session: Session):
        self.session = session
        self.by_code: dict[str, Area] = {}
        self.by_name: dict[tuple[int | None, str, str], Area] = {}
        for area in session.scalars(select(Area)):
            self._index(area)

    def _index(self, area: Area) -> None:
        if area.code:
            self.by_code[area.code] = area
        self.by_name[(area.parent_id, area.level, area.name)] = area

    def ensure(self, level: str, name: str, parent: Area | None, code: str | None,
               changes: list[AreaChange]) -> Area:
        parent_id = parent.id if parent else None
        area = self.by_code.get(code) if code else None
        if area is None:
            named = self.by_name.get((parent_id, level, name))
            if named is not None and (not code or not named.code):
                area = named
                if code:
                    area.code = code
                    self.by_code[code] = area
                    changes.append(AreaChange("code", level, name, code))
        if area is None:
            area = add_area(self.session, name, level, parent)
            area.code = code
            self._index(area)
            changes.append(AreaChange("create", level, name, code or ""))
            return area
        if area.retired_at is not None:
            return area  # a retired area keeps what it had; the admin page brings it back
        if area.name != name:
            changes.append(AreaChange("rename", level, name, f"(was {area.name})"))
            self.by_name.pop((area.parent_id, level, area.name), None)
            area.name = name
            self.by_name[(area.parent_id, level, name)] = area
        if area.parent_id != parent_id and parent is not None:
            changes.append(AreaChange("move", level, name, f"→ {parent.name}"))
            self.by_name.pop((area.parent_id, level, area.name), None)
            _move(self.session, area, parent)
            self.by_name[(parent_id, level, name)] = area
        return area


def _move(session: Session, area: Area, parent: Area) -> None:
    old_path = area.path
    area.parent_id, area.parent = parent.id, parent
    area.path = area_path(session, parent, area)
    for child in session.scalars(select(Area).where(Area.path.startswith(old_path), Area.id != area.id)):
        child.path = area.path + child.path[len(old_path):]


def import_areas(session: Session, header: list[str], rows: list[list[str]], actor_id: int | None = None
                 ) -> list[AreaChange]:
    """Bring the area tree in line with the sheet; the same sheet again changes nothing.

    Every row is checked first: with any problem nothing is written (AreaSheetError lists them all).
    The caller commits, or rolls back for a dry run.
    """
    columns = {key: find_column(header, names) for key, names in COLUMNS.items()}
    missing = [key for key in LEVELS if columns[key] is None]
    if missing:
        raise AreaSheetError([f"missing column: {', '.join(missing)} (district/区, street/街道, community/社区)"])
    problems: list[str] = []
    parsed = []
    seen_codes: dict[str, tuple[int, tuple]] = {}
    for number, row in enumerate(rows, start=2):
        values = {key: (row[index] if index is not None and index < len(row) else "")
                  for key, index in columns.items()}
        names = {}
        for level in LEVELS:
            try:
                names[level] = clean_text(values[level], level, AREA_NAME_MAX)
            except DomainError:
                problems.append(f"row {number}: {level} is empty or not a name")
        code = values["code"] or None
        if code and not re.fullmatch(r"\d{12}", code):
            problems.append(f"row {number}: the 统计用区划代码 must be 12 digits, not {code!r}")
            code = None
        if code and code.endswith("000"):
            problems.append(f"row {number}: {code} is the code of a street or district, not of a community")
        place = tuple(names.get(level) for level in LEVELS)
        if code and seen_codes.setdefault(code, (number, place))[1] != place:
            problems.append(f"row {number}: code {code} is also another community's, on row {seen_codes[code][0]}")
        hotline = values["hotline"]
        if hotline and not re.fullmatch(r"[0-9+\-() ]{3,32}", hotline):
            problems.append(f"row {number}: hotline {hotline!r} is not a phone number")
        parsed.append((names, code, values["grid"], hotline))
    if problems:
        raise AreaSheetError(problems)
    tree = _Tree(session)
    changes: list[AreaChange] = []
    for names, code, grid, hotline in parsed:
        district = tree.ensure("district", names["district"], None, _level_code(code, "district"), changes)
        street = tree.ensure("street", names["street"], district, _level_code(code, "street"), changes)
        community = tree.ensure("community", names["community"], street, code, changes)
        if community.retired_at is not None:
            continue
        if hotline and community.hotline != hotline:
            community.hotline = hotline
            changes.append(AreaChange("hotline", "community", community.name, hotline))
        if grid and grid not in (community.grids or []):
            community.grids = [*(community.grids or []), grid]
            changes.append(AreaChange("grid", "community", community.name, grid))
    session.flush()
    if changes:
        audit.record(session, actor_id, "import", "areas", None, changes=len(changes))
    return changes


def _name(raw: str) -> str:
    return clean_text(raw, "name", AREA_NAME_MAX)


def _sibling_named(session: Session, parent_id: int | None, level: str, name: str) -> Area | None:
    return session.scalar(select(Area).where(Area.parent_id.is_(parent_id) if parent_id is None
                                             else Area.parent_id == parent_id,
                                             Area.level == level, Area.name == name))


def create_area(session: Session, actor_id: int, name: str, parent_id: int | None,
                hotline: str | None = None) -> Area:
    """A new district (no parent), street (under a district) or community (under a street)."""
    name = _name(name)
    parent = session.get(Area, parent_id) if parent_id else None
    if parent_id and (parent is None or parent.level == "community" or parent.retired_at):
        raise DomainError(_l("Please choose a district or street from the list."), field="parent_id")
    level = "district" if parent is None else LEVELS[LEVELS.index(parent.level) + 1]
    if _sibling_named(session, parent_id, level, name):
        raise DomainError(_l("There is already an area with this name here."), field="name")
    area = add_area(session, name, level, parent, hotline=(hotline or "").strip() or None)
    audit.record(session, actor_id, "create", "area", area.id, name=name, level=level)
    return area


def rename_area(session: Session, actor_id: int, area: Area, name: str) -> Area:
    name = _name(name)
    if name == area.name:
        return area
    if _sibling_named(session, area.parent_id, area.level, name):
        raise DomainError(_l("There is already an area with this name here."), field="name")
    audit.record(session, actor_id, "update", "area", area.id, old_name=area.name, name=name)
    area.name = name
    return area


def people_living_in(session: Session, area: Area) -> int:
    """Elders and active volunteers whose community is in the area's subtree."""
    under = select(Area.id).where(Area.path.startswith(area.path))
    elders = session.scalar(select(func.count()).where(ElderProfile.community_id.in_(under))) or 0
    volunteers = session.scalar(select(func.count()).where(
        VolunteerProfile.community_id.in_(under), VolunteerProfile.active)) or 0
    return elders + volunteers


def retire_area(session: Session, actor_id: int, area: Area, now: datetime) -> Area:
    """Retire an area and everything under it; refused while people still live there (move them first)."""
    if area.retired_at is not None:
        return area
    living = people_living_in(session, area)
    if living:
        raise DomainError(
            _l("%(count)s people still belong to this area. Move them to another community first.", count=living))
    for each in session.scalars(select(Area).where(Area.path.startswith(area.path), Area.retired_at.is_(None))):
        each.retired_at = now
    audit.record(session, actor_id, "retire", "area", area.id, name=area.name)
    return area


def restore_area(session: Session, actor_id: int, area: Area) -> Area:
    """Bring a retired area (and the retired ancestors above it) back."""
    node = area
    while node is not None and node.retired_at is not None:
        node.retired_at = None
        node = node.parent
    audit.record(session, actor_id, "restore", "area", area.id, name=area.name)
    return area
