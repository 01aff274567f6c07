"""The conversation engine: flows are data (steps with options) plus small step functions.

State lives in `conversation_states`, one row per (person, channel), so a call, a text and a web
page never trample on each other. Crossing channels works by *adoption*: when a channel finds no
open state of its own for the person, it takes over the person's most recent open state on
another channel (the row's channel is switched, its time-out restarted). So an elder who hangs up
after choosing "meal" on a call can text "2" and carry on from the same question, and a web draft
left open on a phone can be finished by text. Time-outs: 30 minutes for SMS and voice, 24 hours
for web drafts (policy()["requests"]).

Over 400 lines: the state machine and the typed-answer parsers (dates, times, Chinese numerals)
are together; the parsers are the part to move beside understand.py next.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.clock import local_tz
from portal.conversation import keywords, understand
from portal.i18n import _l, current_locale, force_locale
from portal.models import ConversationState, Person
from portal.policy import policy
from portal.services import DomainError
from portal.services.people import clean_text

CHECK = "check"
DONE = "done"


class NoMatch(Exception):
    """The answer matches none of the options (the channel decides what to do: help text, re-prompt)."""


@dataclass(frozen=True)
class Option:
    value: str
    label: object                      # a lazy translated string
    keywords: tuple[str, ...] | frozenset[str] = ()  # extra words that pick this option (any language, lower case)


@dataclass(frozen=True)
class Step:
    name: str
    question: object                   # lazy string
    summary: object                    # lazy string for the check-answers page
    options: tuple[Option, ...]
    next: Callable[[dict], str]
    free: str | None = None            # "date" | "time" | "text": a typed answer is accepted too (web, SMS)
    max_length: int = 100


@dataclass
class Flow:
    name: str
    first: str
    steps: dict[str, Step]
    complete: Callable                 # (session, person, state, now) -> result


FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    FLOWS[flow.name] = flow
    return flow


# ---------------------------------------------------------------- state

def _lifetime(channel: str) -> timedelta:
    rules = policy()["requests"]
    if channel == "web":
        return timedelta(hours=rules.get("web_draft_hours", 24))
    return timedelta(minutes=rules.get("conversation_minutes", 30))


def touch(state: ConversationState, now: datetime) -> None:
    state.updated_at = now
    state.expires_at = now + _lifetime(state.channel)


def load(session: Session, person: Person, channel: str, now: datetime, adopt: bool = True) -> ConversationState | None:
    """The person's open conversation on `channel`, adopting one from another channel if need be."""
    rows = session.scalars(select(ConversationState).where(ConversationState.person_id == person.id)
                           .order_by(ConversationState.updated_at.desc())).all()
    own = next((r for r in rows if r.channel == channel), None)
    if own is not None and own.expires_at > now and own.step != DONE:
        return own
    if not adopt:
        return None
    other = next((r for r in rows if r.channel != channel and r.expires_at > now and r.step != DONE), None)
    if other is None:
        return None
    if own is not None:
        session.delete(own)
        session.flush()
    other.channel = channel
    other.data = {k: v for k, v in other.data.items() if k not in ("_retries", "_pending", "_switch")}
    touch(other, now)
    session.flush()
    return other


def begin(session: Session, person: Person, channel: str, flow_name: str, now: datetime,
          data: dict | None = None) -> ConversationState:
    """Start `flow_name` afresh for the person on `channel` (replacing whatever was there)."""
    session.execute(delete(ConversationState).where(ConversationState.person_id == person.id,
                                                    ConversationState.channel == channel))
    flow = FLOWS[flow_name]
    state = ConversationState(person_id=person.id, channel=channel, flow=flow_name, data=dict(data or {}),
                              step=flow.first, updated_at=now, expires_at=now)
    state.step = first_open(flow, state.data)
    touch(state, now)
    session.add(state)
    session.flush()
    return state


def end(session: Session, state: ConversationState) -> None:
    session.delete(state)
    session.flush()


def end_all(session: Session, person: Person, now: datetime) -> int:
    """End every open conversation of the person, whatever channel opened it (取消 by text also stops
    an order left at the check on a call or in a web draft). Finished ones (DONE) are kept, so a retry
    still cannot place them twice. Returns how many were ended."""
    ended = session.execute(delete(ConversationState).where(ConversationState.person_id == person.id,
                                                            ConversationState.step != DONE,
                                                            ConversationState.expires_at > now))
    session.flush()
    return ended.rowcount or 0


def path(flow: Flow, data: dict) -> list[str]:
    """The steps this set of answers walks through, in order (up to the first unanswered one)."""
    steps, name = [], flow.first
    while name not in (CHECK, DONE) and len(steps) < 50:
        steps.append(name)
        if name not in data:
            break
        name = flow.steps[name].next(data)
    return steps


def first_open(flow: Flow, data: dict) -> str:
    steps = path(flow, data)
    return steps[-1] if steps and steps[-1] not in data else CHECK


def previous(flow: Flow, state: ConversationState) -> str | None:
    steps = path(flow, state.data)
    if state.step == CHECK:
        return steps[-1] if steps else None
    if state.step in steps:
        index = steps.index(state.step)
        return steps[index - 1] if index > 0 else None
    return None


def go_to(session: Session, state: ConversationState, step: str, now: datetime) -> bool:
    """Move to an earlier step (back link, change link). Only steps on the current path."""
    flow = FLOWS[state.flow]
    if step != CHECK and step not in path(flow, state.data):
        return False
    state.step = step
    touch(state, now)
    session.flush()
    return True


# ---------------------------------------------------------------- answers

def normalize(raw: str | None) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip().lower()
    return re.sub(r"[\s。.!！?？,，、]+$", "", text)


def _labels(option: Option) -> list[str]:
    names = []
    for locale in ("zh_Hans", "en"):
        with force_locale(locale):
            names.append(str(option.label).lower())
    return names


def match_option(step: Step, raw: str) -> Option | None:
    """The option a reply picks: its number, its value or label, or else its words anywhere in the
    reply where the longest word wins and a negated word counts for nothing (see keywords.find)."""
    text = keywords.normalize(raw)
    if not text:
        return None
    if text.isdigit():
        index = int(text)
        return step.options[index - 1] if 1 <= index <= len(step.options) else None
    for option in step.options:
        if text == option.value or text in (keywords.normalize(label) for label in _labels(option)):
            return option
    table = {option.value: tuple(option.keywords) + tuple(keywords.normalize(label) for label in _labels(option))
             for option in step.options}
    chosen = keywords.find_all(text, table)
    if len(chosen) > 1 and "both" in table and set(chosen) >= {"lunch", "dinner"}:
        chosen = ["both"]
    if len(chosen) != 1:
        return None
    return next(option for option in step.options if option.value == chosen[0])


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_NUMBER = "[零〇一二两三四五六七八九十]{1,3}"
_ORDINAL = "(?:st|nd|rd|th)?"


def _number(token: str) -> int:
    """0–99 written in digits or in Chinese numerals (三, 两, 十五, 二十三, 三十); -1 if it is neither."""
    if token.isdigit():
        return int(token)
    tens, ten, units = token.partition("十")
    if not ten:
        return _CN_DIGITS.get(token, -1) if len(token) == 1 else -1
    if len(tens) > 1 or len(units) > 1:
        return -1
    high = _CN_DIGITS.get(tens, -1) if tens else 1
    low = _CN_DIGITS.get(units, -1) if units else 0
    return -1 if high < 0 or low < 0 else high * 10 + low


_MONTHS = {name: index for index, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for name in names}
_NUM = rf"(?:\d{{1,2}}|{_CN_NUMBER})"
_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?$"),
    re.compile(rf"^(?P<m>{_NUM})[-/.月](?P<d>{_NUM})[日号]?$"),
    re.compile(rf"^(?P<d>{_NUM})[日号]$"),  # "3号": this month, or next month once the day has passed
    re.compile(rf"^(?P<mon>[a-z]+)\.?(?P<d>\d{{1,2}}){_ORDINAL}(?:,?(?P<y>\d{{4}}))?$"),  # jan 3, january 3rd 2027
    re.compile(rf"^(?P<d>\d{{1,2}}){_ORDINAL}(?:of)?(?P<mon>[a-z]+)\.?(?:,?(?P<y>\d{{4}}))?$"),  # 3 jan, 3rd of january
)


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def parse_date(raw: str, today: date) -> date:
    """A day typed in Chinese or English ("1月3日", "2027-01-03", "1/3", "3号", "Jan 3").

    Without a year it is the next such day: asked on 28 December, "1月3日" is 3 January of the
    next year; "3号" is the 3rd of this month, or of the next once it has passed.
    """
    text = normalize(raw).replace(" ", "")
    for pattern in _DATE_PATTERNS:
        found = pattern.match(text)
        if not found:
            continue
        parts = found.groupdict()
        if parts.get("mon") is not None and parts["mon"] not in _MONTHS:
            continue
        day_of_month = _number(parts["d"])
        if parts.get("mon") is not None:
            month = _MONTHS[parts["mon"]]
        elif parts.get("m") is not None:
            month = _number(parts["m"])
        else:
            month = None
        if day_of_month < 0 or (month is not None and month < 0):
            continue
        if parts.get("y"):
            tries = [(int(parts["y"]), month)]
        elif month is not None:
            tries = [(today.year, month), (today.year + 1, month)]
        else:
            tries = [(today.year, today.month), _next_month(today)]
        try:
            value = date(*tries[0], day_of_month)
        except ValueError:
            raise DomainError(_l("That date does not exist. Please check it."), field="date") from None
        if value < today and len(tries) > 1:
            try:
                later = date(*tries[1], day_of_month)
            except ValueError:
                later = None
            if later is not None and (later <= today + timedelta(days=60) or value < today - timedelta(days=60)):
                value = later  # the next such day; a day long past (March, asked in December) is next year's
        if value < today:
            raise DomainError(_l("That day has already passed. Please choose today or a later day."),
                              field="date")
        if value > today + timedelta(days=60):
            raise DomainError(_l("Please choose a day within the next two months."), field="date")
        return value
    raise NoMatch(raw)


_MORNING = ("上午", "早上", "早晨", "清晨", "凌晨", "今早", "明早")
_NOON = ("中午",)
_EVENING = ("下午", "傍晚", "晚上", "今晚", "明晚")
_TIME = re.compile(
    rf"^(?P<part>{'|'.join(_MORNING + _NOON + _EVENING)})?"
    rf"(?P<h>\d{{1,2}}|{_CN_NUMBER})"
    rf"(?:(?:[:：]|[点點時时](?:钟|鐘)?)(?P<m>\d{{1,2}}|{_CN_NUMBER}|半|一刻|三刻)?分?)?"
    r"(?P<ampm>[ap]\.?m\.?|o'clock|oclock)?$"
)


def parse_time(raw: str) -> str:
    """A time of day as "HH:MM" ("15:30", "3点", "下午3点半", "上午9点", "3pm", "三点一刻").

    An hour from 1 to 6 with nothing saying morning is in the afternoon: nobody books a visit
    for 3 in the night, and "3点" means 15:00 the way people say it.
    """
    found = _TIME.match(normalize(raw).replace(" ", ""))
    if not found:
        raise NoMatch(raw)
    hour = _number(found["h"])
    minute = {None: 0, "半": 30, "一刻": 15, "三刻": 45}.get(found["m"])
    if minute is None:
        minute = _number(found["m"])
    part, suffix = found["part"], (found["ampm"] or "").replace(".", "")
    if hour < 0 or minute < 0:
        raise NoMatch(raw)
    if part in _EVENING or suffix == "pm" or (part in _NOON and 1 <= hour <= 6):
        hour = hour + 12 if 1 <= hour < 12 else hour
    elif part in _MORNING or suffix == "am":
        hour = 0 if hour == 12 and suffix == "am" else hour
    elif part is None and 1 <= hour <= 6:
        hour += 12
    if not (0 <= minute < 60 and (6, 0) <= (hour, minute) <= (20, 0)):
        raise DomainError(_l("Please choose a time between 6:00 and 20:00."), field="time")
    return f"{hour:02d}:{minute:02d}"


RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "day_after": 2}


def parse(step: Step, raw: str, today: date, allow_free: bool = True, by_value: bool = False) -> str:
    """The stored value for an answer. NoMatch when it matches nothing; DomainError when it is wrong.

    `by_value`: the answer is an option's value (a web radio button), never its position in the
    list, so the option valued "3" is not mistaken for the third option.
    """
    option = next((o for o in step.options if o.value == (raw or "").strip()), None) if by_value else None
    if option is None and allow_free and step.free == "time" and not normalize(raw).isdigit():
        # A typed time first: "下午3点半" is 15:30, not the option "下午3点" it contains (a bare
        # digit still picks an option by its number).
        try:
            return parse_time(raw)
        except NoMatch:
            pass
    option = option or (None if step.free == "date" and allow_free and understand.read_day(raw, today)
                        else match_option(step, raw))
    if option is not None:
        if step.free == "date":
            return (today + timedelta(days=RELATIVE_DAYS[option.value])).isoformat()
        return option.value
    if not allow_free or step.free is None:
        raise NoMatch(raw)
    if step.free == "date":
        said = understand.read_day(raw, today)
        return (understand.check_day(said, today) if said else parse_date(raw, today)).isoformat()
    if step.free == "time":
        said = understand.read_time(raw)
        return understand.check_time(said) if said else parse_time(raw)
    text = clean_text(raw, step.name, step.max_length, required=True)
    if normalize(text).isdigit():
        raise NoMatch(raw)
    return "note:" + text


def answer(session: Session, state: ConversationState, raw: str, now: datetime, allow_free: bool = True,
           by_value: bool = False) -> str:
    """Record the answer to the current step and move on. Returns the next step's name."""
    flow = FLOWS[state.flow]
    step = flow.steps[state.step]
    value = parse(step, raw, now.astimezone(local_tz()).date(), allow_free, by_value)
    record(session, state, step.name, value, now)
    return state.step


def record(session: Session, state: ConversationState, step_name: str, value: str, now: datetime) -> None:
    flow = FLOWS[state.flow]
    data = {k: v for k, v in state.data.items() if k not in ("_retries", "_pending")}
    data[step_name] = value
    on_path = set(path(flow, data))
    state.data = {k: v for k, v in data.items() if k.startswith("_") or k in on_path}
    state.step = first_open(flow, state.data)
    touch(state, now)
    session.flush()


def fill(session: Session, state: ConversationState, answers: dict[str, str], now: datetime) -> None:
    """Take answers a free text gave to questions not reached yet ("明天中午" answers the day too);
    answers already given are kept, and only steps on the path stay."""
    if not answers or state.step == DONE:
        return
    flow = FLOWS[state.flow]
    data = {**{k: v for k, v in answers.items() if k != "service" or "service" not in state.data}, **state.data}
    on_path = set(path(flow, data))
    state.data = {k: v for k, v in data.items() if k.startswith("_") or k in on_path}
    state.step = first_open(flow, state.data)
    touch(state, now)
    session.flush()


def display(flow: Flow, step_name: str, value: str | None) -> str:
    """How an answer reads back to the person (in the current locale)."""
    if value is None:
        return ""
    if value.startswith("note:"):
        return value[5:]
    step = flow.steps[step_name]
    if step.free == "date":  # the one date style, 12月2日（周三）, in a text, a call and a page alike
        return formatting.day(date.fromisoformat(value), current_locale())
    for option in step.options:
        if option.value == value:
            return str(option.label)
    return value


def summary(flow: Flow, data: dict) -> list[tuple[str, str, str]]:
    """(step, what was asked, the answer) for every answered step on the path."""
    return [(name, str(flow.steps[name].summary), display(flow, name, data.get(name)))
            for name in path(flow, data) if name in data]


def finish(session: Session, person: Person, state: ConversationState, now: datetime):
    """Complete the flow (e.g. place the request). The state is kept as DONE, so a retry cannot repeat it."""
    flow = FLOWS[state.flow]
    if state.step == DONE:
        return state.data.get("_result")
    if first_open(flow, state.data) != CHECK:
        raise DomainError(_l("Some answers are missing. Please answer every question."))
    result = flow.complete(session, person, state, now)
    state.step = DONE
    state.data = {**state.data, "_result": result}
    touch(state, now)
    session.flush()
    return result
