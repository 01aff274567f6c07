"""Which answers can still lead to a time that has not passed: a request for today needs the lead time
of policy()["requests"]["same_day_lead_minutes"]; days are the elder's days (clock.local_tz()).

The web offers only the options that can still be kept (it posts by value, so hiding one shifts
nothing); every channel is held to the same rule when the request is placed
(services.requests.create_request)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from portal.clock import local_tz
from portal.conversation.engine import RELATIVE_DAYS, Step
from portal.conversation.flows import SLOT_TIMES
from portal.services.requests import earliest_start

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
