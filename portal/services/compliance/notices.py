"""Texts and calls about visits: to the assigned visitor, the community's workers, the street's officers.

Every notice carries a dedupe key, so a job that runs twice sends it once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import formatting
from portal.i18n import msg, translate_for
from portal.models import Area, OutboundMessage, Person, RoleGrant, VisitObligation
from portal.services.compliance.periods import local_date
from portal.services.outbox import enqueue


def send_to(session: Session, person: Person | None, message_id: str, dedupe_key: str, now: datetime,
            **variables) -> None:
    if person is None or not person.active:
        return
    variables = {k: (v(person.locale) if callable(v) else v) for k, v in variables.items()}
    body = translate_for(person.locale, message_id, **variables)
    channel = "call" if person.preferred_channel == "voice" else "sms"
    # Reminders are planned for daytime; should a job run at night, they wait for the morning.
    enqueue(session, person.phone, body, kind="reminder", person=person, channel=channel,
            elder_quiet_hours=True, dedupe_key=dedupe_key, now=now)


def notify_assignee(session: Session, obligation: VisitObligation, now: datetime, dedupe_key: str) -> None:
    if obligation.assigned_to_id is None:
        return
    person = session.get(Person, obligation.assigned_to_id)
    send_to(session, person, msg("Please visit %(elder)s (%(community)s) by %(date)s. Thank you!"), dedupe_key, now,
            elder=obligation.elder.name, community=obligation.community.name,
            date=lambda locale: formatting.day(local_date(obligation.window_end - timedelta(seconds=1)), locale))


def elder_names(obligations: list[VisitObligation], limit: int = 20) -> str:
    names = [o.elder.name for o in obligations[:limit]]
    return "、".join(names) + ("…" if len(obligations) > limit else "")


def officers_for(session: Session, community: Area) -> list[Person]:
    """The street's officers; when the street has none, the district's."""
    ancestors = [int(part) for part in community.path.strip("/").split("/") if part][:-1]
    for area_id in reversed(ancestors):
        officers = session.scalars(
            select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.role == "officer", RoleGrant.area_id == area_id, Person.active)
        ).unique().all()
        if officers:
            return list(officers)
    return []




def taken_off(session: Session, obligation: VisitObligation, person_id: int, now: datetime,
              dedupe_key: str | None = None) -> None:
    """The visitor taken off a visit (a worker's reassignment, the escalation ladder, her deactivation)
    is told so in her language, and her reminders about it that have not left stop. `dedupe_key` makes
    the text once-only for a job that may run again."""
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.dedupe_key.like(f"obl:{obligation.id}:%"), OutboundMessage.person_id == person_id,
               OutboundMessage.status == "queued")
        .values(status="cancelled", last_error="taken off the visit", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    send_to(session, session.get(Person, person_id),
            msg("You no longer need to visit %(elder)s this time; someone else will go. Thank you!"),
            dedupe_key or f"obl:{obligation.id}:off:{person_id}:{now:%Y%m%d%H%M}", now, elder=obligation.elder.name)
