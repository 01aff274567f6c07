"""Texts a relative chose to get about her elder (on the family month page): a visit confirmed, the
month's visit missed, a 每日问安 call not answered. Only approved links, each with its own switch;
every text carries a dedupe key, so a job that runs twice sends it once."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import formatting
from portal.i18n import msg, translate_for
from portal.models import FamilyLink, Person, Visit
from portal.services.outbox import enqueue

SWITCHES = ("notify_visits", "notify_checkins")


def opted_in(session: Session, elder_id: int, switch: str) -> list[FamilyLink]:
    assert switch in SWITCHES, switch
    return list(session.scalars(select(FamilyLink).where(FamilyLink.elder_id == elder_id,
                                                         FamilyLink.status == "approved",
                                                         getattr(FamilyLink, switch).is_(True))
                                .order_by(FamilyLink.id)))


def set_switches(session: Session, link: FamilyLink, visits: bool, checkins: bool) -> None:
    link.notify_visits, link.notify_checkins = bool(visits), bool(checkins)
    session.flush()


def _text(session: Session, person: Person, message: str, key: str, now: datetime, **values) -> None:
    if not person.active:
        return
    values = {k: (v(person.locale) if callable(v) else v) for k, v in values.items()}
    enqueue(session, person.phone, translate_for(person.locale, message, **values), kind="notice", person=person,
            dedupe_key=key, now=now)


def visit_confirmed(session: Session, visit: Visit, now: datetime) -> None:
    """The elder (or a worker) confirmed a visit: relatives who asked are told who came and when."""
    for link in opted_in(session, visit.elder_id, "notify_visits"):
        _text(session, link.family, msg("%(volunteer)s visited %(elder)s on %(date)s."),
              f"family:{link.id}:visit:{visit.id}", now, volunteer=visit.volunteer.name, elder=visit.elder.name,
              date=lambda locale: formatting.day(visit.checked_in_at, locale))


def visit_missed(session: Session, elder_id: int, obligation_id: int, start: datetime, end: datetime,
                 now: datetime) -> None:
    """A visit period closed without the elder's visit: relatives who asked are told."""
    for link in opted_in(session, elder_id, "notify_visits"):
        _text(session, link.family,
              msg("%(elder)s had no visit from %(day)s to %(date)s. The community worker has been told."),
              f"family:{link.id}:missed:{obligation_id}", now, elder=link.elder.name,
              day=lambda locale: formatting.day(start, locale),
              date=lambda locale: formatting.day(end - timedelta(seconds=1), locale))
