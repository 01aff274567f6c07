"""One way to write dates, times, ranges and percentages per locale, through Babel.

Chinese: 12月1日（周二） 11:30, 12月1日（周二） 16:20–17:00, 85%. English: Tue 1 Dec, 11:30.
Pages, texts and calls all use these (pages through the `local_time` / `day` / `percent` filters),
with the person's locale; moments are shown in clock.local_tz().
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_percent

from portal.clock import local_tz

DAY_PATTERNS = {"zh": "M月d日（EEE）", "en": "EEE d MMM"}
YEAR_DAY_PATTERNS = {"zh": "y年M月d日（EEE）", "en": "EEE d MMM y"}
JOINERS = {"zh": " ", "en": ", "}


def _babel_locale(locale: str | None) -> str:
    return "en" if (locale or "").startswith("en") else "zh_Hans_CN"


def _key(locale: str | None) -> str:
    return "en" if (locale or "").startswith("en") else "zh"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(local_tz())


def day(value: date | datetime | None, locale: str | None, with_year: bool = False) -> str:
    """12月1日（周二） / Tue 1 Dec (a datetime is first moved to local time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return _day(value, _key(locale), with_year)


@lru_cache(maxsize=4096)
def _day(value: date, key: str, with_year: bool) -> str:
    """Days repeat on every page (a list of requests or visits): each is written once per process."""
    patterns = YEAR_DAY_PATTERNS if with_year else DAY_PATTERNS
    return format_date(value, patterns[key], locale="en" if key == "en" else "zh_Hans_CN")


MONTH_PATTERNS = {"zh": "y年M月", "en": "MMMM y"}


def month(period: str | None, locale: str | None) -> str:
    """A monthly period "2026-12" as people write it: 2026年12月 / December 2026 (other periods as they are)."""
    try:
        first = date.fromisoformat(f"{period}-01")
    except (TypeError, ValueError):
        return period or ""
    return format_date(first, MONTH_PATTERNS[_key(locale)], locale=_babel_locale(locale))


def clock_time(moment: datetime, locale: str | None) -> str:
    """11:30: two-digit hour and minute in both languages (Babel's "HH:mm", without its pattern parse)."""
    local = _local(moment)
    return f"{local.hour:02d}:{local.minute:02d}"


def when(moment: datetime | None, locale: str | None) -> str:
    """12月1日（周二） 11:30 / Tue 1 Dec, 11:30."""
    if moment is None:
        return ""
    return day(moment, locale) + JOINERS[_key(locale)] + clock_time(moment, locale)


def time_range(start: datetime | None, end: datetime | None, locale: str | None) -> str:
    """12月1日（周二） 16:20–17:00; the end's day is written only when it differs."""
    if start is None:
        return ""
    if end is None or clock_time(start, locale) == clock_time(end, locale) and day(start, locale) == day(end, locale):
        return when(start, locale)
    if day(start, locale) == day(end, locale):
        return f"{when(start, locale)}–{clock_time(end, locale)}"
    return f"{when(start, locale)}–{when(end, locale)}"


def percent(fraction: float | None, locale: str | None) -> str:
    """0.85 → 85%; None (nothing due) → —."""
    if fraction is None:
        return "—"
    return format_percent(fraction, "#,##0%", locale=_babel_locale(locale))
