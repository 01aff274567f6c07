"""What a worker does to the plan: excuse a visit, give it to someone else, record a major event,
deactivate a volunteer."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import events
from portal.i18n import _l
from portal.models import (
    EXCUSE_REASONS,
    MAJOR_EVENT_KINDS,
    ElderProfile,
    MajorEvent,
    ObligationEvent,
    OutboundMessage,
    Pairing,
    VisitObligation,
    VolunteerProfile,
)
from portal.policy import policy
from portal.services import DomainError
from portal.services import requests as service_requests
from portal.services.compliance.assignment import assign, pick_visitor
from portal.services.compliance.completion import silence_reminders
from portal.services.compliance.history import OPEN, log_event, set_status
from portal.services.compliance.notices import notify_assignee, taken_off
from portal.services.compliance.periods import is_closed
from portal.services.scope import community_worker_ids

EXCUSE_LABELS = {
    "in_hospital": _l("In hospital"),
    "moved_away": _l("Moved away"),
    "died": _l("Passed away"),
}
MAJOR_EVENT_LABELS = {
    "hospital_discharge": _l("Discharged from hospital"),
    "bereavement": _l("Bereavement"),
    "fall": _l("A fall"),
}


def excuse(session: Session, obligation: VisitObligation, reason: str, actor_id: int | None, now: datetime) -> None:
    if reason not in EXCUSE_REASONS:
        raise DomainError(_l("Please choose a reason from the list."), field="reason")
    if obligation.status not in OPEN or is_closed(session, obligation.period):
        raise DomainError(_l("Only an open visit of an open period can be excused."), field="reason")
    obligation.excuse_reason = reason
    set_status(session, obligation, "excused", now, actor_id=actor_id, reason=reason)
    silence_reminders(session, obligation, now)


def reassign(session: Session, obligation: VisitObligation, person_id: int, actor_id: int | None,
             now: datetime) -> None:
    """A worker gives the visit to another verified volunteer of the community, or to a worker."""
    if obligation.status not in OPEN:
        raise DomainError(_l("Only an open visit can be given to someone else."), field="assignee")
    volunteer = session.get(VolunteerProfile, person_id)
    if volunteer is not None and volunteer.active and volunteer.verified_at and \
            volunteer.community_id == obligation.community_id:
        role = "volunteer"
    elif person_id in community_worker_ids(session, [obligation.community_id]).get(obligation.community_id, []):
        role = "worker"
    else:
        raise DomainError(_l("Please choose a verified volunteer of this community."), field="assignee")
    previous_id = obligation.assigned_to_id
    assign(session, obligation, person_id, role, now, actor_id=actor_id, reason=REASSIGNED)
    notify_assignee(session, obligation, now, f"obl:{obligation.id}:assigned:{person_id}:{now:%Y%m%d%H%M}")
    if previous_id is not None and previous_id != person_id:
        taken_off(session, obligation, previous_id, now)


REASSIGNED = "reassigned by a worker"
UNDONE = "undone by a worker"


def _undoable(session: Session, obligation: VisitObligation, now: datetime) -> ObligationEvent | None:
    """The worker's excuse or reassignment this undo reverses: the obligation's latest event, if it is
    one of those and younger than the policy's minutes (anything since, e.g. a visit, wins)."""
    latest = session.scalars(select(ObligationEvent).where(ObligationEvent.obligation_id == obligation.id)
                             .order_by(ObligationEvent.id.desc()).limit(2)).all()
    if not latest or latest[0].actor_id is None:
        return None
    event = latest[0]
    if now - event.at > timedelta(minutes=policy()["compliance"]["undo_minutes"]):
        return None
    if event.kind == "status" and event.to_status == "excused" and obligation.status == "excused":
        return event
    if event.kind == "assigned" and event.reason == REASSIGNED and obligation.status in OPEN:
        return event
    return None


def can_undo(session: Session, obligation: VisitObligation, now: datetime) -> bool:
    return _undoable(session, obligation, now) is not None


def undo(session: Session, obligation: VisitObligation, actor_id: int | None, now: datetime) -> str:
    """Reverse the worker's last excuse or reassignment of this visit; says which ("excuse" or
    "reassign"). Undoing twice, or after the time, is refused."""
    event = _undoable(session, obligation, now)
    if event is None:
        raise DomainError(_l("This can no longer be undone."))
    if event.kind == "status":
        obligation.excuse_reason = None
        set_status(session, obligation, event.from_status or "due", now, actor_id=actor_id, reason=UNDONE)
        return "excuse"
    before = session.scalars(select(ObligationEvent).where(ObligationEvent.obligation_id == obligation.id,
                                                           ObligationEvent.id < event.id)
                             .order_by(ObligationEvent.id.desc()).limit(1)).first()
    previous_id = before.assigned_to_id if before is not None else None
    removed_id = obligation.assigned_to_id
    volunteer = session.get(VolunteerProfile, previous_id) if previous_id else None
    role = None if previous_id is None else ("volunteer" if volunteer is not None else "worker")
    assign(session, obligation, previous_id, role, now, actor_id=actor_id, reason=UNDONE)
    # the text telling the removed visitor about it goes only if it has not left yet
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.dedupe_key.like(f"obl:{obligation.id}:assigned:{removed_id}:%"),
               OutboundMessage.status == "queued")
        .values(status="cancelled", last_error="reassignment undone", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return "reassign"


def record_major_event(session: Session, elder: ElderProfile, kind: str, occurred_at: datetime | None,
                       note: str | None, actor_id: int | None, now: datetime) -> MajorEvent:
    """A worker records a discharge, bereavement or fall: the elder gets a visit within the policy's hours."""
    if kind not in MAJOR_EVENT_KINDS:
        raise DomainError(_l("Please choose what happened from the list."), field="kind")
    if occurred_at is None or occurred_at > now + timedelta(minutes=5):
        raise DomainError(_l("Please give when it happened (not in the future)."), field="occurred_at")
    if occurred_at < now - timedelta(days=30):
        raise DomainError(_l("That is more than 30 days ago."), field="occurred_at")
    note = (note or "").strip()[:200] or None
    event = MajorEvent(elder_id=elder.person_id, kind=kind, occurred_at=occurred_at, note=note,
                       recorded_by_id=actor_id, created_at=now)
    session.add(event)
    session.flush()
    hours = (policy()["tiers"].get(elder.care_tier) or {}).get("after_event_hours")
    if hours:
        obligation = VisitObligation(
            elder_id=elder.person_id, period=f"E{event.id}", cadence="event", tier=elder.care_tier,
            community_id=elder.community_id, window_start=occurred_at, due_at=occurred_at + timedelta(hours=hours),
            window_end=occurred_at + timedelta(hours=hours), status="upcoming", major_event_id=event.id,
            created_at=now, updated_at=now,
        )
        session.add(obligation)
        session.flush()
        log_event(session, obligation, "status", now, to_status="upcoming", actor_id=actor_id, reason=kind)
        person_id, role = pick_visitor(session, obligation, now)
        assign(session, obligation, person_id, role, now, actor_id=actor_id, reason="after a major event")
        set_status(session, obligation, "due", now, reason="window open")
        notify_assignee(session, obligation, now, f"obl:{obligation.id}:event")
    return event


def deactivate_volunteer(session: Session, volunteer: VolunteerProfile, actor_id: int | None, now: datetime) -> None:
    """The volunteer's pairings end; `volunteer_deactivated` hands their open visits to others."""
    volunteer.active = False
    for pairing in session.scalars(select(Pairing).where(Pairing.volunteer_id == volunteer.person_id, Pairing.active)):
        pairing.active, pairing.ended_at = False, now
    session.flush()
    events.volunteer_deactivated.send(volunteer, session=session, now=now, actor_id=actor_id)
    # the requests she accepted go back to others too, and she is told
    service_requests.release_volunteer(session, volunteer.person, now)
