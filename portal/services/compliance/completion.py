"""Verified visits complete obligations: only a counted visit inside the window, and it silences reminders."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import ElderVisitStat, OutboundMessage, VisitObligation
from portal.policy import policy
from portal.services.compliance.history import log_event, set_status
from portal.services.compliance.periods import is_closed


def visit_counts(visit) -> bool:
    """Only a visit that counts for compliance, by a method the policy counts, completes an obligation."""
    if not getattr(visit, "counts_for_compliance", False) or getattr(visit, "checked_in_at", None) is None:
        return False
    rules = policy()["visits"]
    method = getattr(visit, "method", None)
    if method == "phone":
        return bool(rules.get("phone_visits_count"))
    return method in rules["counting_methods"]


def silence_reminders(session: Session, obligation: VisitObligation, now: datetime) -> None:
    """Reminders about this obligation still waiting in the outbox are cancelled."""
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.dedupe_key.like(f"obl:{obligation.id}:%"), OutboundMessage.status == "queued")
        .values(status="cancelled", last_error="visit done", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def record_visit(session: Session, visit, now: datetime) -> list[VisitObligation]:
    """A verified visit: note it as the elder's last visit and complete the obligations it satisfies."""
    if not visit_counts(visit):
        return []
    at = visit.checked_in_at
    stat = session.get(ElderVisitStat, visit.elder_id)
    if stat is None:
        session.add(ElderVisitStat(elder_id=visit.elder_id, last_visit_at=at, last_visit_id=visit.id))
    elif stat.last_visit_at is None or stat.last_visit_at < at:
        stat.last_visit_at, stat.last_visit_id = at, visit.id
    matching = session.scalars(
        select(VisitObligation).where(VisitObligation.elder_id == visit.elder_id,
                                      VisitObligation.window_start <= at, VisitObligation.window_end > at)
    ).all()
    completed = []
    for obligation in matching:
        if obligation.status in ("done", "excused"):
            continue
        if obligation.status == "missed" and is_closed(session, obligation.period):
            if obligation.late_visit_id is None:
                obligation.late_visit_id, obligation.late_visit_at = visit.id, at
                log_event(session, obligation, "late_visit", now, visit_id=visit.id,
                          reason="visit verified after the period was closed")
            continue
        obligation.satisfied_by_visit_id = visit.id
        obligation.done_at = at
        set_status(session, obligation, "done", now, visit_id=visit.id)
        silence_reminders(session, obligation, now)
        completed.append(obligation)
    session.flush()
    return completed
