"""每日问安: a daily call for elders living alone, so nobody who lives alone goes a day without
someone knowing.

At the time she chose, Linli calls: 1 = fine today, 9 = an emergency. No answer → one retry
`retry_minutes` later → no answer again → her paired volunteer and a family member are texted, and
the worker's list shows the miss until someone records that they saw her. A week of misses with
nobody recording a visit raises it to the street officer. She may also answer by texting 1 (or 9):
the call is recorded as the question she was asked last (services.questions, kind "checkin"), so a
bare digit answers it only while nothing else has been asked since (portal.channels.sms_answers).
The job (`run_checkins`) is idempotent: a day has one row per elder, and each step happens once.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import local_tz
from portal.i18n import msg, translate_for
from portal.models import Area, CheckInDay, DailyCheckIn, ElderProfile, FamilyLink, Pairing, Person, RoleGrant
from portal.policy import policy
from portal.services import DomainError, family_notices, questions
from portal.services.outbox import enqueue

CHECKIN_KIND = "checkin"
CALL_PATH = "/twilio/voice/checkin/{day_id}"


def rules() -> dict:
    return policy()["checkins"]


def local_day(now: datetime) -> date:
    return now.astimezone(local_tz()).date()


def _at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=local_tz())


def subscribe(session: Session, elder: ElderProfile, call_time: str, by: Person | None, now: datetime) -> DailyCheckIn:
    """Opt an elder in (or change her time). The caller has checked that `by` may."""
    if len(call_time) != 5 or call_time[2] != ":" or not (call_time[:2] + call_time[3:]).isdigit() \
            or int(call_time[:2]) > 23 or int(call_time[3:]) > 59:
        raise DomainError(msg("Please give the time as HH:MM, for example 09:00."))
    row = session.get(DailyCheckIn, elder.person_id)
    if row is None:
        row = DailyCheckIn(elder_id=elder.person_id, call_time=call_time, active=True,
                           opted_in_by_id=by.id if by else None, created_at=now)
        session.add(row)
    else:
        row.call_time, row.active = call_time, True
    session.flush()
    return row


def unsubscribe(session: Session, elder: ElderProfile) -> None:
    row = session.get(DailyCheckIn, elder.person_id)
    if row is not None:
        row.active = False
        session.flush()


def greeting(elder: Person, now: datetime, gender: str | None) -> str:
    """王奶奶，早上好，您今天好吗？好请按1，需要帮助请按9"""
    if elder.locale == "en":
        name = elder.name
    else:
        name = elder.name[:1] + ("奶奶" if gender == "f" else "爷爷" if gender == "m" else "老人家")
    if now.astimezone(local_tz()).hour < 12:
        return translate_for(elder.locale, "Good morning, %(name)s. How are you today? If you are well, press 1. "
                                           "If you need help, press 9.", name=name)
    return translate_for(elder.locale, "Hello, %(name)s. How are you today? If you are well, press 1. "
                                       "If you need help, press 9.", name=name)


def _call(session: Session, day: CheckInDay, elder: Person, now: datetime, attempt: int) -> None:
    # The elder chose the time: no quiet hours. Not urgent: the reminder lane is right for it.
    enqueue(session, elder.phone, CALL_PATH.format(day_id=day.id), kind=CHECKIN_KIND, person=elder, channel="call",
            elder_quiet_hours=False, dedupe_key=f"checkin:{day.id}:call:{attempt}", now=now)
    asked(session, day, now)


def asked(session: Session, day: CheckInDay, now: datetime) -> None:
    """The 问安 call is the question she was asked last, open until the end of her day."""
    end_of_day = datetime.combine(day.day + timedelta(days=1), time(0, 0), tzinfo=local_tz())
    questions.ask(session, day.elder_id, "checkin", now, subject_id=day.id, channel="call", until=end_of_day)


def _tell_missed(session: Session, day: CheckInDay, profile: ElderProfile, now: datetime) -> int:
    """Text her paired volunteer and one family member (or emergency contact)."""
    elder = profile.person
    # msg(): marked for extraction, or a catalogue update drops them as unused
    template = (msg("We could not reach %(name)s for today's check-in call. Please go and see her.")
                if profile.gender == "f"
                else msg("We could not reach %(name)s for today's check-in call. Please go and see him."))
    recipients: list[tuple[str, str, Person | None]] = []
    pairing = session.scalar(select(Pairing).where(Pairing.elder_id == profile.person_id, Pairing.active)
                             .order_by(Pairing.id).limit(1))
    if pairing is not None:
        recipients.append((pairing.volunteer.phone, pairing.volunteer.locale, pairing.volunteer))
    link = session.scalar(select(FamilyLink).where(FamilyLink.elder_id == profile.person_id,
                                                   FamilyLink.status == "approved").order_by(FamilyLink.id).limit(1))
    if link is not None:
        family = session.get(Person, link.family_id)
        recipients.append((family.phone, family.locale, family))
    elif profile.emergency_contacts:
        contact = next((c for c in profile.emergency_contacts if c.get("phone")), None)
        if contact:
            known = session.scalar(select(Person).where(Person.phone == contact["phone"]))
            recipients.append((contact["phone"], known.locale if known else "zh_Hans", known))
    # and every other relative who asked to be told (family month page)
    for other in family_notices.opted_in(session, profile.person_id, "notify_checkins"):
        if all(phone != other.family.phone for phone, _locale, _person in recipients):
            recipients.append((other.family.phone, other.family.locale, other.family))
    told = 0
    for phone, locale, person in recipients:
        if enqueue(session, phone, translate_for(locale, template, name=elder.name), kind="checkin_missed",
                   person=person, urgent=True, dedupe_key=f"checkin:{day.id}:missed:{phone}", now=now):
            told += 1
    return told


def _street_officers(session: Session, community_id: int) -> list[Person]:
    community = session.get(Area, community_id)
    street_id = community.parent_id if community is not None else None
    if street_id is None:
        return []
    return list(session.scalars(select(Person).join(RoleGrant, RoleGrant.person_id == Person.id).where(
        RoleGrant.role == "officer", RoleGrant.area_id == street_id, Person.active)))


def _raise_to_officer(session: Session, day: CheckInDay, profile: ElderProfile, now: datetime) -> None:
    """A week of missed calls and nobody has recorded seeing her: the street officer is told, once."""
    days = rules()["officer_after_days"]
    recent = list(session.scalars(select(CheckInDay).where(
        CheckInDay.elder_id == day.elder_id, CheckInDay.day > day.day - timedelta(days=days),
        CheckInDay.day <= day.day).order_by(CheckInDay.day)))
    if len(recent) < days or any(d.status != "missed" or d.seen_at is not None for d in recent):
        return
    if any(d.officer_told_at is not None for d in recent):
        return
    for officer in _street_officers(session, profile.community_id):
        enqueue(session, officer.phone, translate_for(
            officer.locale, "%(name)s (%(community)s) has missed the daily check-in call for %(days)d days and "
                            "nobody has recorded seeing them. Please follow up.",
            name=profile.person.name, community=profile.community.name, days=days),
            kind="checkin_officer", person=officer, urgent=True,
            dedupe_key=f"checkin:{day.id}:officer:{officer.id}", now=now)
    day.officer_told_at = now


def run_checkins(session: Session, now: datetime) -> dict:
    """Place today's calls that are due, retry unanswered ones once, then tell people. Idempotent."""
    today = local_day(now)
    retry = timedelta(minutes=rules()["retry_minutes"])
    placed = retried = missed = 0
    subscriptions = session.scalars(select(DailyCheckIn).where(DailyCheckIn.active)).all()
    days = {d.elder_id: d for d in session.scalars(select(CheckInDay).where(CheckInDay.day == today))}
    for subscription in subscriptions:
        profile = subscription.elder
        if profile is None or not profile.person.active:
            continue
        day = days.get(subscription.elder_id)
        if day is None:
            if now < _at(today, subscription.call_time):
                continue
            day = CheckInDay(elder_id=subscription.elder_id, day=today, status="calling", calls=1,
                             first_call_at=now, last_call_at=now)
            session.add(day)
            session.flush()
            _call(session, day, profile.person, now, 1)
            placed += 1
        elif day.status == "calling" and day.calls == 1 and now >= day.last_call_at + retry:
            day.calls, day.last_call_at = 2, now
            _call(session, day, profile.person, now, 2)
            retried += 1
        elif day.status == "calling" and day.calls >= 2 and now >= day.last_call_at + retry:
            day.status = "missed"
            _tell_missed(session, day, profile, now)
            _raise_to_officer(session, day, profile, now)
            missed += 1
    session.flush()
    return {"placed": placed, "retried": retried, "missed": missed}


def answer(session: Session, day: CheckInDay, digit: str, via: str, now: datetime) -> str:
    """Her answer: "1" fine, "9" emergency. Returns the day's status."""
    from portal.services import requests as service_requests

    if digit == "9":
        profile = session.get(ElderProfile, day.elder_id)
        service_requests.emergency(session, profile, via, now)
        day.status = "emergency"
    elif digit == "1" and day.status in ("calling", "missed"):
        day.status = "ok"
    else:
        return day.status
    day.answered_at, day.answered_via = now, via
    questions.answered_if(session, day.elder_id, "checkin", day.id)
    session.flush()
    return day.status


def open_day_for(session: Session, elder_id: int, now: datetime) -> CheckInDay | None:
    """Today's check-in waiting for her answer (a text of 1 answers it), if any."""
    return session.scalar(select(CheckInDay).where(CheckInDay.elder_id == elder_id, CheckInDay.day == local_day(now),
                                                   CheckInDay.status.in_(("calling", "missed"))))


def record_seen(session: Session, day: CheckInDay, by: Person, now: datetime) -> None:
    """Someone saw her after a missed call (the caller has checked that `by` governs her)."""
    if day.seen_at is None:
        day.seen_at, day.seen_by_id = now, by.id
        session.flush()


def last_days(session: Session, elder_ids: list[int], today: date, count: int = 30) -> dict[int, dict[date, str]]:
    """Each elder's answers for the last `count` days, for the worker's at-a-glance strip."""
    start = today - timedelta(days=count - 1)
    result: dict[int, dict[date, str]] = {elder_id: {} for elder_id in elder_ids}
    for day in session.scalars(select(CheckInDay).where(CheckInDay.elder_id.in_(elder_ids or [-1]),
                                                        CheckInDay.day >= start, CheckInDay.day <= today)):
        result[day.elder_id][day.day] = day.status
    return result


def unseen_misses(session: Session, elder_ids: list[int]) -> list[CheckInDay]:
    """Missed calls nobody has recorded seeing her after: the worker's list shows them until someone has."""
    return list(session.scalars(select(CheckInDay).where(
        CheckInDay.elder_id.in_(elder_ids or [-1]), CheckInDay.status == "missed", CheckInDay.seen_at.is_(None))
        .order_by(CheckInDay.day)))
