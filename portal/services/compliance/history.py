"""Obligation statuses and their history: every change of status or visitor leaves an ObligationEvent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from portal.models import ObligationEvent, VisitObligation
from portal.types import UTCDateTime

OPEN = ("upcoming", "due")


def log_event(session: Session, obligation: VisitObligation, kind: str, now: datetime, *, from_status=None,
              to_status=None, actor_id=None, reason=None, visit_id=None) -> None:
    session.add(ObligationEvent(obligation_id=obligation.id, at=now, kind=kind, from_status=from_status,
                                to_status=to_status, assigned_to_id=obligation.assigned_to_id,
                                actor_id=actor_id, reason=reason, visit_id=visit_id))


def set_status(session: Session, obligation: VisitObligation, status: str, now: datetime, **detail) -> None:
    previous = obligation.status
    obligation.status = status
    obligation.updated_at = now
    log_event(session, obligation, "status", now, from_status=previous, to_status=status, **detail)


def bulk_status(session: Session, where, to_status: str, now: datetime, reason: str) -> int:
    """Move every obligation matching `where` to `to_status`, with one history row each (set-based)."""
    session.execute(
        insert(ObligationEvent).from_select(
            ["obligation_id", "at", "kind", "from_status", "to_status", "assigned_to_id", "reason"],
            select(VisitObligation.id, literal(now, UTCDateTime), literal("status"), VisitObligation.status,
                   literal(to_status), VisitObligation.assigned_to_id, literal(reason)).where(where),
        )
    )
    result = session.execute(
        update(VisitObligation).where(where).values(status=to_status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
