"""Audit trail of personal-data access."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.models import AuditEvent


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id=None,
    elder_id: int | None = None,
    ip: str | None = None,
    **detail,
) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's work)."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        elder_id=elder_id,
        ip=ip,
        detail=detail,
    )
    session.add(event)
    return event
