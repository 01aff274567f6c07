"""Running jobs: once (`linli jobs run`), on schedule (`linli scheduler`), and catching up after downtime.

Two schedulers must never act twice: each run of a scheduled slot inserts a `job_runs` row with a
unique (job, slot) key in the job's own transaction, and on PostgreSQL the run also holds
`pg_try_advisory_xact_lock` for the job, so a second scheduler skips instead of waiting.
"""
from __future__ import annotations

import logging
import socket
import zlib
from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jobs.registry import Job, load_jobs
from portal.channels import outbox
from portal.clock import local_tz
from portal.db import utcnow
from portal.models import JobRun, SchedulerHeartbeat
from portal.services.scheduler_status import HEARTBEAT

log = logging.getLogger("linli.jobs")
# Interval jobs (the outbox sender every few seconds) would add ~17,000 run rows a day; only the
# latest slot matters for catch-up and double-run protection, so older rows of theirs are pruned.
INTERVAL_RUN_HISTORY = timedelta(days=2)
INTERVAL_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def build_trigger(job: Job):
    if job.trigger == "cron":  # a cron job's hours are local hours
        return CronTrigger(**{"timezone": local_tz(), **job.trigger_args})
    if job.trigger == "interval":
        return IntervalTrigger(**job.trigger_args)
    raise ValueError(f"unknown trigger {job.trigger!r}")


def slot_for(job: Job, now: datetime) -> str | None:
    """The latest scheduled moment at or before `now` (UTC ISO), the key of that run."""
    trigger = build_trigger(job)
    if isinstance(trigger, IntervalTrigger):
        # Anchored to a fixed epoch: the trigger's own start date is "when it was built", which
        # would give the same moment a different slot on every call.
        interval = trigger.interval
        steps = (now - INTERVAL_EPOCH) // interval
        return (INTERVAL_EPOCH + steps * interval).astimezone(now.tzinfo).isoformat()
    latest = None
    moment = trigger.get_next_fire_time(None, now - timedelta(days=40))
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return latest.astimezone(now.tzinfo).isoformat() if latest else None


def host_name() -> str:
    """This scheduler's name in job runs and the heartbeat: LINLI_HOSTNAME, else the machine's name."""
    import os

    return (os.environ.get("LINLI_HOSTNAME") or socket.gethostname())[:120]


def _lock_key(name: str) -> int:
    return zlib.crc32(f"linli-job:{name}".encode()) & 0x7FFFFFFF


def run_job(session_factory: sessionmaker[Session], name: str, now: datetime, slot: str | None = None,
            transport=None) -> dict:
    """Run job `name` as if at `now`. With a `slot` it runs at most once for that slot."""
    jobs = load_jobs()
    if name not in jobs:
        raise KeyError(name)
    job = jobs[name]
    scheduled = slot is not None
    slot = slot or f"manual:{now.isoformat()}:{utcnow().isoformat()}"
    with session_factory() as session:
        if session.bind.dialect.name == "postgresql":
            if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _lock_key(name)}):
                session.rollback()
                return {"status": "locked"}
        session.info["transport"] = transport
        run = JobRun(job_name=name, slot=slot, scheduled=scheduled, as_of=now, started_at=utcnow(),
                     status="running", summary={}, host=host_name())
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return {"status": "already-run"}
        try:
            summary = job.fn(session, now) or {}
        except Exception:
            session.rollback()
            log.exception("job %s failed (as of %s)", name, now.isoformat())
            raise
        run.status, run.finished_at, run.summary = "done", utcnow(), summary
        if job.trigger == "interval":
            session.execute(delete(JobRun).where(JobRun.job_name == name,
                                                 JobRun.started_at < run.started_at - INTERVAL_RUN_HISTORY))
        new_ids = session.info.pop("outbox_new_ids", [])
        try:
            session.commit()
        except IntegrityError:  # another scheduler committed the same slot first
            session.rollback()
            return {"status": "already-run"}
    if transport is not None and new_ids:
        with session_factory() as send_session:
            try:
                outbox.send_due(send_session, transport, now=utcnow(), ids=new_ids)
            except Exception:  # the outbox retries later; the job's work is committed
                log.exception("sending after job %s failed", name)
    return {"status": "done", **summary}


def catch_up(session_factory: sessionmaker[Session], now: datetime, transport=None) -> dict[str, dict]:
    """After downtime: each job whose latest slot did not run, runs once now (missed runs coalesce)."""
    results = {}
    for name, job in load_jobs().items():
        slot = slot_for(job, now)
        if slot is None:
            continue
        with session_factory() as session:
            done = session.scalar(select(JobRun.id).where(JobRun.job_name == name, JobRun.slot == slot))
        if done is None:
            results[name] = run_job(session_factory, name, now, slot=slot, transport=transport)
    return results


def beat(session_factory: sessionmaker[Session], now: datetime | None = None) -> None:
    now = now or utcnow()
    # Two schedulers may give their very first beat at the same moment: the one whose insert loses
    # updates the row the other just wrote, rather than stopping on the primary key.
    beat_now = (update(SchedulerHeartbeat).where(SchedulerHeartbeat.name == HEARTBEAT)
                .values(beat_at=now, host=host_name()))
    with session_factory() as session:
        if session.execute(beat_now).rowcount == 0:
            try:
                with session.begin_nested():
                    session.add(SchedulerHeartbeat(name=HEARTBEAT, beat_at=now, host=host_name()))
            except IntegrityError:
                session.execute(beat_now)
        session.commit()


def build_scheduler(session_factory: sessionmaker[Session], transport=None, timezone: str | None = None):
    """A BlockingScheduler with every registered job, a heartbeat, coalescing and a misfire grace."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=timezone or local_tz(), job_defaults={
        "coalesce": True, "misfire_grace_time": 6 * 3600, "max_instances": 1})

    def scheduled(name: str) -> None:
        now = utcnow()
        result = run_job(session_factory, name, now, slot=slot_for(load_jobs()[name], now), transport=transport)
        log.info("job %s: %s", name, result)

    def repair() -> None:
        # Another scheduler held a job's lock when this one fired ("locked") and may have died before it
        # committed: any job whose latest slot has no run is run now. Cheap when all is well.
        for name, result in catch_up(session_factory, utcnow(), transport=transport).items():
            log.info("job %s (caught up): %s", name, result)

    for name, job in load_jobs().items():
        scheduler.add_job(scheduled, build_trigger(job), args=[name], id=name, name=name)
    scheduler.add_job(beat, IntervalTrigger(seconds=60), args=[session_factory], id="heartbeat",
                      name="heartbeat", next_run_time=utcnow())
    scheduler.add_job(repair, IntervalTrigger(seconds=60), id="catch-up", name="catch-up")
    return scheduler
