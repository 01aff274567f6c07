"""Service requests: placing, accepting, doing, confirming, refusing, cancelling, emergencies.

Every transition writes a timeline row and queues the texts it causes (outbox, same transaction).

Longer than 400 lines on purpose, for now: every transition shares the private timeline and
notification helpers (_event, _tell, _tell_family), and the sections below (placing, elder and
family actions, volunteers, the visit path, emergency, jobs) are the seams to split along next.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, lazyload

from portal import formatting
from portal.clock import local_tz
from portal.i18n import _l, force_locale, msg, supported_locale, translate_for
from portal.models import (
    Area,
    ElderProfile,
    FamilyLink,
    OutboundMessage,
    Person,
    RequestDecline,
    RequestEvent,
    ServiceRequest,
    VolunteerProfile,
)
from portal.models.requests import ACTIVE_STATUSES
from portal.policy import policy
from portal.services import DomainError, questions
from portal.services.calls import emergency_list
from portal.services.outbox import enqueue, quiet_hours_end
from portal.services.scope import area_hotline, community_workers

REQUESTABLE = ("meal", "cleaning", "escort", "bathing")
MAX_VOLUNTEER_ALERTS = 10
EMERGENCY_REPEAT_MINUTES = 10


# ---------------------------------------------------------------- helpers

def service_name(locale: str | None, service: str) -> str:
    from portal.labels import SERVICE_LABELS

    with force_locale(supported_locale(locale)):
        return str(SERVICE_LABELS.get(service, service))


# A service inside a sentence to the elder: "李娜会来给您送饭", not "会来为您助餐" (助X names are for staff).
SERVICE_DOING = {
    "meal": msg("bring you a meal"),
    "cleaning": msg("clean for you"),
    "escort": msg("go out with you"),
    "bathing": msg("help you bathe"),
}


def service_doing(locale: str | None, service: str) -> str:
    message = SERVICE_DOING.get(service)
    return translate_for(locale, message) if message else service_name(locale, service)


def when_text(locale: str | None, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return formatting.when(moment, locale)


def earliest_start(now: datetime) -> datetime:
    """The earliest time a request placed now may ask for (the same-day lead time of the policy)."""
    return now + timedelta(minutes=policy()["requests"].get("same_day_lead_minutes", 60))


def new_reference(session: Session) -> str:
    """Six digits: easy to say on the phone and to type on a feature phone."""
    while True:
        reference = f"{secrets.randbelow(900_000) + 100_000}"
        if session.scalar(select(ServiceRequest.id).where(ServiceRequest.reference == reference)) is None:
            return reference


def by_reference(session: Session, reference: str) -> ServiceRequest | None:
    return session.scalar(select(ServiceRequest).where(ServiceRequest.reference == reference))


NATIONAL_HOTLINE = "12349"  # the elder-care hotline, when a community has none of its own (jobs have no app config)


def hotline_for(session: Session, community_id: int, default: str) -> str:
    return area_hotline(session, community_id, default)


def approved_family(session: Session, family: Person, elder_id: int) -> bool:
    return session.scalar(select(FamilyLink.id).where(
        FamilyLink.family_id == family.id, FamilyLink.elder_id == elder_id, FamilyLink.status == "approved"
    )) is not None


def may_view(session: Session, person: Person, request: ServiceRequest) -> bool:
    if person.id in (request.elder_id, request.placed_by_id, request.volunteer_id):
        return True
    if approved_family(session, person, request.elder_id):
        return True
    if person.has_role("worker", "officer", "admin"):
        from portal.services.scope import staff_community_ids

        return request.community_id in staff_community_ids(session, person)
    return False


def _event(session: Session, request: ServiceRequest, kind: str, now: datetime, actor: Person | None = None,
           channel: str | None = None, note: str | None = None) -> None:
    session.add(RequestEvent(request_id=request.id, kind=kind, at=now, actor_id=actor.id if actor else None,
                             channel=channel, note=note))


def _tell(session: Session, person: Person | None, message: str, now: datetime, key: str | None = None,
          urgent: bool = False, quiet: bool = False, emergency: bool = False, **variables) -> None:
    if person is None or not person.active:
        return
    variables = {k: (v(person.locale) if callable(v) else v) for k, v in variables.items()}
    body = translate_for(person.locale, message, **variables)
    enqueue(session, person.phone, body, kind="urgent" if urgent else "notice", person=person, urgent=urgent,
            emergency=emergency, elder_quiet_hours=quiet, dedupe_key=key, now=now)


def _tell_family(session: Session, request: ServiceRequest, message: str, now: datetime, step: str, **variables):
    """The family member who ordered hears about every step."""
    if request.placed_by_family:
        _tell(session, request.placed_by, message, now, key=f"req:{request.id}:family:{step}", **variables)


def _service(request: ServiceRequest):
    return lambda locale: service_name(locale, request.service)


def _when(request: ServiceRequest):
    return lambda locale: when_text(locale, request.scheduled_at)


# ---------------------------------------------------------------- placing

def create_request(session: Session, elder: ElderProfile, placed_by: Person, channel: str, service: str,
                   details: dict, scheduled_at: datetime | None, now: datetime) -> ServiceRequest:
    """Place a request for `elder`. A family member must hold an approved link to that elder."""
    if service not in REQUESTABLE:
        raise DomainError(_l("Please choose a service from the list."), field="service")
    if scheduled_at is not None and scheduled_at.astimezone(local_tz()).date() < now.astimezone(local_tz()).date():
        raise DomainError(_l("That day has already passed. Please choose today or a later day."), field="date")
    if scheduled_at is not None and channel != "worker" and scheduled_at < earliest_start(now):
        raise DomainError(_l("That time has passed or is too soon for a volunteer to come. "
                             "Please choose a later time."), field="date")
    family_order = placed_by.id != elder.person_id and channel != "worker"
    if family_order and not approved_family(session, placed_by, elder.person_id):
        raise DomainError(_l("You can only order for a relative who has approved your link."), field="elder")
    request = ServiceRequest(
        reference=new_reference(session), elder_id=elder.person_id, placed_by_id=placed_by.id, placed_via=channel,
        service=service, scheduled_at=scheduled_at, details=dict(details), status="open",
        community_id=elder.community_id, created_at=now,
    )
    if family_order:
        # The window runs from when the elder is actually told: a notice held over the quiet
        # hours must not let the window close while she is asleep.
        told_at = quiet_hours_end(now) or now
        request.refusal_deadline = told_at + timedelta(minutes=policy()["requests"]["family_refusal_window_minutes"])
    session.add(request)
    session.flush()
    session.refresh(request)
    _event(session, request, "created", now, placed_by, channel)
    if family_order:
        elder_person = elder.person
        body = translate_for(elder_person.locale, "%(family)s ordered %(service)s for you (%(when)s), reference "
                             "%(ref)s. If you do not want it, reply 2 (or press 2 when you call us) before "
                             "%(deadline)s.", family=placed_by.name,
                             service=service_name(elder_person.locale, service),
                             when=when_text(elder_person.locale, scheduled_at), ref=request.reference,
                             deadline=when_text(elder_person.locale, request.refusal_deadline))
        channel_for_elder = "call" if elder_person.preferred_channel == "voice" else "sms"
        enqueue(session, elder_person.phone, body, person=elder_person, channel=channel_for_elder,
                dedupe_key=f"req:{request.id}:elder:family-order", now=now)
        questions.ask(session, elder_person.id, "refuse", now, subject_id=request.id,
                      channel="call" if channel_for_elder == "call" else "sms", until=request.refusal_deadline)
    _alert_volunteers(session, request, now, round_="new")
    return request


def _alert_volunteers(session: Session, request: ServiceRequest, now: datetime, round_: str) -> int:
    """Tell volunteers of the elder's community who offer this service and have not declined it."""
    declined = select(RequestDecline.volunteer_id).where(RequestDecline.request_id == request.id)
    volunteers = session.scalars(
        select(VolunteerProfile).where(
            VolunteerProfile.community_id == request.community_id, VolunteerProfile.active,
            VolunteerProfile.verified_at.is_not(None), VolunteerProfile.person_id.not_in(declined),
        ).order_by(VolunteerProfile.person_id)
    ).all()
    told = 0
    for profile in volunteers:
        if request.service not in (profile.services or []) or told >= MAX_VOLUNTEER_ALERTS:
            continue
        _tell(session, profile.person, msg("New request %(ref)s: %(service)s, %(when)s. Open Linli to accept it."),
              now, key=f"req:{request.id}:vol:{profile.person_id}:{round_}", ref=request.reference,
              service=_service(request), when=_when(request))
        told += 1
    return told


# ---------------------------------------------------------------- elder / family actions

def cancel(session: Session, request: ServiceRequest, person: Person, channel: str, now: datetime) -> None:
    """Undo: the person who placed it (or the elder) within the undo window."""
    if person.id not in (request.placed_by_id, request.elder_id):
        raise DomainError(_l("You cannot cancel this request."))
    if request.status not in ("open", "accepted"):
        raise DomainError(_l("This request can no longer be cancelled."))
    if now - request.created_at > timedelta(minutes=policy()["requests"]["undo_minutes"]):
        raise DomainError(_l("The time to undo has passed. To change it, call the community hotline %(hotline)s.",
                             hotline=hotline_for(session, request.community_id, NATIONAL_HOTLINE)))
    _close(session, request, "cancelled", now, person, channel)
    stop_volunteer_notices(session, request, now)
    if request.volunteer is not None:
        _tell(session, request.volunteer, msg("Request %(ref)s was cancelled. You do not need to go."), now,
              key=f"req:{request.id}:vol-cancel", ref=request.reference)
    _tell_family(session, request, msg("Request %(ref)s was cancelled."), now, "cancelled", ref=request.reference)


def refusable(request: ServiceRequest, now: datetime) -> bool:
    return (request.placed_by_family and request.status in ("open", "accepted")
            and request.refusal_deadline is not None and now <= request.refusal_deadline)


def refuse(session: Session, request: ServiceRequest, elder: Person, channel: str, now: datetime) -> None:
    """The elder says no to what a family member ordered, within the refusal window."""
    if elder.id != request.elder_id:
        raise DomainError(_l("You cannot refuse this request."))
    if not refusable(request, now):
        raise DomainError(_l("This order can no longer be refused. Please call the community hotline %(hotline)s.",
                             hotline=hotline_for(session, request.community_id, NATIONAL_HOTLINE)))
    _close(session, request, "refused", now, elder, channel)
    stop_volunteer_notices(session, request, now)
    _tell(session, request.placed_by, msg("%(elder)s does not want %(service)s (reference %(ref)s). Nothing will happen."),
          now, key=f"req:{request.id}:family:refused", elder=elder.name, service=_service(request),
          ref=request.reference)
    if request.volunteer is not None:
        _tell(session, request.volunteer, msg("Request %(ref)s was cancelled. You do not need to go."), now,
              key=f"req:{request.id}:vol-cancel", ref=request.reference)


def stop_volunteer_notices(session: Session, request: ServiceRequest, now: datetime,
                           person_id: int | None = None) -> int:
    """Texts to volunteers about this request that have not left yet (new-request alerts, reminders,
    a worker's assignment) are not sent: the request is closed, or she was taken off it."""
    query = (update(OutboundMessage)
             .where(OutboundMessage.status == "queued",
                    OutboundMessage.dedupe_key.like(f"req:{request.id}:vol:%")
                    | (OutboundMessage.dedupe_key == f"req:{request.id}:vol-assigned"))
             .values(status="cancelled", last_error=f"request {request.status}", updated_at=now)
             .execution_options(synchronize_session=False))
    if person_id is not None:
        query = query.where(OutboundMessage.person_id == person_id)
    return session.execute(query).rowcount or 0


def release_volunteer(session: Session, volunteer: Person, now: datetime) -> int:
    """A volunteer who can no longer serve (deactivated) is taken off the requests she accepted and
    has not started: each goes back to open for others, and she is told, once per request."""
    accepted = session.scalars(select(ServiceRequest).where(ServiceRequest.volunteer_id == volunteer.id,
                                                            ServiceRequest.status == "accepted")
                               .order_by(ServiceRequest.id)).all()
    for request in accepted:
        request.status, request.volunteer_id, request.accepted_at = "open", None, None
        _event(session, request, "released", now, note=volunteer.name)
        stop_volunteer_notices(session, request, now, person_id=volunteer.id)
        _tell(session, volunteer, msg("You no longer need to go for request %(ref)s (%(elder)s); someone else will "
                                      "go. Thank you!"),
              now, key=f"req:{request.id}:vol-off:{volunteer.id}", ref=request.reference, elder=request.elder.name)
        session.flush()
        _alert_volunteers(session, request, now, round_=f"released-{volunteer.id}")
    session.flush()
    return len(accepted)


def _close(session: Session, request: ServiceRequest, status: str, now: datetime, actor: Person | None,
           channel: str | None) -> None:
    request.status = status
    request.closed_at = now
    _event(session, request, status, now, actor, channel)
    session.flush()


def confirm(session: Session, request: ServiceRequest, elder: Person, channel: str, now: datetime) -> None:
    if elder.id != request.elder_id:
        raise DomainError(_l("Only the elder can confirm this visit."))
    if request.status != "done":
        raise DomainError(_l("There is nothing to confirm yet."))
    request.status = "confirmed"
    request.confirmed_at = now
    request.closed_at = now
    _event(session, request, "confirmed", now, elder, channel)
    _tell_family(session, request, msg("%(elder)s confirmed that %(service)s (reference %(ref)s) happened."), now,
                 "confirmed", elder=elder.name, service=_service(request), ref=request.reference)
    session.flush()


def not_done(session: Session, request: ServiceRequest, elder: Person, channel: str, now: datetime) -> None:
    """The elder says a request marked done did not happen: it is recorded and her community's workers are told."""
    if elder.id != request.elder_id:
        raise DomainError(_l("Only the elder can confirm this visit."))
    if request.status != "done":
        raise DomainError(_l("There is nothing to confirm yet."))
    _event(session, request, "elder_says_not_done", now, elder, channel)
    for worker in community_workers(session, request.community_id):
        _tell(session, worker, msg("%(elder)s says %(service)s (reference %(ref)s) did not happen. Please call."),
              now, key=f"req:{request.id}:not-done:{worker.id}", elder=elder.name, service=_service(request),
              ref=request.reference)
    session.flush()


def rate(session: Session, request: ServiceRequest, elder: Person, rating: int, now: datetime,
         channel: str = "web") -> None:
    if elder.id != request.elder_id:
        raise DomainError(_l("Only the elder can rate this visit."))
    if request.status not in ("done", "confirmed"):
        raise DomainError(_l("You can rate a visit once it is done."))
    if rating not in (1, 2, 3):
        raise DomainError(_l("Please choose one of the three faces."))
    if request.rating is not None:
        raise DomainError(_l("You have already rated this visit. Thank you!"))
    if request.status == "done":
        confirm(session, request, elder, channel, now)
    request.rating = rating
    request.rated_at = now
    _event(session, request, "rated", now, elder, channel, note=str(rating))
    session.flush()


def pending_confirmation(session: Session, elder_id: int) -> ServiceRequest | None:
    return session.scalar(select(ServiceRequest).where(
        ServiceRequest.elder_id == elder_id, ServiceRequest.status == "done").order_by(ServiceRequest.done_at.desc()))


def pending_rating(session: Session, elder_id: int, now: datetime) -> ServiceRequest | None:
    """A visit the elder confirmed a moment ago and has not rated: her next 1/2/3 is the rating."""
    since = now - timedelta(minutes=policy()["requests"]["conversation_minutes"])
    return session.scalar(select(ServiceRequest).where(
        ServiceRequest.elder_id == elder_id, ServiceRequest.status == "confirmed", ServiceRequest.rating.is_(None),
        ServiceRequest.confirmed_at >= since).order_by(ServiceRequest.confirmed_at.desc()).limit(1))


def pending_refusal(session: Session, elder_id: int, now: datetime) -> ServiceRequest | None:
    candidates = session.scalars(select(ServiceRequest).where(
        ServiceRequest.elder_id == elder_id, ServiceRequest.status.in_(("open", "accepted")),
        ServiceRequest.refusal_deadline >= now).order_by(ServiceRequest.created_at.desc())).all()
    return next((r for r in candidates if refusable(r, now)), None)


# ---------------------------------------------------------------- volunteers and workers

def accept(session: Session, request_id: int, volunteer: Person, now: datetime, by: Person | None = None,
           channel: str = "web") -> ServiceRequest:
    """Exactly one volunteer gets it: a conditional UPDATE that only an open request passes."""
    result = session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == request_id, ServiceRequest.status == "open", ServiceRequest.service != "emergency")
        .values(status="accepted", volunteer_id=volunteer.id, accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    request = session.get(ServiceRequest, request_id)
    if request is None:
        raise DomainError(_l("This request does not exist."))
    if result.rowcount != 1:
        session.refresh(request)
        if request.service == "emergency":
            # no volunteer "takes" an emergency: the paired volunteer is alerted directly, and the worker
            # records who is on the way (services.emergencies.someone_coming)
            raise DomainError(_l("An emergency is not taken from the list: the community worker records who is "
                                 "going."))
        if request.status in ("cancelled", "refused", "expired"):
            raise DomainError(_l("This request was cancelled. You do not need to go."))
        raise DomainError(_l("Someone else has already accepted this request. Thank you all the same."))
    session.refresh(request)
    assigned = by is not None and by.id != volunteer.id
    _event(session, request, "assigned" if assigned else "accepted", now, by or volunteer, channel,
           note=volunteer.name if assigned else None)
    elder = request.elder
    _tell(session, elder, msg("%(volunteer)s will come to %(doing)s (%(when)s). Reference %(ref)s."), now,
          key=f"req:{request.id}:elder:accepted", quiet=True, volunteer=volunteer.name,
          doing=lambda locale: service_doing(locale, request.service), when=_when(request), ref=request.reference)
    _tell_family(session, request, msg("%(volunteer)s accepted %(service)s for %(elder)s (reference %(ref)s)."), now,
                 "accepted", volunteer=volunteer.name, service=_service(request), elder=elder.name,
                 ref=request.reference)
    if assigned:
        _tell(session, volunteer, msg("The community worker gave you request %(ref)s: %(service)s for %(elder)s, %(when)s."),
              now, key=f"req:{request.id}:vol-assigned", ref=request.reference, service=_service(request),
              elder=elder.name, when=_when(request))
    session.flush()
    return request


def decline(session: Session, request: ServiceRequest, volunteer: Person, now: datetime) -> None:
    if session.scalar(select(RequestDecline.id).where(RequestDecline.request_id == request.id,
                                                      RequestDecline.volunteer_id == volunteer.id)) is None:
        session.add(RequestDecline(request_id=request.id, volunteer_id=volunteer.id, at=now))
        session.flush()


def _volunteer_step(session: Session, request: ServiceRequest, volunteer: Person, now: datetime,
                    before: str, after: str, column: str) -> None:
    if request.volunteer_id != volunteer.id:
        raise DomainError(_l("This request is not yours."))
    result = session.execute(
        update(ServiceRequest).where(ServiceRequest.id == request.id, ServiceRequest.status == before)
        .values(status=after, **{column: now}).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError(_l("This request cannot be changed now."))
    session.refresh(request)
    _event(session, request, after, now, volunteer, "web")


def start(session: Session, request: ServiceRequest, volunteer: Person, now: datetime) -> None:
    _volunteer_step(session, request, volunteer, now, "accepted", "in_progress", "started_at")
    _tell_family(session, request, msg("%(volunteer)s has started %(service)s for %(elder)s."), now, "started",
                 volunteer=volunteer.name, service=_service(request), elder=request.elder.name)


def finish(session: Session, request: ServiceRequest, volunteer: Person, now: datetime) -> None:
    _volunteer_step(session, request, volunteer, now, "in_progress", "done", "done_at")
    _tell(session, request.elder, msg("%(volunteer)s says %(service)s is done. If it happened, reply 1. Thank you!"),
          now, key=f"req:{request.id}:elder:done", quiet=True, volunteer=volunteer.name, service=_service(request))
    questions.ask(session, request.elder_id, "confirm_request", now, subject_id=request.id, held_for_quiet_hours=True)
    _tell_family(session, request, msg("%(volunteer)s finished %(service)s for %(elder)s."), now, "done",
                 volunteer=volunteer.name, service=_service(request), elder=request.elder.name)


# ---------------------------------------------------------------- one path: a request served is a visit

def serve_at_the_door(session: Session, visit, volunteer: Person, now: datetime) -> ServiceRequest | None:
    """A volunteer checks in at the door of an elder whose request she accepted: the visit serves the
    request (the soonest one), and the request is started."""
    request = session.scalar(
        select(ServiceRequest).where(ServiceRequest.volunteer_id == volunteer.id,
                                     ServiceRequest.elder_id == visit.elder_id, ServiceRequest.status == "accepted")
        .order_by(ServiceRequest.scheduled_at, ServiceRequest.id).limit(1))
    if request is None:
        return None
    visit.request_id = request.id
    if request.paid_by_id is not None and request.paid_by_id != volunteer.id:
        visit.paid_by_id = request.paid_by_id  # paid with minutes, as chosen on the check page
    if request.service in policy()["services"]:
        visit.service_type = request.service
    start(session, request, volunteer, now)
    return request


def served(session: Session, visit, volunteer: Person, now: datetime) -> None:
    """Checked out: the request the visit served is done. The elder is asked once, about the visit."""
    request = session.get(ServiceRequest, visit.request_id) if visit.request_id else None
    if request is not None and request.status == "in_progress":
        _volunteer_step(session, request, volunteer, now, "in_progress", "done", "done_at")
        _tell_family(session, request, msg("%(volunteer)s finished %(service)s for %(elder)s."), now, "done",
                     volunteer=volunteer.name, service=_service(request), elder=request.elder.name)


def confirmed_by_visit(session: Session, visit, now: datetime) -> None:
    """The elder (or a worker) confirmed the visit: the request it served is confirmed too."""
    request = session.get(ServiceRequest, visit.request_id) if visit.request_id else None
    if request is not None and request.status == "done":
        request.status, request.confirmed_at, request.closed_at = "confirmed", now, now
        _event(session, request, "confirmed", now, None, visit.verification_method)
        session.flush()


def _neighbourhood_ids(volunteer: VolunteerProfile):
    """neighbourhood() as a subquery (one statement with the query that uses it)."""
    community = volunteer.community
    if not community.parent_id:
        return [volunteer.community_id]
    return select(Area.id).where(Area.parent_id == community.parent_id, Area.level == "community")


def neighbourhood(session: Session, volunteer: VolunteerProfile) -> list[int]:
    """The communities whose requests a volunteer sees: their own and the others of the same street."""
    ids = _neighbourhood_ids(volunteer)
    return ids if isinstance(ids, list) else list(session.scalars(ids))


def within_reach(session: Session, volunteer: VolunteerProfile, request: ServiceRequest) -> bool:
    """A volunteer may act on a request they hold, or on one their feed could show them."""
    return request.volunteer_id == volunteer.person_id or (
        request.volunteer_id is None and request.community_id in neighbourhood(session, volunteer))


def feed(session: Session, volunteer: VolunteerProfile) -> list[tuple[ServiceRequest, bool]]:
    """Open requests in the volunteer's community, then in neighbouring ones (same street). Emergencies are
    not offered: her paired volunteers are alerted by text and call, and the worker records who is going."""
    declined = select(RequestDecline.request_id).where(RequestDecline.volunteer_id == volunteer.person_id)
    rows = session.scalars(
        select(ServiceRequest).where(ServiceRequest.status == "open",
                                     ServiceRequest.community_id.in_(_neighbourhood_ids(volunteer)),
                                     ServiceRequest.service != "emergency",  # alerted directly, not offered
                                     ServiceRequest.id.not_in(declined))
        .order_by(ServiceRequest.urgent.desc(), ServiceRequest.scheduled_at, ServiceRequest.id)
        # an offer is open (no volunteer yet) and shows the elder, not who placed it
        .options(lazyload(ServiceRequest.placed_by), lazyload(ServiceRequest.volunteer))
    ).all()
    own = [(r, False) for r in rows if r.community_id == volunteer.community_id]
    near = [(r, True) for r in rows if r.community_id != volunteer.community_id]
    return own + near


def my_tasks(session: Session, volunteer_id: int) -> list[ServiceRequest]:
    return list(session.scalars(select(ServiceRequest).where(
        ServiceRequest.volunteer_id == volunteer_id, ServiceRequest.status.in_(("accepted", "in_progress", "done"))
    ).order_by(ServiceRequest.scheduled_at)))


# ---------------------------------------------------------------- emergency

def emergency(session: Session, elder: ElderProfile, channel: str, now: datetime) -> ServiceRequest:
    """助急: one step. Alert the workers, emergency contacts and paired volunteers by SMS and call, now."""
    recent = session.scalar(select(ServiceRequest).where(
        ServiceRequest.elder_id == elder.person_id, ServiceRequest.service == "emergency",
        ServiceRequest.acknowledged_at.is_(None), ServiceRequest.status.in_(ACTIVE_STATUSES),
        ServiceRequest.created_at >= now - timedelta(minutes=EMERGENCY_REPEAT_MINUTES)))
    if recent is not None:
        _event(session, recent, "repeated", now, elder.person, channel)
        return recent  # pressing again does not start a second round of calls
    request = ServiceRequest(
        reference=new_reference(session), elder_id=elder.person_id, placed_by_id=elder.person_id,
        placed_via=channel, service="emergency", scheduled_at=now, details={}, status="open",
        community_id=elder.community_id, urgent=True, created_at=now,
    )
    session.add(request)
    session.flush()
    session.refresh(request)
    _event(session, request, "created", now, elder.person, channel)
    person = elder.person
    for phone, locale, who in emergency_list(session, elder):
        body = translate_for(locale, "EMERGENCY: %(name)s (%(phone)s) asked for help now. "
                             "Please call or go at once. Reference %(ref)s.", name=person.name, phone=person.phone,
                             ref=request.reference)
        for medium in ("sms", "call"):
            # emergency=True: reaches them whatever their opt-out (STOP) or the quiet hours.
            enqueue(session, phone, body, person=who, channel=medium, emergency=True,
                    about_elder=person if medium == "call" else None, chain_key=f"req:{request.id}:sos",
                    dedupe_key=f"req:{request.id}:sos:{medium}:{phone}", now=now)
    return request


def acknowledge(session: Session, request: ServiceRequest, worker: Person, now: datetime) -> None:
    if request.acknowledged_at is None:
        request.acknowledged_at = now
        request.acknowledged_by_id = worker.id
        _event(session, request, "acknowledged", now, worker, "web")
        session.flush()


def open_emergencies(session: Session, community_ids: list[int]) -> list[ServiceRequest]:
    return list(session.scalars(select(ServiceRequest).where(
        ServiceRequest.service == "emergency", ServiceRequest.acknowledged_at.is_(None),
        ServiceRequest.community_id.in_(community_ids), ServiceRequest.status.not_in(("cancelled",)),
    ).order_by(ServiceRequest.created_at)))


# ---------------------------------------------------------------- nobody answered (jobs)

def alert_unaccepted(session: Session, now: datetime) -> int:
    """Tell the worker once about a request nobody accepted in time; remind non-declining volunteers."""
    rules = policy()["requests"]
    normal = now - timedelta(minutes=rules["unaccepted_alert_minutes"])
    urgent = now - timedelta(minutes=rules["emergency_alert_minutes"])
    rows = session.scalars(select(ServiceRequest).where(
        ServiceRequest.status == "open", ServiceRequest.alerted_at.is_(None),
        ((ServiceRequest.urgent.is_(True)) & (ServiceRequest.created_at <= urgent))
        | ((ServiceRequest.urgent.is_(False)) & (ServiceRequest.created_at <= normal)),
    )).all()
    for request in rows:
        request.alerted_at = now
        _event(session, request, "alerted", now)
        for worker in community_workers(session, request.community_id):
            _tell(session, worker, msg("Nobody has accepted request %(ref)s (%(service)s for %(elder)s, %(when)s) yet. "
                  "Please assign a volunteer."), now, key=f"req:{request.id}:worker-unaccepted:{worker.id}",
                  urgent=request.urgent, emergency=request.service == "emergency",
                  ref=request.reference, service=_service(request),
                  elder=request.elder.name, when=_when(request))
        if not request.urgent:
            _alert_volunteers(session, request, now, round_="reminder")
    session.flush()
    return len(rows)


def expire_unaccepted(session: Session, now: datetime) -> int:
    """Close open requests whose time has passed with nobody accepting; tell the elder (and family)."""
    rules = policy()["requests"]
    late = now - timedelta(minutes=rules.get("expire_after_start_minutes", 120))
    rows = session.scalars(select(ServiceRequest).where(
        ServiceRequest.status == "open",
        ((ServiceRequest.urgent.is_(False)) & (ServiceRequest.scheduled_at <= late))
        | (ServiceRequest.created_at <= now - timedelta(hours=rules["expire_hours"])),
    )).all()
    for request in rows:
        _close(session, request, "expired", now, None, None)
        stop_volunteer_notices(session, request, now)
        _tell(session, request.elder, msg("No volunteer could be found yet for %(service)s (reference %(ref)s); we "
              "will contact you again. If it is urgent, call %(hotline)s."), now,
              key=f"req:{request.id}:elder:expired", quiet=True, service=_service(request), ref=request.reference,
              hotline=hotline_for(session, request.community_id, NATIONAL_HOTLINE))
        _tell_family(session, request, msg("Nobody could take %(service)s for %(elder)s (reference %(ref)s)."), now,
                     "expired", service=_service(request), elder=request.elder.name, ref=request.reference)
    return len(rows)
