"""How compliance reacts to the rest of the domain (portal.events signals).

`connect_receivers()` connects them; create_app calls it, so the web, the CLI and the scheduler
(which runs through the CLI) all have them, whichever modules happen to be imported.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import events
from portal.models import VisitObligation, VolunteerProfile
from portal.services.compliance.assignment import assign, pick_visitor
from portal.services.compliance.completion import record_visit
from portal.services.compliance.history import OPEN, log_event
from portal.services.compliance.notices import notify_assignee, taken_off
from portal.services.compliance.periods import is_closed

_connected = False


def on_visit_verified(visit, session: Session, now: datetime, **_kwargs) -> None:
    record_visit(session, visit, now)


def on_volunteer_deactivated(volunteer, session: Session, now: datetime, **_kwargs) -> None:
    """The volunteer's open visits go to someone else."""
    open_ones = session.scalars(
        select(VisitObligation).where(VisitObligation.assigned_to_id == volunteer.person_id,
                                      VisitObligation.status.in_(OPEN))
    ).all()
    for obligation in open_ones:
        person_id, role = pick_visitor(session, obligation, now, exclude=(volunteer.person_id,))
        assign(session, obligation, person_id, role, now, reason="volunteer deactivated")
        notify_assignee(session, obligation, now, f"obl:{obligation.id}:assigned:{person_id}:deactivated")
        taken_off(session, obligation, volunteer.person_id, now,
                  f"obl:{obligation.id}:off:{volunteer.person_id}:deactivated")
    session.flush()


def on_elder_moved(profile, session: Session, now: datetime, old_community_id: int | None = None,
                   **_kwargs) -> None:
    """The elder's obligations of open periods follow them, so the new community counts them once."""
    obligations = session.scalars(
        select(VisitObligation).where(VisitObligation.elder_id == profile.person_id,
                                      VisitObligation.community_id != profile.community_id)
    ).all()
    for obligation in obligations:
        if is_closed(session, obligation.period):
            continue
        obligation.community_id = profile.community_id
        log_event(session, obligation, "moved", now, reason=f"from community {old_community_id}")
        if obligation.status in OPEN:
            volunteer = session.get(VolunteerProfile, obligation.assigned_to_id) if obligation.assigned_to_id else None
            if volunteer is None or volunteer.community_id != profile.community_id:
                person_id, role = pick_visitor(session, obligation, now)
                assign(session, obligation, person_id, role, now, reason="elder moved")
    session.flush()


RECEIVERS = (
    (events.visit_verified, on_visit_verified),
    (events.volunteer_deactivated, on_volunteer_deactivated),
    (events.elder_moved, on_elder_moved),
)


def connect_receivers() -> None:
    """Connect compliance's receivers once (strong references: they live as long as the process)."""
    global _connected
    if _connected:
        return
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
    _connected = True
