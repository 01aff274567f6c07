"""The escalation ladder (policy "escalation"): remind the visitor, tell the worker, reassign and tell
the street officer as the days of an open period pass. Every step is keyed, so it happens once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import msg
from portal.models import VisitObligation
from portal.policy import policy
from portal.services.compliance.assignment import assign, pick_visitor
from portal.services.compliance.notices import elder_names, notify_assignee, officers_for, send_to, taken_off
from portal.services.compliance.periods import local_date
from portal.services.scope import community_workers


def run_escalation(session: Session, now: datetime) -> dict:
    """Apply the escalation ladder to open obligations. Every step is keyed, so it happens once."""
    summary = {"reminded": 0, "workers_told": 0, "reassigned": 0, "officers_told": 0}
    for cadence, ladder in policy()["escalation"].items():
        obligations = session.scalars(
            select(VisitObligation).where(VisitObligation.cadence == cadence, VisitObligation.status == "due",
                                          VisitObligation.window_start <= now, VisitObligation.window_end > now)
            .order_by(VisitObligation.community_id, VisitObligation.id)
        ).all()
        by_window: dict[tuple, list[VisitObligation]] = {}
        for obligation in obligations:
            by_window.setdefault((obligation.period, obligation.window_start), []).append(obligation)
        for (period, start), group in by_window.items():
            day = (local_date(now) - local_date(start)).days + 1
            # After downtime only the latest step of each kind is taken: one catch-up, not a burst.
            latest: dict[str, int] = {}
            for step in ladder:
                if step["day"] <= day:
                    latest[step["action"]] = max(latest.get(step["action"], 0), step["day"])
            by_community: dict[int, list[VisitObligation]] = {}
            for obligation in group:
                by_community.setdefault(obligation.community_id, []).append(obligation)
            if "remind_visitor" in latest:
                summary["reminded"] += _remind_visitors(session, group, latest["remind_visitor"], now)
            if "tell_worker" in latest:
                summary["workers_told"] += _tell_workers(session, period, by_community, latest["tell_worker"], now)
            if "reassign_and_tell_officer" in latest:
                reassigned, told = _reassign_and_tell_officers(session, period, by_community,
                                                               latest["reassign_and_tell_officer"], now)
                summary["reassigned"] += reassigned
                summary["officers_told"] += told
    session.flush()
    return summary


def _remind_visitors(session: Session, group: list[VisitObligation], step_day: int, now: datetime) -> int:
    for obligation in group:
        notify_assignee(session, obligation, now, f"obl:{obligation.id}:remind:d{step_day}")
    return len(group)


def _tell_workers(session: Session, period: str, by_community: dict[int, list[VisitObligation]], step_day: int,
                  now: datetime) -> int:
    told = 0
    for community_id, open_ones in by_community.items():
        for worker in community_workers(session, community_id):
            send_to(session, worker,
                    msg("%(count)s elders in %(community)s are not visited yet this period: %(names)s"),
                    f"compliance:{period}:c{community_id}:w{worker.id}:d{step_day}", now,
                    count=len(open_ones), community=open_ones[0].community.name, names=elder_names(open_ones))
            told += 1
    return told


def _reassign_and_tell_officers(session: Session, period: str, by_community: dict[int, list[VisitObligation]],
                                step_day: int, now: datetime) -> tuple[int, int]:
    reassigned = told = 0
    for community_id, open_ones in by_community.items():
        for obligation in open_ones:
            if obligation.escalated_at is not None:
                continue
            obligation.escalated_at = now
            exclude = (obligation.assigned_to_id,) if obligation.assigned_role == "volunteer" else ()
            person_id, role = pick_visitor(session, obligation, now, exclude=exclude)
            if person_id and person_id != obligation.assigned_to_id:
                previous_id = obligation.assigned_to_id if obligation.assigned_role == "volunteer" else None
                assign(session, obligation, person_id, role, now, reason=f"escalation day {step_day}")
                notify_assignee(session, obligation, now, f"obl:{obligation.id}:escalated:d{step_day}")
                if previous_id is not None:
                    taken_off(session, obligation, previous_id, now,
                              f"obl:{obligation.id}:off:{previous_id}:escalated:d{step_day}")
                reassigned += 1
        community = open_ones[0].community
        for officer in officers_for(session, community):
            send_to(session, officer,
                    msg("%(count)s elders in %(community)s are still not visited on day %(day)s: %(names)s"),
                    f"compliance:{period}:c{community_id}:o{officer.id}:d{step_day}", now,
                    count=len(open_ones), community=community.name, day=step_day, names=elder_names(open_ones))
            told += 1
    return reassigned, told
