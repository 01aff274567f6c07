"""Visit compliance: obligations per elder and period, their history, major events, period
snapshots, and the scheduler's own bookkeeping (job runs and heartbeat)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.models.area import Area
from portal.models.people import Person
from portal.types import UTCDateTime

OBLIGATION_STATUSES = ("upcoming", "due", "done", "missed", "excused")
OPEN_STATUSES = ("upcoming", "due")
EXCUSE_REASONS = ("in_hospital", "moved_away", "died")
MAJOR_EVENT_KINDS = ("hospital_discharge", "bereavement", "fall")


class VisitObligation(Base):
    """One elder, one period (e.g. "2026-11", "2026-W47", "2026-Q4", "E17" after a major event)."""

    __tablename__ = "visit_obligations"
    __table_args__ = (
        UniqueConstraint("elder_id", "period"),
        Index("ix_visit_obligations_period_community", "period", "community_id"),
        # A community's obligations overlapping a month (the completion list), and each person's
        # load in a month (planning reads it for every volunteer).
        Index("ix_visit_obligations_community_window", "community_id", "window_start"),
        # The same overlap read from its other end: a community's obligations ending after a month
        # starts are this month's and a few of the next, not the two years of history before it
        # (the completion list, the visit sheet).
        Index("ix_visit_obligations_community_window_end", "community_id", "window_end"),
        Index("ix_visit_obligations_window_start_assignee", "window_start", "assigned_to_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(12))
    cadence: Mapped[str] = mapped_column(String(12))      # weekly | monthly | quarterly | event
    tier: Mapped[str] = mapped_column(String(20))
    # The elder's community for this period; follows the elder when they move.
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(12), index=True, default="upcoming")
    excuse_reason: Mapped[str | None] = mapped_column(String(20))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    assigned_role: Mapped[str | None] = mapped_column(String(12))   # volunteer | worker
    # The Visit that satisfied it. A plain integer until the visits table is merged (then a FK).
    satisfied_by_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A counted visit that came after the period was closed: recorded, history left alone.
    late_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    late_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    major_event_id: Mapped[int | None] = mapped_column(ForeignKey("major_events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    elder: Mapped[Person] = relationship(foreign_keys=[elder_id], lazy="joined")
    assigned_to: Mapped[Person | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")
    community: Mapped[Area] = relationship(lazy="joined")


class ObligationEvent(Base):
    """The history of an obligation: every status change and every (re)assignment."""

    __tablename__ = "obligation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("visit_obligations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))          # status | assigned | moved | late_visit
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(200))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))


class ForecastRank(Base):
    """A period's open obligations per community in the forecast's order (longest unvisited first),
    written by the hourly `forecast-ranks` job, so the dashboards read a few rows per community
    instead of sorting every open obligation of the district on each request."""

    __tablename__ = "forecast_ranks"

    period: Mapped[str] = mapped_column(String(12), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("visit_obligations.id", ondelete="CASCADE"), index=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaleCount(Base):
    """Per community, how many special-hardship and high-risk elders have gone unvisited longer
    than the policy allows, counted by the hourly `forecast-ranks` job for the officer's overview
    (the community's own list of them is read live)."""

    __tablename__ = "stale_counts"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommunityFigures(Base):
    """Per community, the figures the officer pages show, counted by the hourly `forecast-ranks` job so
    a district officer's page reads one row per community instead of counting the district's
    obligations and elders on each request: this month's visit figures and the registered elders per
    care tier. The pages show when they were counted, and count live when the job has not run lately."""

    __tablename__ = "community_figures"

    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[str] = mapped_column(String(12))   # the month the visit figures are for
    total: Mapped[int] = mapped_column(Integer, default=0)
    excused: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    high_risk: Mapped[int] = mapped_column(Integer, default=0)
    special_hardship: Mapped[int] = mapped_column(Integer, default=0)
    general: Mapped[int] = mapped_column(Integer, default=0)
    elders: Mapped[int] = mapped_column(Integer, default=0)   # every registered elder, whatever the tier
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ElderVisitStat(Base):
    """The last counted visit per elder, so lists can show it without reading the visits table."""

    __tablename__ = "elder_visit_stats"

    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))


class MajorEvent(Base):
    """A hospital discharge, bereavement or fall a worker records: a high-risk elder is visited within 24 h."""

    __tablename__ = "major_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComplianceSnapshot(Base):
    """A closed period's figures for one community, street or district. Written once, never updated."""

    __tablename__ = "compliance_snapshots"
    __table_args__ = (UniqueConstraint("period", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(12), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    area_level: Mapped[str] = mapped_column(String(16))
    area_name: Mapped[str] = mapped_column(String(100))
    parent_name: Mapped[str | None] = mapped_column(String(100))
    area_path: Mapped[str] = mapped_column(String(255), index=True)
    total: Mapped[int] = mapped_column(Integer)     # every obligation of the period
    due: Mapped[int] = mapped_column(Integer)       # the denominator: total minus excused
    done: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    excused: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """One run of a scheduled job for one slot. The unique key stops two schedulers acting twice."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(80))
    scheduled: Mapped[bool] = mapped_column(default=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="running")
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    host: Mapped[str | None] = mapped_column(String(120))  # which scheduler ran it (several may be running)


class SchedulerHeartbeat(Base):
    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    host: Mapped[str | None] = mapped_column(String(120))
