"""助急 after the alarm: someone is coming (who) → resolved with an outcome, or stood down by the elder.

The alarm itself (who is alerted, by text and call, whatever their opt-out) is
services.requests.emergency; this module keeps the emergency's own state beside the request,
tells the people alerted what happened next, and lets only a worker of the elder's area resolve it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l, msg, translate_for
from portal.models import ElderProfile, Emergency, OutboundMessage, Person, RequestEvent, ServiceRequest
from portal.models.emergencies import EMERGENCY_OUTCOMES
from portal.policy import policy
from portal.services import DomainError
from portal.services import requests as service_requests
from portal.services.outbox import enqueue
from portal.services.scope import governed

OPEN_STATES = ("alerted", "coming")


def stand_down_window() -> timedelta:
    return timedelta(minutes=policy()["requests"].get("emergency_stand_down_minutes", 2))


def _alerted_phones(session: Session, request: ServiceRequest) -> list[str]:
    """The phones the alarm went to, read from the outbox rows the alarm queued (sms and call)."""
    keys = session.scalars(select(OutboundMessage.to_phone).where(
        OutboundMessage.dedupe_key.like(f"req:{request.id}:sos:%"))).all()
    return sorted(set(keys))


def state_of(session: Session, request: ServiceRequest) -> Emergency | None:
    if request.service != "emergency":
        return None
    found = session.get(Emergency, request.id)
    if found is None:
        # an alarm raised before emergencies had states of their own (or by a path that did not record it)
        found = Emergency(request_id=request.id, state="alerted", alerted_at=request.created_at,
                          alerted_phones=_alerted_phones(session, request))
        if request.acknowledged_by_id is not None:
            worker = session.get(Person, request.acknowledged_by_id)
            found.state, found.coming_at = "coming", request.acknowledged_at
            found.responder_id, found.responder_name = worker.id, worker.name
        if request.status == "cancelled":
            found.state = "stood_down"
        session.add(found)
        session.flush()
    return found


def raise_alarm(session: Session, elder: ElderProfile, channel: str, now: datetime) -> ServiceRequest:
    """One tap, one key, one word: alert everyone now (services.requests.emergency) and record the state."""
    request = service_requests.emergency(session, elder, channel, now)
    emergency = state_of(session, request)
    emergency.alerted_phones = sorted(set(emergency.alerted_phones or []) | set(_alerted_phones(session, request)))
    session.flush()
    return request


def can_stand_down(emergency: Emergency | None, now: datetime) -> bool:
    return (emergency is not None and emergency.state == "alerted"
            and now - emergency.alerted_at <= stand_down_window())


def _tell_alerted(session: Session, request: ServiceRequest, emergency: Emergency, step: str, message: str,
                  now: datetime, skip: tuple[str, ...] = (), **variables) -> None:
    """A text to every phone the alarm reached (urgent: as the alarm, never held back)."""
    for phone in emergency.alerted_phones or []:
        if phone in skip:
            continue
        who = session.scalar(select(Person).where(Person.phone == phone))
        locale = who.locale if who else "zh_Hans"
        body = translate_for(locale, message, **{k: (v(locale) if callable(v) else v) for k, v in variables.items()})
        enqueue(session, phone, body, kind="urgent", person=who, urgent=True,
                dedupe_key=f"req:{request.id}:sos-{step}:{phone}", now=now)


def stand_down(session: Session, request: ServiceRequest, elder: Person, now: datetime) -> Emergency:
    """"按错了，取消": the elder calls the alarm off within the stand-down window; everyone alerted is told."""
    emergency = state_of(session, request)
    if emergency is None or request.elder_id != elder.id:
        raise DomainError(_l("Only the person who asked for help can call it off."))
    if emergency.state == "stood_down":
        return emergency
    if not can_stand_down(emergency, now):
        raise DomainError(_l("It is too late to call it off here. Please call the community hotline %(hotline)s.",
                             hotline=service_requests.hotline_for(session, request.community_id,
                                                                  service_requests.NATIONAL_HOTLINE)))
    emergency.state, emergency.stood_down_at = "stood_down", now
    request.status, request.closed_at = "cancelled", now
    session.add(RequestEvent(request_id=request.id, kind="stood_down", at=now, actor_id=elder.id, channel="web"))
    _tell_alerted(session, request, emergency, "stood-down",
                  msg("%(name)s pressed for help by mistake and has called it off. No need to go "
                      "(reference %(ref)s)."), now, name=request.elder.name, ref=request.reference)
    session.flush()
    return emergency


def _governed(session: Session, worker: Person, request: ServiceRequest) -> None:
    if request.service != "emergency" or governed(session, worker, request) is None:
        raise DomainError(_l("This emergency is not in your area."))


def someone_coming(session: Session, request: ServiceRequest, worker: Person, now: datetime,
                   responder: Person | None = None, responder_name: str | None = None) -> Emergency:
    """A worker says who is on the way (themself by default); the elder and everyone alerted are told."""
    _governed(session, worker, request)
    emergency = state_of(session, request)
    if emergency.state not in OPEN_STATES:
        raise DomainError(_l("This emergency is already closed."))
    responder = responder or (None if responder_name else worker)
    name = responder.name if responder is not None else responder_name
    if emergency.state == "coming" and emergency.responder_name == name:
        return emergency
    service_requests.acknowledge(session, request, worker, now)
    emergency.state, emergency.coming_at, emergency.coming_set_by_id = "coming", now, worker.id
    emergency.responder_id, emergency.responder_name = (responder.id if responder else None), name
    session.add(RequestEvent(request_id=request.id, kind="coming", at=now, actor_id=worker.id, channel="web",
                             note=name))
    step = f"coming-{emergency.responder_id or name}"
    elder = request.elder
    enqueue(session, elder.phone, translate_for(elder.locale, msg("%(who)s is on the way to you now."), who=name),
            kind="urgent", person=elder, urgent=True, dedupe_key=f"req:{request.id}:sos-{step}:elder", now=now)
    _tell_alerted(session, request, emergency, step, msg("%(who)s is on the way to %(name)s (reference %(ref)s)."),
                  now, skip=(worker.phone,), who=name, name=elder.name, ref=request.reference)
    session.flush()
    return emergency


def resolve(session: Session, request: ServiceRequest, worker: Person, outcome: str, now: datetime) -> Emergency:
    """Only a worker of the elder's area closes an emergency, with what happened."""
    _governed(session, worker, request)
    if not worker.has_role("worker"):
        raise DomainError(_l("Only a community worker can close an emergency."))
    if outcome not in EMERGENCY_OUTCOMES:
        raise DomainError(_l("Please choose what happened."), field="outcome")
    emergency = state_of(session, request)
    if emergency.state == "resolved":
        return emergency
    if emergency.state not in OPEN_STATES:
        raise DomainError(_l("This emergency is already closed."))
    service_requests.acknowledge(session, request, worker, now)
    emergency.state, emergency.outcome = "resolved", outcome
    emergency.resolved_at, emergency.resolved_by_id = now, worker.id
    request.status, request.closed_at = "confirmed", now
    session.add(RequestEvent(request_id=request.id, kind="resolved", at=now, actor_id=worker.id, channel="web",
                             note=outcome))
    from portal.labels import EMERGENCY_OUTCOME_LABELS

    _tell_alerted(session, request, emergency, "resolved", msg("The emergency of %(name)s is closed: %(outcome)s "
                  "(reference %(ref)s)."), now, skip=(worker.phone,), name=request.elder.name,
                  ref=request.reference, outcome=lambda locale: _label(EMERGENCY_OUTCOME_LABELS[outcome], locale))
    session.flush()
    return emergency


def _label(label, locale: str | None) -> str:
    from portal.i18n import force_locale, supported_locale

    with force_locale(supported_locale(locale)):
        return str(label)


def open_for(session: Session, community_ids: list[int]) -> list[tuple[ServiceRequest, Emergency]]:
    """Emergencies not yet resolved in these communities, oldest first (the worker's banner)."""
    rows = session.scalars(select(ServiceRequest).where(
        ServiceRequest.service == "emergency", ServiceRequest.community_id.in_(community_ids),
        ServiceRequest.status.not_in(("cancelled", "confirmed", "expired", "refused")),
    ).order_by(ServiceRequest.created_at)).all()
    pairs = [(request, state_of(session, request)) for request in rows]
    return [(request, emergency) for request, emergency in pairs if emergency.state in OPEN_STATES]


def recent_for_elder(session: Session, elder_id: int, now: datetime,
                     days: int = 7) -> list[tuple[ServiceRequest, Emergency]]:
    """The elder's emergencies of the last `days` days, newest first (what her family sees)."""
    rows = session.scalars(select(ServiceRequest).where(
        ServiceRequest.elder_id == elder_id, ServiceRequest.service == "emergency",
        ServiceRequest.created_at >= now - timedelta(days=days)).order_by(ServiceRequest.created_at.desc())).all()
    return [(request, state_of(session, request)) for request in rows]
