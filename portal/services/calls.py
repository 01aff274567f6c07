"""What happens when a call Linli placed does not reach a person.

The sender (portal.channels.outbox) places calls and retries busy or unanswered ones at the
policy's pauses. After the last try: a reminder call an answering machine picked up is texted
instead; an urgent call about an elder goes to the next person on her list (her emergency
contacts, her paired volunteers, then the community workers), one at a time, nobody twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ElderProfile, OutboundMessage, Pairing, Person
from portal.services.outbox import enqueue
from portal.services.scope import community_workers


def emergency_list(session: Session, elder: ElderProfile) -> list[tuple[str, str, Person | None]]:
    """(phone, locale, person) of everyone to reach for this elder, in order, each phone once:
    her emergency contacts, her paired volunteers, then her community's workers."""
    people: list[tuple[str, str, Person | None]] = []
    for contact in elder.emergency_contacts or []:
        if contact.get("phone"):
            known = session.scalar(select(Person).where(Person.phone == contact["phone"]))
            people.append((contact["phone"], known.locale if known else "zh_Hans", known))
    for pairing in session.scalars(select(Pairing).where(Pairing.elder_id == elder.person_id, Pairing.active)):
        people.append((pairing.volunteer.phone, pairing.volunteer.locale, pairing.volunteer))
    for worker in community_workers(session, elder.community_id):
        people.append((worker.phone, worker.locale, worker))
    seen, ordered = {elder.person.phone}, []
    for phone, locale, person in people:
        if phone not in seen:
            seen.add(phone)
            ordered.append((phone, locale, person))
    return ordered


def after_last_try(session: Session, call: OutboundMessage, outcome: str, now: datetime) -> OutboundMessage | None:
    """A call's last try failed (`outcome`: busy, no-answer, machine, failed). Returns what was queued next."""
    if outcome == "machine" and call.sms_fallback and not call.urgent:
        # Nobody listens to a reminder on an answering machine: text it instead.
        return enqueue(session, call.to_phone, call.sms_fallback, kind=call.kind,
                       person=session.get(Person, call.person_id) if call.person_id else None,
                       dedupe_key=f"call:{call.id}:as-text", now=now)
    if not call.urgent or call.about_elder_id is None:
        return None
    elder = session.get(ElderProfile, call.about_elder_id)
    if elder is None:
        return None
    chain = call.chain_key or f"call:{call.id}"
    call.chain_key = chain
    called = set(session.scalars(select(OutboundMessage.to_phone).where(OutboundMessage.chain_key == chain)))
    called.add(call.to_phone)
    for phone, _locale, person in emergency_list(session, elder):
        if phone in called:
            continue
        return enqueue(session, phone, call.body, kind=call.kind, person=person, channel="call", urgent=True,
                       emergency=call.kind == "emergency", about_elder=elder.person, chain_key=chain,
                       dedupe_key=f"{chain}:next:{phone}"[:120], now=now)
    return None


CALLBACK_KIND = "callback"


def queue_callback(session: Session, elder: Person, menu_url: str, now: datetime) -> OutboundMessage | None:
    """A registered elder rang and we rejected it (free for her): call her back within a minute
    with the voice menu. At most once per `messages.callback_every_minutes` per number."""
    from portal.policy import policy

    every = timedelta(minutes=policy()["messages"]["callback_every_minutes"])
    recent = session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.to_phone == elder.phone, OutboundMessage.kind == CALLBACK_KIND,
        OutboundMessage.created_at > now - every).limit(1))
    if recent is not None:
        return None
    # Urgent: she has just called us, so neither quiet hours nor the reminder queue hold it.
    return enqueue(session, elder.phone, menu_url, kind=CALLBACK_KIND, person=elder, channel="call", urgent=True,
                   now=now)
