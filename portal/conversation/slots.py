"""Which answers can still lead to a time that has not passed: a request for today needs the lead time
of policy()["requests"]["same_day_lead_minutes"]; days are the elder's days (clock.local_tz()).

The one rule for all three channels. Web, SMS and voice show `offered(state, now)`: the current
step with only the options that can still be kept (so at 16:12 "今天" is not listed for lunch, and
the SMS and voice menus number the options that remain: "1" is the first option *shown*).
Answers go through `answer` / `record` / `fill`, which refuse (or drop) a time that has passed
before it is stored, so nobody is asked three more questions about a visit that cannot happen.
services.requests.create_request holds every channel to the same rule once more when the request
is placed (a check page left open past the time)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.conversation import engine
from portal.conversation.engine import FLOWS, RELATIVE_DAYS, Step
from portal.conversation.flows import SLOT_TIMES
from portal.i18n import _l
from portal.models import ConversationState
from portal.services import DomainError
from portal.services.requests import earliest_start

TOO_LATE = _l("That time has passed or is too soon for a volunteer to come. Please choose a later time.")
# The answers that say when; a free text naming a time that has passed loses these and keeps the rest.
WHEN_STEPS = ("date", "half_day", "slot", "time")

LATEST_ESCORT = time(20, 0)  # the latest time the escort step accepts


def _possible_times(data: dict) -> list[time]:
    """The times of day these answers may still end up at."""
    service = data.get("service")
    if service == "meal":
        return [SLOT_TIMES[data["meals"]]] if data.get("meals") in SLOT_TIMES else [SLOT_TIMES["lunch"],
                                                                                   SLOT_TIMES["dinner"]]
    if service == "escort":
        if data.get("time"):
            hour, minute = (int(part) for part in data["time"].split(":"))
            return [time(hour, minute)]
        return [LATEST_ESCORT]
    chosen = data.get("half_day") or data.get("slot")
    return [SLOT_TIMES[chosen]] if chosen in SLOT_TIMES else [SLOT_TIMES["morning"], SLOT_TIMES["afternoon"]]


def still_possible(data: dict, now: datetime) -> bool:
    """Can these (perhaps partial) answers still be kept, given the lead time?"""
    if not data.get("date"):
        return True
    day = date.fromisoformat(data["date"])
    earliest = earliest_start(now)
    return any(datetime.combine(day, at, tzinfo=local_tz()) >= earliest for at in _possible_times(data))


def _as_stored(step: Step, value: str, now: datetime) -> str:
    if step.free == "date" and value in RELATIVE_DAYS:
        today = now.astimezone(local_tz()).date()
        return (today + timedelta(days=RELATIVE_DAYS[value])).isoformat()
    return value


def open_options(step: Step, data: dict, now: datetime) -> list:
    """The options of `step` that can still be kept."""
    return [option for option in step.options
            if still_possible({**data, step.name: _as_stored(step, option.value, now)}, now)]


def offered(state: ConversationState, now: datetime) -> Step:
    """The current step as every channel shows it: only the options that can still be kept, numbered
    in that order (an SMS "1" or a key 1 picks the first option shown)."""
    step = FLOWS[state.flow].steps[state.step]
    return replace(step, options=tuple(open_options(step, {k: v for k, v in state.data.items() if k != step.name},
                                                    now)))


def record(session: Session, state: ConversationState, step_name: str, value: str, now: datetime) -> None:
    """engine.record, refused (DomainError TOO_LATE, nothing stored) when the answers could no longer be kept."""
    before_data, before_step = dict(state.data), state.step
    engine.record(session, state, step_name, value, now)
    if not still_possible(state.data, now):
        state.data, state.step = before_data, before_step
        session.flush()
        raise DomainError(TOO_LATE, field=step_name)


def answer(session: Session, state: ConversationState, raw: str, now: datetime, allow_free: bool = True,
           by_value: bool = False) -> str:
    """Read and record the answer to the current step against the options offered. NoMatch when it
    matches none of them; DomainError when it is wrong or its time has passed. Returns the next step."""
    step = offered(state, now)
    if by_value and raw not in {o.value for o in step.options} \
            and raw in {o.value for o in FLOWS[state.flow].steps[state.step].options}:
        raise DomainError(TOO_LATE, field=step.name)  # an option no longer shown (a page left open)
    value = engine.parse(step, raw, now.astimezone(local_tz()).date(), allow_free, by_value)
    record(session, state, step.name, value, now)
    return state.step


def fill(session: Session, state: ConversationState, answers: dict[str, str], now: datetime) -> bool:
    """engine.fill with the answers a free text gave; when they name a time that can no longer be kept
    ("今天上午" at 16:12), the time is dropped and asked (with only the times still open). True if dropped."""
    before_data, before_step = dict(state.data), state.step
    engine.fill(session, state, answers, now)
    if still_possible(state.data, now):
        return False
    state.data, state.step = before_data, before_step
    engine.fill(session, state, {k: v for k, v in answers.items() if k not in WHEN_STEPS}, now)
    if not still_possible(state.data, now):
        forget_when(session, state, now)
    return True


def begin(session: Session, person, channel: str, flow_name: str, now: datetime,
          data: dict | None = None) -> tuple[ConversationState, bool]:
    """engine.begin with a first free text's answers, less a time that has passed. (state, dropped)."""
    state = engine.begin(session, person, channel, flow_name, now, data)
    if still_possible(state.data, now):
        return state, False
    forget_when(session, state, now)
    return state, True


def forget_when(session: Session, state: ConversationState, now: datetime) -> None:
    """Drop the answers that say when (and what followed them): the day is asked again."""
    flow = FLOWS[state.flow]
    data = {k: v for k, v in state.data.items() if k not in WHEN_STEPS}
    on_path = set(engine.path(flow, data))
    state.data = {k: v for k, v in data.items() if k.startswith("_") or k in on_path}
    state.step = engine.first_open(flow, state.data)
    engine.touch(state, now)
    session.flush()
