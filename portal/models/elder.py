"""Elder and volunteer profiles, family links, pairings."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.models.area import Area
from portal.models.people import Person
from portal.types import UTCDateTime

LIVING_SITUATIONS = ("alone", "empty_nest", "left_behind", "with_family")
HARDSHIP_CATEGORIES = (
    "extreme_poverty",   # 特困
    "low_income",        # 低保
    "disabled_care",     # 失能/半失能
    "severe_disability", # 重残
    "advanced_age",      # 高龄 80+
    "bereaved_family",   # 计划生育特殊家庭
)
CARE_TIERS = ("high_risk", "special_hardship", "general")
SERVICE_TYPES = ("meal", "cleaning", "escort", "bathing", "emergency")


class ElderProfile(Base):
    __tablename__ = "elder_profiles"
    # Lists of a community's elders by tier (officer dashboard, planning): no scan of the district.
    __table_args__ = (Index("ix_elder_profiles_community_tier", "community_id", "care_tier"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(8))
    living_situation: Mapped[str] = mapped_column(String(16), default="with_family")
    hardship: Mapped[list[str]] = mapped_column(JSON, default=list)
    ability_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    severe_illness: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    emergency_contacts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    care_tier: Mapped[str] = mapped_column(String(20), index=True, default="general")
    tier_override: Mapped[str | None] = mapped_column(String(20))
    tier_override_reason: Mapped[str | None] = mapped_column(String(200))
    door_code: Mapped[str] = mapped_column(String(8), unique=True)
    door_token_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship(lazy="joined")
    community: Mapped[Area] = relationship(lazy="joined")


class VolunteerProfile(Base):
    __tablename__ = "volunteer_profiles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    birth_date: Mapped[date | None] = mapped_column(Date)
    monthly_capacity: Mapped[int] = mapped_column(Integer, default=8, server_default="8")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    community: Mapped[Area] = relationship(lazy="joined")


class FamilyLink(Base):
    __tablename__ = "family_links"
    __table_args__ = (UniqueConstraint("family_id", "elder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending → approved | revoked
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # texts the relative chose on the family month page (services/family_notices.py)
    notify_visits: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    notify_checkins: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    family: Mapped[Person] = relationship(foreign_keys=[family_id], lazy="joined")
    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="joined")


class Pairing(Base):
    """结对: a volunteer paired with an elder, the first choice for planned visits."""

    __tablename__ = "pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    volunteer: Mapped[Person] = relationship(foreign_keys=[volunteer_id], lazy="joined")
    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="joined")
