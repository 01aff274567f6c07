"""Paper first: the monthly visit sheet a visitor fills by hand, keyed back in on one page.

The printed sheet lists the elders of a community (or of one visitor) who wait for this month's
visit, each with the date, time in and out, tick boxes for the 探访 record headings and a box for the
elder's mark. A worker keys the whole sheet back in at once: every filled row becomes a visit
entered by hand (method "worker"), which counts and credits only after the elder confirms it or
another staff member verifies it (never the one who keyed it in), with its visit record when the
headings were ticked. Rows left blank write nothing. Every row is tried before anything is kept: one
bad row (that is not skipped) and nothing of the sheet is written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import ElderProfile, Person, Visit, VisitObligation
from portal.services import DomainError, visit_records
from portal.services.compliance import OPEN, month_window
from portal.services.visits import record_by_worker


def sheet_rows(session: Session, community_ids: list[int], period: str, *, assigned_to: int | None = None,
               community: int | None = None, open_only: bool = True) -> list[tuple[VisitObligation, str]]:
    """(obligation, address) for each elder of the sheet, in the sheet's order (address, then name).

    Printed, the sheet lists the elders still waiting; keyed back in, it lists every elder of the
    month who is not excused, so a row filled on paper is there even if someone else came meanwhile."""
    window = month_window(period)
    statuses = OPEN if open_only else ("upcoming", "due", "done", "missed")
    query = (select(VisitObligation, ElderProfile.address)
             .join(ElderProfile, ElderProfile.person_id == VisitObligation.elder_id)
             .join(Person, Person.id == VisitObligation.elder_id)
             .where(VisitObligation.community_id.in_(community_ids or [-1]),
                    VisitObligation.window_start < window.end, VisitObligation.window_end > window.start,
                    VisitObligation.status.in_(statuses)))
    if assigned_to is not None:
        query = query.where(VisitObligation.assigned_to_id == assigned_to)
    elif community is not None:
        query = query.where(VisitObligation.community_id == community)
    return [tuple(row) for row in session.execute(query.order_by(ElderProfile.address, Person.name))]


# What a worker types from a paper sheet, digits first: a day of the sheet's month ("14", "12-14",
# "2026-12-14", also with / or .) and a time ("930", "0930", "9:30", "9.30", "21:05").
_DAY = re.compile(r"^(?:(?:(\d{4})[-/.])?(\d{1,2})[-/.])?(\d{1,2})$")
_CLOCK = re.compile(r"^(\d{1,2})[:.：](\d{2})$|^(\d{1,2})(\d{2})$|^(\d{1,2})$")


def read_day(raw: str, period: str) -> date:
    """A day written on the sheet of `period` ("YYYY-MM"); the month and year default to the sheet's."""
    match = _DAY.match((raw or "").strip())
    wrong = DomainError(_l("Please write the day as 14, 12-14 or %(period)s-14.", period=period), field="day")
    if not match:
        raise wrong
    year, month, day = (int(match.group(1) or period[:4]), int(match.group(2) or period[5:7]), int(match.group(3)))
    try:
        written = date(year, month, day)
    except ValueError:
        raise wrong from None
    if f"{written:%Y-%m}" != period:
        raise DomainError(_l("This date is not in %(period)s, the month of the sheet.", period=period), field="day")
    return written


def read_clock(raw: str) -> time:
    """A time written on the sheet: 0930, 930, 9:30, 9.30 or 9 (o'clock)."""
    match = _CLOCK.match((raw or "").strip())
    hour, minute = -1, -1
    if match:
        hour = int(match.group(1) or match.group(3) or match.group(5))
        minute = int(match.group(2) or match.group(4) or 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DomainError(_l("Please write the time as 0930 or 9:30."), field="start")
    return time(hour, minute)


@dataclass
class SheetEntry:
    """One keyed-in row of a paper sheet (already checked to be an elder and a visitor of the worker's)."""

    number: int
    elder: ElderProfile
    volunteer: Person
    start: datetime
    end: datetime
    answers: dict[str, str] = field(default_factory=dict)


def enter_sheet(session: Session, worker: Person, entries: list[SheetEntry], now: datetime,
                public_url: str = "") -> tuple[list[Visit], dict[int, str]]:
    """Write each entry as a hand-entered visit (and its record); the visits and the problem of each row
    that failed. When any row failed the caller rolls the whole sheet back."""
    visits: list[Visit] = []
    problems: dict[int, str] = {}
    for entry in entries:
        try:
            with session.begin_nested():
                visit = record_by_worker(session, worker, entry.volunteer, entry.elder, entry.start, entry.end, now,
                                         public_url=public_url)
                if entry.answers:
                    visit_records.record_visit(session, visit, entry.answers, worker.id, "paper", now)
            visits.append(visit)
        except DomainError as error:
            problems[entry.number] = str(error.message)
    return visits, problems
