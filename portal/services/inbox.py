"""Inbound texts: who sent them, whether we saw them before (replays), and the loop guard.

A provider retries a webhook it thinks failed, and two deliveries can arrive at once: the
message id is UNIQUE, so the second insert fails and the caller answers without acting again.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from portal.models import Area, ContactStatus, ElderProfile, InboundMessage, Person
from portal.policy import policy
from portal.services.phones import InvalidPhone, normalize_phone
from portal.services.scope import chain_hotline, nearest_hotlines
from portal.services.sms_text import clean_inbound

SHORT_ANSWER_CHARS = 2


@dataclass
class Sender:
    phone: str
    person: Person | None


def identify_sender(session: Session, raw_from: str | None, region: str = "CN") -> Sender:
    """The sender's E.164 number and the active person with it (None for an unknown number)."""
    raw = clean_inbound(raw_from, 32)
    try:
        phone = normalize_phone(raw, region)
    except InvalidPhone:
        return Sender(raw or "unknown", None)
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is not None and not person.active:
        person = None
    return Sender(phone, person)


def already_received(session: Session, provider_sid: str) -> bool:
    return session.scalar(select(InboundMessage.id).where(InboundMessage.provider_sid == provider_sid)) is not None


def is_loop(session: Session, from_phone: str, body: str, now: datetime) -> bool:
    """True when this text would be the Nth identical one from this number inside the window.

    Short answers (a number such as "1" or "２", or one character such as "好") are never a loop: an elder answering a row of numbered
    questions sends "1" several times in a few minutes, and an auto-responder never answers
    with a digit.
    """
    short = unicodedata.normalize("NFKC", body or "").strip()
    if len(short) == 1 or (short.isdigit() and len(short) <= SHORT_ANSWER_CHARS):
        return False
    rules = policy()["messages"]
    earlier = session.scalar(
        select(func.count(InboundMessage.id)).where(
            InboundMessage.from_phone == from_phone,
            InboundMessage.body == body,
            InboundMessage.received_at > now - timedelta(minutes=rules["loop_guard_minutes"]),
        )
    )
    return earlier + 1 >= rules["loop_guard_count"]


def store(session: Session, provider_sid: str, sender: Sender, to_phone: str | None, body: str,
          status: str, now: datetime) -> InboundMessage:
    """Insert the message. Raises IntegrityError when the same message id was stored meanwhile."""
    message = InboundMessage(
        provider_sid=provider_sid,
        from_phone=sender.phone,
        to_phone=clean_inbound(to_phone, 32) or None,
        body=body,
        person_id=sender.person.id if sender.person else None,
        status=status,
        received_at=now,
    )
    session.add(message)
    session.flush()
    return message


def thread(session: Session, phone: str, limit: int = 40) -> list[InboundMessage]:
    return list(reversed(session.scalars(
        select(InboundMessage).where(InboundMessage.from_phone == phone)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(limit)
    ).all()))


def set_contact_status(session: Session, phone: str, status: str, now: datetime) -> ContactStatus:
    """Opt a phone out of (stopped) or back into (active) everything but replies, login codes and emergency alerts."""
    contact = session.get(ContactStatus, phone)
    if contact is None:
        contact = ContactStatus(phone=phone, status=status, updated_at=now)
        session.add(contact)
    else:
        contact.status, contact.updated_at = status, now
    session.flush()
    return contact


def hotline_for(session: Session, person: Person | None, default: str) -> str:
    """The community hotline of the person's community (an elder's, else a role's), or `default`."""
    if person is None:
        return default
    # One query: the elder's community (a scalar subquery riding along) and the hotlines of her
    # community and of her roles' areas (the grants are loaded with the signed-in person).
    grant_areas = [g.area_id for g in person.grants if g.area_id]
    community = select(ElderProfile.community_id).where(ElderProfile.person_id == person.id).scalar_subquery()
    hotlines, community_id = nearest_hotlines(session, grant_areas, also=community)
    return _first_hotline(hotlines, ([community_id] if community_id is not None else []) + grant_areas, default)


def _first_hotline(hotlines: dict[int, str | None], area_ids: list[int], default: str) -> str:
    return next((hotlines[area_id] for area_id in area_ids if hotlines.get(area_id)), default)


_COMMUNITY, _STREET, _DISTRICT = (aliased(Area, name=name) for name in ("hotline_community", "hotline_street",
                                                                         "hotline_district"))


def with_elder_hotline(query: Select, person_id_column) -> Select:
    """`query` (one row per person) with five more columns: the elder's community and the hotlines up
    its chain (outer joins: None for a person without an elder profile). hotline_from_row reads them,
    so a signed-in elder's page finds her hotline in the row it reads anyway."""
    return (query.add_columns(ElderProfile.community_id, _COMMUNITY.hotline, _STREET.hotline, _DISTRICT.hotline,
                              _DISTRICT.parent_id)
            .outerjoin(ElderProfile, ElderProfile.person_id == person_id_column)
            .outerjoin(_COMMUNITY, _COMMUNITY.id == ElderProfile.community_id)
            .outerjoin(_STREET, _STREET.id == _COMMUNITY.parent_id)
            .outerjoin(_DISTRICT, _DISTRICT.id == _STREET.parent_id))


def hotline_from_row(session: Session, person: Person, columns: tuple, default: str) -> str:
    """hotline_for, from the five columns with_elder_hotline added (the same answer, mostly no query)."""
    community_id, own, street, district, beyond = columns
    hotline = chain_hotline(session, own, street, district, beyond)
    if hotline:
        return hotline
    # her community has none: the areas of her roles, in order (those other than her community)
    others = [g.area_id for g in person.grants if g.area_id and g.area_id != community_id]
    return _first_hotline(nearest_hotlines(session, others)[0] if others else {}, others, default)


def clean_body(raw: str | None) -> str:
    return clean_inbound(raw)
