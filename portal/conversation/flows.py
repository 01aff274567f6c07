"""The request flow, defined once: what service → type-specific questions → check → confirm."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.conversation import keywords as words
from portal.conversation.engine import CHECK, Flow, Option, Step, register
from portal.i18n import _l
from portal.labels import ELDER_SERVICE_LABELS
from portal.models import ConversationState, ElderProfile, Person
from portal.services import DomainError
from portal.services import requests as service_requests

REQUEST_FLOW = "request"

SERVICE_OPTIONS = tuple(Option(service, ELDER_SERVICE_LABELS[service], words.SERVICES[service])
                        for service in ("meal", "cleaning", "escort", "bathing"))  # the elder's everyday names
DAY_OPTIONS = (
    Option("today", _l("Today"), ("今天", "今日", "today")),
    Option("tomorrow", _l("Tomorrow"), ("明天", "明日", "tomorrow")),
    Option("day_after", _l("The day after tomorrow"), ("后天", "day after tomorrow")),
)
HALF_DAY = (
    Option("morning", _l("Morning"), words.HALF_DAY["morning"]),
    Option("afternoon", _l("Afternoon"), words.HALF_DAY["afternoon"]),
)
SLOT_TIMES = {"morning": time(9, 0), "afternoon": time(14, 0), "lunch": time(11, 30), "dinner": time(17, 30),
              "both": time(11, 30)}


def _then(step: str):
    return lambda data: step


def _after_service(data: dict) -> str:
    return "meals" if data.get("service") == "meal" else "date"


def _after_date(data: dict) -> str:
    return {"meal": "days", "cleaning": "half_day", "escort": "time", "bathing": "slot"}.get(data.get("service"), CHECK)


STEPS = {
    "service": Step("service", _l("What do you need?"), _l("Service"), SERVICE_OPTIONS, _after_service),
    "meals": Step("meals", _l("Which meals?"), _l("Meals"), (
        Option("lunch", _l("Lunch"), words.MEALS["lunch"]),
        Option("dinner", _l("Dinner"), words.MEALS["dinner"]),
        Option("both", _l("Lunch and dinner"), words.MEALS["both"]),
    ), _then("date")),
    "date": Step("date", _l("Which day?"), _l("Day"), DAY_OPTIONS, _after_date, free="date"),
    "days": Step("days", _l("For how many days?"), _l("Number of days"), (
        Option("1", _l("Just that day")), Option("3", _l("Three days")), Option("7", _l("A week")),
    ), _then("diet")),
    "diet": Step("diet", _l("Anything about the food?"), _l("Food note"), (
        Option("none", _l("Nothing special"), words.DIET["none"]),
        Option("low_salt", _l("Less salt"), words.DIET["low_salt"]),
        Option("soft", _l("Soft food"), words.DIET["soft"]),
        Option("diabetic", _l("Low sugar (diabetes)"), words.DIET["diabetic"]),
    ), _then(CHECK), free="text"),
    "half_day": Step("half_day", _l("Morning or afternoon?"), _l("Time of day"), HALF_DAY, _then(CHECK)),
    "time": Step("time", _l("At what time?"), _l("Time"), (
        # four at most: a voice menu reads no more (any other time can be said or written)
        Option("09:00", _l("9 in the morning")),
        Option("10:00", _l("10 in the morning")), Option("14:00", _l("2 in the afternoon")),
        Option("15:00", _l("3 in the afternoon")),
    ), _then("destination"), free="time"),
    "destination": Step("destination", _l("Where to?"), _l("Destination"), (
        Option("clinic", _l("Community clinic"), words.DESTINATIONS["clinic"]),
        Option("hospital", _l("Hospital"), words.DESTINATIONS["hospital"]),
        Option("market", _l("Market or shop"), words.DESTINATIONS["market"]),
        Option("bank", _l("Bank"), words.DESTINATIONS["bank"]),
    ), _then("return_trip"), free="text"),
    "return_trip": Step("return_trip", _l("Do you need someone to bring you back home?"), _l("Way back"), (
        Option("yes", _l("Yes, bring me back"), words.RETURN_TRIP["yes"]),
        Option("no", _l("No, just one way"), words.RETURN_TRIP["no"]),
    ), _then(CHECK)),
    "slot": Step("slot", _l("Morning or afternoon?"), _l("Time of day"), HALF_DAY, _then(CHECK)),
}


def scheduled_at(data: dict) -> datetime:
    day = date.fromisoformat(data["date"])
    if data.get("service") == "escort":
        hour, minute = (int(part) for part in data["time"].split(":"))
        at = time(hour, minute)
    else:
        at = SLOT_TIMES.get(data.get("meals") or data.get("half_day") or data.get("slot"), time(9, 0))
    return datetime.combine(day, at, tzinfo=local_tz())


def complete_request(session: Session, person: Person, state: ConversationState, now: datetime) -> str:
    """Place the request; returns its reference. Family members' state carries the elder's id."""
    data = state.data
    elder = session.get(ElderProfile, data.get("_elder_id") or person.id)
    if elder is None:
        raise DomainError(_l("We could not find whom this request is for."))
    details = {k: v for k, v in data.items() if not k.startswith("_") and k not in ("service", "date")}
    request = service_requests.create_request(session, elder, person, state.channel, data["service"], details,
                                              scheduled_at(data), now)
    return request.reference


register(Flow(REQUEST_FLOW, "service", STEPS, complete_request))
