"""One reading of free text, for SMS and for voice speech results alike.

"后天上午陪我去医院" → escort, the day after tomorrow, morning, hospital: the conversation then
skips the questions already answered. Days: 今天/明天/后天/大后天, 下周三, 星期三/礼拜三/周三, 12月3日,
3号 (a day of the month already past is next month's; a month and day already past is next
year's when that falls within the booking horizon, so "1月3日" in late December is next January).
Times: 上午9点半 → 09:30, 下午4点 → 16:00, and a bare 3点/4点 (1 to 5 o'clock without 上午/早上/凌晨)
→ 15:00/16:00, since nobody books a visit at 3 in the night.

No Flask and no engine here: the engine and the channel adapters call in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.conversation import keywords as words
from portal.i18n import _l
from portal.services import DomainError

EARLIEST_HOUR, LATEST_HOUR = 6, 20
MAX_DAYS_AHEAD = 60
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"(\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_MONTH_DAY = re.compile(_NUMBER + r"月" + _NUMBER + r"[日号]?")
_DAY_OF_MONTH = re.compile(r"(?<![\d月])" + _NUMBER + r"[号日](?!子)")
_WEEKDAY = re.compile(r"(下下|下|这|本|上)?(?:个)?(星期|礼拜|周)([一二三四五六日天1-7])")
_CLOCK = re.compile(r"(上午|早上|早晨|凌晨|清早|中午|下午|晚上|傍晚|午后)?" + _NUMBER
                    + r"(?:[点時时](半|一刻|三刻|" + r"\d{1,2}分?|[零一二三四五]?十[一二三四五六七八九]?分?)?|[:：](\d{2}))")


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for char in text:
        if char not in _CN_DIGITS:
            return None
        value = value * 10 + _CN_DIGITS[char]
    return value


def _clean(raw: str | None) -> str:
    # Keep ":" for 9:30; everything else as the keywords see it.
    return words.normalize((raw or "").replace(":", "点").replace("：", "点"))


# ------------------------------------------------------------------ days

def read_day(raw: str | None, today: date) -> date | None:
    """The day a text names, or None when it names none (range checks are `check_day`'s)."""
    text = _clean(raw)
    if not text or text.isdigit():
        return None
    for word in sorted(words.RELATIVE_DAYS, key=len, reverse=True):
        if word in text:
            return today + timedelta(days=words.RELATIVE_DAYS[word])
    found = _WEEKDAY.search(text)
    if found:
        which, _prefix, day = found.groups()
        weekday = words.WEEKDAY_NUMBERS[day]
        monday = today - timedelta(days=today.weekday())
        if which in ("下",):
            return monday + timedelta(days=7 + weekday)
        if which == "下下":
            return monday + timedelta(days=14 + weekday)
        if which in ("这", "本", "上"):
            return monday + timedelta(days=weekday)
        ahead = (weekday - today.weekday()) % 7
        return today + timedelta(days=ahead)
    found = _MONTH_DAY.search(text)
    if found:
        month, day = _number(found.group(1)), _number(found.group(2))
        try:
            value = date(today.year, month, day)
        except (TypeError, ValueError):
            raise DomainError(_l("That date does not exist. Please check it."), field="date") from None
        if value < today:
            # "1月3日" in late December is next January; "11月28日" on 1 December has passed.
            following = _next_year(value)
            if following is not None and following <= today + timedelta(days=MAX_DAYS_AHEAD):
                value = following
        return value
    found = _DAY_OF_MONTH.search(text)
    if found:
        day = _number(found.group(1))
        if day is None or not 1 <= day <= 31:
            return None
        year, month = today.year, today.month
        if day < today.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        try:
            return date(year, month, day)
        except ValueError:
            raise DomainError(_l("That date does not exist. Please check it."), field="date") from None
    return None


def _next_year(value: date) -> date | None:
    try:
        return value.replace(year=value.year + 1)
    except ValueError:  # 29 February
        return None


def check_day(value: date, today: date) -> date:
    if value < today:
        raise DomainError(_l("That day has already passed. Please choose today or a later day."), field="date")
    if value > today + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(_l("Please choose a day within the next two months."), field="date")
    return value


# ------------------------------------------------------------------ times of day

def read_half_day(raw: str | None) -> str | None:
    """"morning" or "afternoon" when the text says which half of the day (or a clock time in it)."""
    clock = read_time(raw)
    if clock is not None:
        return "morning" if int(clock[:2]) < 12 else "afternoon"
    return words.find(_clean(raw), words.HALF_DAY)


def read_time(raw: str | None) -> str | None:
    """"HH:MM" for a clock time in the text (上午9点半, 下午4点, 3点 → 15:00, 9:30), else None."""
    text = _clean(raw)
    found = _CLOCK.search(text)
    if not found:
        return None
    marker, hour_text, minute_text, minute_digits = found.groups()
    hour = _number(hour_text)
    if hour is None or hour > 24:
        return None
    minute_text = minute_digits or minute_text or ""
    minute = {"半": 30, "一刻": 15, "三刻": 45, "": 0}.get(minute_text)
    if minute is None:
        minute = _number(minute_text.rstrip("分"))
    if minute is None or minute > 59:
        return None
    if marker in words.AFTERNOON_MARKERS and hour < 12:
        hour += 12
    elif marker in words.NOON_MARKERS and hour < 6:
        hour += 12
    elif marker is None and 1 <= hour <= 5:
        hour += 12  # a bare 3点 is three in the afternoon
    return f"{hour:02d}:{minute:02d}"


def check_time(value: str) -> str:
    hour, minute = (int(part) for part in value.split(":"))
    if not (EARLIEST_HOUR <= hour <= LATEST_HOUR) or (hour == LATEST_HOUR and minute > 0):
        raise DomainError(_l("Please choose a time between 6:00 and 20:00."), field="time")
    return value


# ------------------------------------------------------------------ the whole text

@dataclass
class Understood:
    """What a text or a speech result says, as far as Linli can tell."""

    text: str
    emergency: bool = False
    command: str | None = None          # stop | start | help | cancel | restart | menu | greeting | person
    service: str | None = None
    services: list[str] = field(default_factory=list)
    day: date | None = None
    half_day: str | None = None
    time: str | None = None
    meals: str | None = None
    diet: str | None = None
    destination: str | None = None

    def answers(self, today: date, service: str | None = None) -> dict[str, str]:
        """Answers to the request flow's questions this text already gives (checked; wrong ones left out).

        `service`: the one already chosen in an open conversation, when the text names none."""
        service = self.service or service
        if service is None:
            return {}
        found: dict[str, str] = {"service": service}
        if self.day is not None:
            try:
                found["date"] = check_day(self.day, today).isoformat()
            except DomainError:
                pass
        if service == "meal":
            if self.meals:
                found["meals"] = self.meals
            if self.diet:
                found["diet"] = self.diet
        elif service in ("cleaning", "bathing") and self.half_day:
            found["half_day" if service == "cleaning" else "slot"] = self.half_day
        elif service == "escort":
            if self.time:
                try:
                    found["time"] = check_time(self.time)
                except DomainError:
                    pass
            if self.destination:
                found["destination"] = self.destination
        return found


def _command(text: str) -> str | None:
    for name, table in (("stop", words.STOP), ("start", words.START), ("help", words.HELP),
                        ("restart", words.RESTART), ("cancel", words.CANCEL), ("menu", words.MENU),
                        ("greeting", words.GREETING), ("person", words.PERSON)):
        if text in table:
            return name
    return None


def understand(raw: str | None, today: date) -> Understood:
    """Read a whole text or speech result: emergency, command, service, day, time of day, details."""
    text = words.normalize(raw)
    said = Understood(text=text, emergency=words.is_emergency(raw), command=_command(text))
    if said.command is not None or not text:
        return said
    said.services = words.find_all(text, words.SERVICES)
    meals = words.find_all(text, words.MEALS)
    said.service = said.services[0] if len(said.services) == 1 else None
    try:
        said.day = read_day(raw, today)
    except DomainError:
        said.day = None
    said.time = read_time(raw)
    said.half_day = read_half_day(raw)
    said.meals = "both" if {"lunch", "dinner"} <= set(meals) else words.find(text, words.MEALS)
    said.diet = words.find(text, words.DIET)
    if said.diet == "none":
        said.diet = None  # "没有" inside a longer text is not an answer about food
    said.destination = words.find(text, words.DESTINATIONS)
    return said


# ------------------------------------------------------------------ a numbered choice

_CHOICE = re.compile(r"^(?:选|回|按|第)?(\d|[一二三四五六七八九])(?:个|号|项)?$")


def read_choice(raw: str | None, count: int) -> int | None:
    """A numbered answer (1 … count) to a short question: "2", "２", "二", "选2", "第2个"; None otherwise.
    An emergency word is never a choice (the emergency handler answers it first)."""
    if words.is_emergency(raw):
        return None
    found = _CHOICE.match(words.normalize(raw))
    if found is None:
        return None
    value = _number(found.group(1))
    return value if value is not None and 1 <= value <= count else None
