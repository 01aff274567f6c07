"""Visits: check in and out at the elder's door, the elder's confirmation, follow-ups for workers."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal import events, formatting
from portal.i18n import _l, translate_for
from portal.models import (
    ElderProfile,
    FamilyLink,
    FollowUp,
    Pairing,
    Person,
    ServiceRequest,
    Visit,
    VisitObligation,
    VolunteerProfile,
)
from portal.models.visits import WELLBEING_FLAGS
from portal.policy import policy
from portal.services import DomainError, family_notices, questions
from portal.services import requests as service_requests
from portal.services.door import read_door_token
from portal.services.ledger import credit_visit
from portal.services.outbox import enqueue, quiet_hours_end
from portal.services.people import clean_text

CODE_FAILURES_ALLOWED = 5
CODE_LOCK_SECONDS = 15 * 60
NOTES_MAX = 1000
CONFIRMATION_WINDOW = timedelta(days=3)


class VisitError(DomainError):
    pass


# ---------------------------------------------------------------- finding the elder at the door

def elders_within_reach(session: Session, volunteer_id: int):
    """A WHERE clause on ElderProfile: the elders a volunteer may check in with — those of their own
    community, their pairings, the requests they hold and the visits assigned to them. A door code is
    looked up among these only, so a guess at a code of another area finds nobody and names nobody."""
    community_id = session.scalar(select(VolunteerProfile.community_id)
                                  .where(VolunteerProfile.person_id == volunteer_id))
    paired = select(Pairing.elder_id).where(Pairing.volunteer_id == volunteer_id, Pairing.active)
    held = select(ServiceRequest.elder_id).where(ServiceRequest.volunteer_id == volunteer_id,
                                                 ServiceRequest.status.in_(("accepted", "in_progress")))
    assigned = select(VisitObligation.elder_id).where(VisitObligation.assigned_to_id == volunteer_id,
                                                      VisitObligation.status.in_(("upcoming", "due")))
    return or_(ElderProfile.community_id == community_id, ElderProfile.person_id.in_(paired),
               ElderProfile.person_id.in_(held), ElderProfile.person_id.in_(assigned))


def within_reach(session: Session, volunteer_id: int, elder: ElderProfile) -> bool:
    return session.scalar(select(ElderProfile.person_id).where(
        ElderProfile.person_id == elder.person_id, elders_within_reach(session, volunteer_id))) is not None


def elder_from_token(session: Session, secret_key: str, token: str, volunteer_id: int) -> ElderProfile:
    """The elder whose door card carries `token`; a forged token, an old (reprinted) card or the card
    of an elder outside the volunteer's reach is refused."""
    read = read_door_token(secret_key, token or "")
    if read is None:
        raise VisitError(_l("This door card is not valid. Please type the door code instead."))
    elder_id, version = read
    profile = session.get(ElderProfile, elder_id)
    if profile is None or profile.door_token_version != version:
        raise VisitError(_l("This door card has been replaced. Please use the new card or type the door code."))
    if not within_reach(session, volunteer_id, profile):
        raise VisitError(_l("This door card is not valid. Please type the door code instead."))
    return profile


def _lock_key(volunteer_id: int) -> str:
    return f"door-code-fail:{volunteer_id}"


def code_locked(limiter, volunteer_id: int, now: datetime) -> bool:
    return limiter.peek(_lock_key(volunteer_id), CODE_LOCK_SECONDS, now.timestamp()) >= CODE_FAILURES_ALLOWED


def elder_from_code(session: Session, limiter, volunteer_id: int, raw_code: str, now: datetime) -> ElderProfile:
    """The elder with this door code. Five wrong codes lock code check-in for this volunteer for a while."""
    if code_locked(limiter, volunteer_id, now):
        raise VisitError(_l("Too many wrong door codes. Please wait 15 minutes or call the community worker."),
                         field="code")
    code = "".join((raw_code or "").split())
    profile = None
    if code.isdigit() and code.isascii() and 4 <= len(code) <= 8:
        profile = session.scalar(select(ElderProfile).where(ElderProfile.door_code == code,
                                                            elders_within_reach(session, volunteer_id)))
    if profile is None:
        limiter.hit(_lock_key(volunteer_id), 10**6, CODE_LOCK_SECONDS, now.timestamp())
        if code_locked(limiter, volunteer_id, now):
            raise VisitError(_l("Too many wrong door codes. Please wait 15 minutes or call the community worker."),
                             field="code")
        raise VisitError(_l("That door code is not right. Please check the card on the door."), field="code")
    return profile


# ---------------------------------------------------------------- check in and out

def open_visit_for(session: Session, volunteer_id: int) -> Visit | None:
    return session.scalar(select(Visit).where(Visit.volunteer_id == volunteer_id, Visit.status == "open")
                          .order_by(Visit.checked_in_at.desc()).limit(1))


def _active_volunteer(session: Session, person: Person) -> VolunteerProfile:
    profile = session.get(VolunteerProfile, person.id)
    if profile is None or not profile.active:
        raise VisitError(_l("Only registered volunteers can check in."))
    return profile


def _counts(method: str) -> bool:
    return method in policy()["visits"]["counting_methods"]


def _relatives(session: Session, a: int, b: int) -> bool:
    return session.scalar(
        select(FamilyLink.id).where(FamilyLink.status != "revoked",
                                    or_(and_(FamilyLink.family_id == a, FamilyLink.elder_id == b),
                                        and_(FamilyLink.family_id == b, FamilyLink.elder_id == a))).limit(1)
    ) is not None


def _overlaps(session: Session, volunteer_id: int, start: datetime, end: datetime | None,
              ignore_id: int | None = None) -> bool:
    far = end or start + timedelta(seconds=1)
    query = select(Visit.id).where(
        Visit.volunteer_id == volunteer_id,
        Visit.checked_in_at < far,
        or_(Visit.checked_out_at.is_(None), Visit.checked_out_at > start),
    )
    if ignore_id:
        query = query.where(Visit.id != ignore_id)
    return session.scalar(query.limit(1)) is not None


def check_in(session: Session, volunteer: Person, elder: ElderProfile, method: str, now: datetime,
             request_id: int | None = None, service_type: str = "visit") -> Visit:
    _active_volunteer(session, volunteer)
    if volunteer.id == elder.person_id:
        raise VisitError(_l("You cannot check in at your own home."))
    current = open_visit_for(session, volunteer.id)
    if current is not None:
        raise VisitError(_l("You are still checked in with %(name)s. Please check out there first.",
                            name=current.elder.name))
    if _overlaps(session, volunteer.id, now, None):
        raise VisitError(_l("You already have a visit at this time."))
    if service_type not in policy()["services"]:
        raise VisitError(_l("Please choose a service from the list."), field="service_type")
    if not within_reach(session, volunteer.id, elder):
        raise VisitError(_l("That door code is not right. Please check the card on the door."), field="code")
    visit = Visit(volunteer_id=volunteer.id, elder_id=elder.person_id, community_id=elder.community_id,
                  request_id=request_id, service_type=service_type, checked_in_at=now, method=method,
                  status="open", counts_for_compliance=_counts(method), flags=[])
    if _relatives(session, volunteer.id, elder.person_id):
        visit.needs_worker, visit.needs_worker_reason = True, "relative"
    session.add(visit)
    session.flush()
    if request_id is None:
        service_requests.serve_at_the_door(session, visit, volunteer, now)
    return visit


def clean_flags(flags) -> list[str]:
    chosen = list(dict.fromkeys(flags or []))
    if any(flag not in WELLBEING_FLAGS for flag in chosen):
        raise VisitError(_l("Please choose from the listed concerns."), field="flags")
    return chosen


def check_out(session: Session, visit: Visit, volunteer: Person, now: datetime, method: str,
              notes: str | None = None, flags=None, public_url: str = "") -> Visit:
    if visit.volunteer_id != volunteer.id:
        raise VisitError(_l("This is not your visit."))
    if visit.status != "open":
        raise VisitError(_l("You have already checked out of this visit."))
    if now <= visit.checked_in_at:
        raise VisitError(_l("Check-out must be after check-in."))
    chosen = clean_flags(flags)
    text = clean_text(notes, "notes", NOTES_MAX, required=False) or None
    _finish(session, visit, now, method, text, chosen)
    service_requests.served(session, visit, volunteer, now)
    ask_elder(session, visit, now, public_url)
    return visit


def _finish(session: Session, visit: Visit, end: datetime, method: str, notes: str | None, flags: list[str]) -> None:
    minutes = int((end - visit.checked_in_at).total_seconds() // 60)
    visit.checked_out_at = end
    visit.check_out_method = method
    visit.duration_minutes = min(max(minutes, 0), policy()["visits"]["max_minutes"])
    if visit.duration_minutes < policy()["visits"]["min_minutes"]:
        visit.counts_for_compliance = False
    visit.notes = notes
    visit.flags = flags
    visit.status = "done"
    if flags:
        session.add(FollowUp(community_id=visit.community_id, elder_id=visit.elder_id, visit_id=visit.id,
                             reason="wellbeing", flags=flags, note=notes, created_at=end))
    session.flush()


def too_short(visit: Visit) -> bool:
    """Why a finished visit is not the month's visit: shorter than the policy's minimum."""
    return visit.duration_minutes is not None and visit.duration_minutes < policy()["visits"]["min_minutes"]


def record_by_worker(session: Session, worker: Person, volunteer: Person, elder: ElderProfile,
                     start: datetime | None, end: datetime | None, now: datetime, notes: str | None = None,
                     flags=None, public_url: str = "") -> Visit:
    """A worker enters a visit that happened (no door card at hand, a phone that died …)."""
    _active_volunteer(session, volunteer)
    if start is None or end is None:
        raise VisitError(_l("Please enter when the visit started and ended."), field="start")
    if end <= start:
        raise VisitError(_l("Check-out must be after check-in."), field="end")
    if end > now + timedelta(minutes=5):
        raise VisitError(_l("A visit cannot end in the future."), field="end")
    if volunteer.id == elder.person_id:
        raise VisitError(_l("You cannot check in at your own home."))
    if _overlaps(session, volunteer.id, start, end):
        raise VisitError(_l("This volunteer already has a visit at this time."), field="start")
    chosen = clean_flags(flags)
    text = clean_text(notes, "notes", NOTES_MAX, required=False) or None
    visit = Visit(volunteer_id=volunteer.id, elder_id=elder.person_id, community_id=elder.community_id,
                  service_type="visit", checked_in_at=start, method="worker", status="open",
                  counts_for_compliance=_counts("worker"), flags=[], entered_by_id=worker.id)
    if _relatives(session, volunteer.id, elder.person_id):
        visit.needs_worker, visit.needs_worker_reason = True, "relative"
    session.add(visit)
    session.flush()
    _finish(session, visit, end, "worker", text, chosen)
    ask_elder(session, visit, now, public_url)
    return visit


# ---------------------------------------------------------------- asking the elder

def ask_elder(session: Session, visit: Visit, now: datetime, public_url: str = "") -> None:
    """Ask the elder to confirm, by their preferred channel (a call with a key press, or a text).

    A call's body is the URL of its TwiML (the outbox passes it to the transport as twiml_url)."""
    elder = visit.elder
    visit.confirmation_asked_at = now
    questions.ask(session, elder.id, "confirm_visit", now, subject_id=visit.id,
                  channel="call" if elder.preferred_channel == "voice" else "sms",
                  until=(quiet_hours_end(now) or now) + CONFIRMATION_WINDOW)
    when = formatting.time_range(visit.checked_in_at, visit.checked_out_at, elder.locale)
    body = translate_for(elder.locale, "%(volunteer)s visited you (%(when)s). Reply 1 if this is right, 2 if not.",
                         volunteer=visit.volunteer.name, when=when)
    if elder.preferred_channel == "voice":
        # An answering machine cannot press 1: then the same question goes by text.
        enqueue(session, elder.phone, f"{public_url}/twilio/voice/visit/{visit.id}", kind="visit_confirm",
                person=elder, channel="call", elder_quiet_hours=True, now=now, sms_fallback=body,
                dedupe_key=f"visit-confirm:{visit.id}")
        return
    enqueue(session, elder.phone, body, kind="visit_confirm", person=elder, elder_quiet_hours=True, now=now,
            dedupe_key=f"visit-confirm:{visit.id}")


def awaiting_confirmation(session: Session, elder_id: int) -> list[Visit]:
    return list(session.scalars(select(Visit).where(Visit.elder_id == elder_id, Visit.status == "done")
                                .order_by(Visit.checked_out_at.desc())))


def last_asked(session: Session, elder_id: int, now: datetime) -> Visit | None:
    """The visit the portal most recently asked this elder about, still unanswered."""
    return session.scalar(
        select(Visit).where(Visit.elder_id == elder_id, Visit.status == "done",
                            Visit.elder_confirmed_at.is_(None),
                            Visit.confirmation_asked_at >= now - CONFIRMATION_WINDOW)
        .order_by(Visit.confirmation_asked_at.desc(), Visit.id.desc()).limit(1)
    )


# ---------------------------------------------------------------- verification

def _verify(session: Session, visit: Visit, verifier_id: int, how: str, now: datetime) -> Visit:
    """Mark verified once (a conditional UPDATE: of two at the same moment one wins), then credit."""
    won = session.execute(
        update(Visit).where(Visit.id == visit.id, Visit.status == "done", Visit.verified_at.is_(None))
        .values(status="verified", verified_at=now, verified_by_id=verifier_id, verification_method=how)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        raise VisitError(_l("This visit has already been confirmed or disputed."))
    session.refresh(visit)
    credit_visit(session, visit, now)
    service_requests.confirmed_by_visit(session, visit, now)
    events.visit_verified.send(visit, session=session, now=now)
    family_notices.visit_confirmed(session, visit, now)
    return visit


def confirm_by_elder(session: Session, visit: Visit, elder: Person, how: str, now: datetime) -> Visit:
    """The elder says yes. A visit by a relative still needs a worker; the yes is recorded."""
    if visit.elder_id != elder.id:
        raise VisitError(_l("This is not your visit."))
    if visit.volunteer_id == elder.id:
        raise VisitError(_l("Nobody can confirm their own visit."))
    if visit.status != "done":
        raise VisitError(_l("This visit has already been confirmed or disputed.") if visit.status != "open"
                         else _l("The volunteer has not checked out yet."))
    visit.elder_confirmed_at = now
    if visit.needs_worker:
        session.flush()
        if not session.scalar(select(FollowUp.id).where(FollowUp.visit_id == visit.id,
                                                        FollowUp.reason == "relative")):
            session.add(FollowUp(community_id=visit.community_id, elder_id=visit.elder_id, visit_id=visit.id,
                                 reason="relative", flags=[], created_at=now))
            session.flush()
        return visit
    return _verify(session, visit, elder.id, how, now)


def dispute_by_elder(session: Session, visit: Visit, elder: Person, how: str, now: datetime) -> Visit:
    """The elder says it did not happen (or not like that): nothing is credited, the worker follows up."""
    if visit.elder_id != elder.id:
        raise VisitError(_l("This is not your visit."))
    won = session.execute(
        update(Visit).where(Visit.id == visit.id, Visit.status == "done")
        .values(status="disputed", elder_confirmed_at=None).execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        raise VisitError(_l("This visit has already been confirmed or disputed."))
    session.refresh(visit)
    session.add(FollowUp(community_id=visit.community_id, elder_id=visit.elder_id, visit_id=visit.id,
                         reason="disputed", flags=[], note=how, created_at=now))
    session.flush()
    return visit


def verify_by_worker(session: Session, visit: Visit, worker: Person, now: datetime) -> Visit:
    if worker.id in (visit.volunteer_id, visit.elder_id):
        raise VisitError(_l("Nobody can verify their own visit."))
    if visit.entered_by_id == worker.id:
        # One person alone must not be able to invent a visit and mint its credit.
        raise VisitError(_l("You entered this visit yourself: the elder confirms it, or another staff member."))
    if visit.status == "disputed":
        # After following up on a dispute the worker may still confirm that the visit happened.
        session.execute(update(Visit).where(Visit.id == visit.id, Visit.status == "disputed")
                        .values(status="done").execution_options(synchronize_session=False))
        session.refresh(visit)
    if visit.status == "open":
        raise VisitError(_l("The volunteer has not checked out yet."))
    return _verify(session, visit, worker.id, "worker", now)


def close_follow_up(session: Session, follow_up: FollowUp, worker: Person, now: datetime) -> None:
    if follow_up.status == "done":
        return
    follow_up.status, follow_up.closed_at, follow_up.closed_by_id = "done", now, worker.id
    session.flush()


CALLER_ID_WINDOW = timedelta(hours=2)


def check_in_by_caller_id(session: Session, elder: ElderProfile, now: datetime) -> Visit | None:
    """The elder calls from her own registered phone while the volunteer who accepted her request is
    due at the door (within two hours of its time): that call checks the volunteer in, as home-care
    visit verification does with a client's landline. None when nobody is expected."""
    from portal.models import ServiceRequest

    expected = session.scalar(
        select(ServiceRequest).where(ServiceRequest.elder_id == elder.person_id, ServiceRequest.status == "accepted",
                                     ServiceRequest.scheduled_at >= now - CALLER_ID_WINDOW,
                                     ServiceRequest.scheduled_at <= now + CALLER_ID_WINDOW)
        .order_by(ServiceRequest.scheduled_at).limit(1))
    if expected is None or expected.volunteer is None or open_visit_for(session, expected.volunteer_id):
        return None
    return check_in(session, expected.volunteer, elder, "caller_id", now)

