"""Bulk import of elders (特殊困难老年人台账) and volunteers (志愿者花名册) from a community's sheet.

Two steps: `check_sheet` reads every row and lists every problem of every row, writing nothing;
`apply_import` writes, only when every row is fine or explicitly skipped. The same sheet imported
again changes nothing. A phone or identity number that belongs to someone the importer does not
govern is refused with a message that says nothing about that person.

Longer than 400 lines: the row checks and the bulk writer share one model of a sheet row; the
column mapping (`remembered_mapping`, `check_mapping`) is the seam to move out first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.i18n import _l
from portal.models import (
    HARDSHIP_CATEGORIES,
    Area,
    ElderProfile,
    ImportBatch,
    ImportMapping,
    Person,
    RoleGrant,
    VolunteerProfile,
)
from portal.policy import policy
from portal.services import DomainError, audit
from portal.services.identity import id_birth_date, id_gender, id_number_hash, normalize_id_number
from portal.services.people import (
    ADDRESS_MAX,
    check_birth_date,
    clean_name,
    clean_text,
    derive_tier,
    save_elder,
    save_volunteer,
)
from portal.services.phones import mask_phone, normalize_phone
from portal.services.scope import governs_whole_installation, staff_community_ids
from portal.services.sheets import find_column

# field -> header texts a sheet may use for it (the first mapping is guessed from these)
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "elders": {
        "name": ("姓名", "老人姓名", "name"),
        "phone": ("手机号码", "手机号", "手机", "联系电话", "电话", "phone"),
        "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证", "id_number"),
        "birth_date": ("出生日期", "出生年月日", "出生年月", "birth_date"),
        "gender": ("性别", "gender"),
        "community": ("社区", "所属社区", "社区/村", "社区（村）", "community"),
        "address": ("住址", "家庭住址", "居住地址", "地址", "address"),
        "living_situation": ("居住情况", "居住状况", "居住类型", "living_situation"),
        "hardship": ("困难类型", "困难类别", "特殊困难类型", "hardship"),
    },
    "volunteers": {
        "name": ("姓名", "志愿者姓名", "name"),
        "phone": ("手机号码", "手机号", "手机", "联系电话", "电话", "phone"),
        "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证", "id_number"),
        "birth_date": ("出生日期", "出生年月日", "birth_date"),
        "community": ("社区", "所属社区", "社区/村", "community"),
        "services": ("服务项目", "服务内容", "可提供服务", "services"),
    },
}
REQUIRED = {"elders": ("name", "phone", "address"), "volunteers": ("name", "phone")}
FIELD_LABELS = {
    "name": _l("Name"), "phone": _l("Mobile number"), "id_number": _l("Identity number"),
    "birth_date": _l("Date of birth"), "gender": _l("Gender"), "community": _l("Community"),
    "address": _l("Address"), "living_situation": _l("Living situation"), "hardship": _l("Hardship categories"),
    "services": _l("Services"),
}
LIVING_WORDS = {"独居": "alone", "空巢": "empty_nest", "留守": "left_behind", "与家人同住": "with_family",
                "与子女同住": "with_family", "同住": "with_family", "与配偶同住": "with_family",
                "alone": "alone", "empty_nest": "empty_nest", "left_behind": "left_behind",
                "with_family": "with_family"}
HARDSHIP_WORDS = {"特困": "extreme_poverty", "特困供养": "extreme_poverty", "低保": "low_income",
                  "失能": "disabled_care", "半失能": "disabled_care", "失能/半失能": "disabled_care",
                  "重残": "severe_disability", "重度残疾": "severe_disability", "高龄": "advanced_age",
                  "计划生育特殊家庭": "bereaved_family", "计生特殊家庭": "bereaved_family", "失独": "bereaved_family",
                  **{key: key for key in HARDSHIP_CATEGORIES}}
SERVICE_WORDS = {"助餐": "meal", "助洁": "cleaning", "助行": "escort", "助浴": "bathing", "助急": "emergency"}
GENDER_WORDS = {"男": "m", "女": "f", "m": "m", "f": "f", "male": "m", "female": "f"}
NOT_YOURS = _l("This number cannot be used in this import. Please check it, or ask the district "
               "administrator if it must be registered here.")


@dataclass
class RowCheck:
    number: int  # the row in the sheet (the header is row 1)
    name: str = ""
    phone_masked: str = ""
    id_last4: str = ""
    problems: list = field(default_factory=list)
    data: dict = field(default_factory=dict)
    action: str = ""  # create, update, unchanged (when it has no problems)
    person_id: int | None = None


def importer_community_ids(session: Session, importer: Person | None) -> list[int]:
    """The communities an importer governs; None is the `linli people import` command (every community)."""
    if importer is None or governs_whole_installation(importer):
        return list(session.scalars(select(Area.id).where(Area.level == "community")))
    return staff_community_ids(session, importer)


def guess_mapping(header: list[str], kind: str) -> dict[str, str]:
    mapping = {}
    for key, names in FIELDS[kind].items():
        index = find_column(header, names)
        if index is not None:
            mapping[key] = header[index]
    return mapping


def remembered_mapping(session: Session, community_id: int, kind: str, header: list[str]) -> dict[str, str]:
    """The mapping saved for this community and kind, where its headers are in this sheet; else a guess."""
    saved = session.scalar(select(ImportMapping).where(ImportMapping.community_id == community_id,
                                                       ImportMapping.kind == kind))
    if saved and all(title in header for title in saved.columns.values()):
        return dict(saved.columns)
    return guess_mapping(header, kind)


def remember_mapping(session: Session, community_id: int, kind: str, columns: dict[str, str]) -> None:
    saved = session.scalar(select(ImportMapping).where(ImportMapping.community_id == community_id,
                                                       ImportMapping.kind == kind))
    if saved is None:
        saved = ImportMapping(community_id=community_id, kind=kind, columns={})
        session.add(saved)
    if saved.columns != columns:
        saved.columns = dict(columns)


def check_mapping(kind: str, header: list[str], columns: dict[str, str]) -> list:
    problems = [_l("Please choose the column that holds: %(field)s.", field=FIELD_LABELS[key])
                for key in REQUIRED[kind] if not columns.get(key)]
    used = [title for title in columns.values() if title]
    if any(title not in header for title in used):
        problems.append(_l("Please choose columns from the sheet."))
    if len(used) != len(set(used)):
        problems.append(_l("Each column can be used for one field only."))
    return problems


def parse_date(text: str) -> date | None:
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text) \
        or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[,，、;；/\s]+", text) if w]


def _problem(row: RowCheck, message) -> None:
    row.problems.append(message)


def _read_row(kind: str, values: dict[str, str], row: RowCheck, communities: dict[str, Area],
              default_community: Area, today: date, region: str, id_key: str) -> None:
    """Clean one row's values into row.data, adding every problem found (not only the first)."""
    data = row.data
    try:
        data["name"] = clean_name(values.get("name"))
        row.name = data["name"]
    except DomainError as error:
        row.name = values.get("name", "")[:50]
        _problem(row, error.message)
    try:
        data["phone"] = normalize_phone(values.get("phone"), region)
        row.phone_masked = mask_phone(data["phone"])
    except DomainError as error:
        _problem(row, _l("Mobile number “%(value)s”: %(error)s", value=values.get("phone", "")[:32],
                         error=error.message))
    id_number = None
    if values.get("id_number"):
        try:
            id_number = normalize_id_number(values["id_number"])
            data["id_number_hash"] = id_number_hash(id_number, id_key)
            data["id_number_last4"] = row.id_last4 = id_number[-4:]
        except DomainError as error:
            _problem(row, error.message)
    birth_text = values.get("birth_date", "")
    birth = parse_date(birth_text) if birth_text else None
    if birth_text and birth is None:
        _problem(row, _l("Date of birth “%(value)s” is not a date (write it as 1945-03-08).", value=birth_text[:20]))
    elif birth is not None:
        try:
            check_birth_date(birth, today)
        except DomainError:
            _problem(row, _l("Date of birth %(value)s is not possible.", value=birth.isoformat()))
            birth = None
    if id_number and birth and id_birth_date(id_number) != birth:
        _problem(row, _l("The date of birth does not match the one inside the identity number."))
    if birth is None and id_number and not birth_text:
        birth = id_birth_date(id_number)
    if kind == "elders" and birth is None and not birth_text:
        _problem(row, _l("The date of birth is missing (give it, or the identity number)."))
    data["birth_date"] = birth
    community_text = values.get("community", "")
    community = communities.get(community_text) if community_text else default_community
    if community is None:
        _problem(row, _l("Community “%(value)s” is not one of the communities you look after.",
                         value=community_text[:50]))
    else:
        data["community_id"] = community.id
    if kind == "elders":
        try:
            data["address"] = clean_text(values.get("address"), "address", ADDRESS_MAX)
        except DomainError as error:
            _problem(row, _l("Address: %(error)s", error=error.message))
        living_text = values.get("living_situation", "")
        data["living_situation"] = LIVING_WORDS.get(living_text.lower() if living_text.isascii() else living_text) \
            if living_text else None
        if living_text and data["living_situation"] is None:
            _problem(row, _l("Living situation “%(value)s” is not one of 独居, 空巢, 留守, 与家人同住.",
                             value=living_text[:20]))
        hardship, unknown = [], []
        for word in _words(values.get("hardship", "")):
            (hardship.append(HARDSHIP_WORDS[word]) if word in HARDSHIP_WORDS else unknown.append(word))
        if unknown:
            _problem(row, _l("Hardship category “%(value)s” is not known (特困, 低保, 失能, 半失能, 重残, 高龄, "
                             "计划生育特殊家庭).", value="、".join(unknown)[:40]))
        data["hardship"] = sorted(set(hardship)) if values.get("hardship") is not None else None
        gender_text = values.get("gender", "").lower()
        data["gender"] = GENDER_WORDS.get(gender_text) if gender_text else (id_gender(id_number) if id_number else None)
        if gender_text and data["gender"] is None:
            _problem(row, _l("Gender “%(value)s” is neither 男 nor 女.", value=values["gender"][:10]))
    else:
        services, unknown = [], []
        for word in _words(values.get("services", "")):
            key = SERVICE_WORDS.get(word, word if word in policy()["services"] else None)
            (services.append(key) if key else unknown.append(word))
        if unknown:
            _problem(row, _l("Service “%(value)s” is not known (助餐, 助洁, 助行, 助浴, 助急).",
                             value="、".join(unknown)[:40]))
        data["services"] = sorted(set(services)) if "services" in values else None


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _governed(person: Person, community_ids: set[int]) -> bool:
    """The importer governs a person whose every role lies in the importer's communities."""
    return all(g.area_id in community_ids for g in person.grants)


def _profile_values(kind: str, profile) -> dict:
    if kind == "elders":
        return {"name": profile.person.name, "community_id": profile.community_id, "address": profile.address,
                "birth_date": profile.birth_date, "gender": profile.gender,
                "living_situation": profile.living_situation, "hardship": sorted(profile.hardship or []),
                "id_number_hash": profile.person.id_number_hash, "id_number_last4": profile.person.id_number_last4}
    return {"name": profile.person.name, "community_id": profile.community_id, "birth_date": profile.birth_date,
            "services": sorted(profile.services or []), "id_number_hash": profile.person.id_number_hash,
            "id_number_last4": profile.person.id_number_last4}


def check_sheet(session: Session, importer: Person | None, kind: str, header: list[str], rows: list[list[str]],
                columns: dict[str, str], default_community_id: int, today: date, id_key: str,
                region: str = "CN") -> list[RowCheck]:
    """Every row with its problems (in the reader's language) and what importing it would do."""
    scope_ids = set(importer_community_ids(session, importer))
    areas = list(session.scalars(select(Area).where(Area.id.in_(scope_ids or [-1]), Area.retired_at.is_(None))))
    communities: dict[str, Area] = {}
    for area in areas:
        communities[area.name] = area
        if area.code:
            communities[area.code] = area
    default_community = next((a for a in areas if a.id == default_community_id), None)
    if default_community is None:
        raise DomainError(_l("Please choose a community from the list."), field="community_id")
    index = {key: header.index(title) for key, title in columns.items() if title and title in header}
    checks: list[RowCheck] = []
    for number, raw in enumerate(rows, start=2):
        values = {key: (raw[i] if i < len(raw) else "") for key, i in index.items()}
        row = RowCheck(number=number)
        _read_row(kind, values, row, communities, default_community, today, region, id_key)
        checks.append(row)

    first_row_of: dict[tuple[str, str], int] = {}
    for row in checks:
        for key, label in (("phone", _l("mobile number")), ("id_number_hash", _l("identity number"))):
            value = row.data.get(key)
            if not value:
                continue
            first = first_row_of.setdefault((key, value), row.number)
            if first != row.number:
                _problem(row, _l("The same %(what)s as row %(row)s.", what=label, row=first))

    phones = [r.data["phone"] for r in checks if r.data.get("phone")]
    hashes = [r.data["id_number_hash"] for r in checks if r.data.get("id_number_hash")]
    by_phone: dict[str, Person] = {}
    by_hash: dict[str, Person] = {}
    for chunk in _chunks(phones):
        by_phone.update((p.phone, p) for p in session.scalars(select(Person).where(Person.phone.in_(chunk))
                                                              .options(selectinload(Person.grants))))
    for chunk in _chunks(hashes):
        by_hash.update((p.id_number_hash, p) for p in
                       session.scalars(select(Person).where(Person.id_number_hash.in_(chunk))
                                       .options(selectinload(Person.grants))))
    model = ElderProfile if kind == "elders" else VolunteerProfile
    person_ids = [p.id for p in by_phone.values()]
    profiles = {}
    for chunk in _chunks(person_ids):
        profiles.update((p.person_id, p) for p in session.scalars(select(model).where(model.person_id.in_(chunk))))

    for row in checks:
        person = by_phone.get(row.data.get("phone", ""))
        if person is not None and not _governed(person, scope_ids):
            _problem(row, NOT_YOURS)
            person = None
        owner = by_hash.get(row.data.get("id_number_hash", ""))
        if owner is not None and (person is None or owner.id != person.id):
            if _governed(owner, scope_ids):
                _problem(row, _l("This identity number is already registered for %(name)s (%(phone)s).",
                                 name=owner.name, phone=mask_phone(owner.phone)))
            else:
                _problem(row, NOT_YOURS)
        if row.problems:
            continue
        profile = profiles.get(person.id) if person is not None else None
        row.person_id = person.id if person is not None else None
        if profile is None:
            row.action = "create"
            continue
        current = _profile_values(kind, profile)
        wanted = {key: value for key, value in row.data.items() if key in current and value is not None}
        row.action = "unchanged" if all(current[key] == value for key, value in wanted.items()) else "update"
    return checks


class ImportNotReady(DomainError):
    pass


def apply_import(session: Session, importer: Person | None, kind: str, checks: list[RowCheck], skipped: set[int],
                 today: date, region: str = "CN") -> dict:
    """Write the rows; refused (nothing written) while a row with problems is not skipped."""
    open_problems = [row.number for row in checks if row.problems and row.number not in skipped]
    if open_problems:
        raise ImportNotReady(_l("%(count)s rows still have problems: fix them in the sheet and upload it again, "
                                "or tick “skip” for each.", count=len(open_problems)))
    report = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    new_elders = []
    for row in checks:
        if row.number in skipped:
            report["skipped"] += 1
            continue
        if row.action == "unchanged":
            report["unchanged"] += 1
            continue
        if kind == "elders" and row.action == "create" and row.person_id is None:
            new_elders.append(row)  # written together below: a 10,000-row sheet in a few round trips
        elif kind == "elders":
            _write_elder(session, row, today, region)
        else:
            _write_volunteer(session, row, region)
        report["created" if row.action == "create" else "updated"] += 1
    for chunk in _chunks(new_elders, 1000):
        _create_elders(session, chunk, today)
    audit.record(session, importer.id if importer else None, "import", kind, None, **report)
    return report


def _create_elders(session: Session, rows: list[RowCheck], today: date) -> None:
    """New people who are new elders, in bulk: what save_elder does for one, for a checked chunk of rows."""
    codes = session.info.setdefault("door_codes_taken", None)
    if codes is None:
        codes = session.info["door_codes_taken"] = set(session.scalars(select(ElderProfile.door_code)))
    people = [Person(phone=row.data["phone"], name=row.data["name"], locale="zh_Hans", preferred_channel="sms",
                     id_number_hash=row.data.get("id_number_hash"), id_number_last4=row.data.get("id_number_last4"))
              for row in rows]
    session.add_all(people)
    session.flush()  # one multi-row INSERT … RETURNING for the ids
    for person, row in zip(people, rows):
        data = row.data
        profile = ElderProfile(
            person_id=person.id, person=person, community_id=data["community_id"], address=data["address"],
            birth_date=data["birth_date"], gender=data.get("gender"),
            living_situation=data.get("living_situation") or "with_family", hardship=data.get("hardship") or [],
            ability_level=0, severe_illness=False, emergency_contacts=[], door_code=_free_door_code(codes))
        profile.care_tier = derive_tier(profile, today)
        session.add(profile)
        session.add(RoleGrant(person_id=person.id, role="elder", area_id=data["community_id"]))
    session.flush()


def _free_door_code(taken: set[str]) -> str:
    """A 6-digit door code no elder has (see services.door.new_door_code), from the set already read."""
    import secrets

    for _ in range(200):
        code = "".join(secrets.choice("0123456789") for _ in range(6))
        if code[0] != "0" and code not in taken:
            taken.add(code)
            return code
    raise RuntimeError("could not find a free door code")


def _write_elder(session: Session, row: RowCheck, today: date, region: str) -> None:
    profile = session.get(ElderProfile, row.person_id) if row.action == "update" else None
    data = {"name": row.data["name"], "phone": row.data["phone"]}
    if profile is not None:  # keep what the sheet does not say (contacts, assessment, a worker's tier override)
        data.update(community_id=profile.community_id, address=profile.address, birth_date=profile.birth_date,
                    gender=profile.gender, living_situation=profile.living_situation, hardship=profile.hardship,
                    ability_level=profile.ability_level, severe_illness=profile.severe_illness,
                    emergency_contacts=profile.emergency_contacts, tier_override=profile.tier_override,
                    tier_override_reason=profile.tier_override_reason, locale=profile.person.locale,
                    preferred_channel=profile.person.preferred_channel)
    data.update({key: value for key, value in row.data.items() if value is not None and key not in
                 ("id_number_hash", "id_number_last4")})
    saved = save_elder(session, data, today, profile=profile, region=region)
    _set_id_number(saved.person, row)


def _write_volunteer(session: Session, row: RowCheck, region: str) -> None:
    profile = session.get(VolunteerProfile, row.person_id) if row.action == "update" else None
    data = {"name": row.data["name"], "phone": row.data["phone"]}
    if profile is not None:
        data.update(community_id=profile.community_id, services=profile.services, birth_date=profile.birth_date)
    data.update({key: value for key, value in row.data.items() if value is not None and key not in
                 ("id_number_hash", "id_number_last4")})
    saved = save_volunteer(session, data, region=region)
    saved.person.name = data["name"]
    _set_id_number(saved.person, row)


def _set_id_number(person: Person, row: RowCheck) -> None:
    if row.data.get("id_number_hash"):
        person.id_number_hash = row.data["id_number_hash"]
        person.id_number_last4 = row.data["id_number_last4"]


def start_batch(session: Session, importer: Person, kind: str, community_id: int, filename: str,
                header: list[str], rows: list[list[str]], now: datetime) -> ImportBatch:
    if community_id not in set(importer_community_ids(session, importer)):
        raise DomainError(_l("Please choose a community from the list."), field="community_id")
    batch = ImportBatch(created_by_id=importer.id, kind=kind, community_id=community_id, filename=filename[:200],
                        header=header, rows=rows, status="uploaded", created_at=now)
    session.add(batch)
    session.flush()
    return batch


def purge_stale_batches(session: Session, now: datetime) -> None:
    """Erase the rows of uploads left unfinished for a day."""
    from datetime import timedelta

    for batch in session.scalars(select(ImportBatch).where(ImportBatch.rows.is_not(None),
                                                           ImportBatch.created_at < now - timedelta(days=1))):
        batch.rows, batch.status = None, "expired"


def finish_batch(batch: ImportBatch, report: dict, now: datetime) -> None:
    """Keep the report; erase the rows (they may hold identity numbers)."""
    batch.report, batch.rows, batch.status, batch.finished_at = report, None, "done", now
