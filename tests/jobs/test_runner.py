"""The job runner keeps a bounded history for jobs that run every few seconds (cron jobs keep theirs)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from jobs.registry import load_jobs
from jobs.runner import run_job, slot_for
from portal.models import JobRun


def runs_of(session, name):
    session.expire_all()
    return session.scalar(select(func.count(JobRun.id)).where(JobRun.job_name == name))


def test_interval_job_history_is_pruned(app, session, monkeypatch):
    factory = app.extensions["linli"].session_factory
    job = load_jobs()["send-outbox"]
    clock = {"now": None}
    monkeypatch.setattr("jobs.runner.utcnow", lambda: clock["now"])
    for hours in (0, 1, 2):
        moment = clock["now"] = datetime(2026, 11, 1, 8, tzinfo=timezone.utc) + timedelta(hours=hours)
        assert run_job(factory, "send-outbox", moment, slot=slot_for(job, moment))["status"] == "done"
    assert runs_of(session, "send-outbox") == 3
    later = clock["now"] = datetime(2026, 11, 4, 16, tzinfo=timezone.utc)  # > two days after the others
    run_job(factory, "send-outbox", later, slot=slot_for(job, later))
    assert runs_of(session, "send-outbox") == 1  # only the latest run remains
    # the same slot still cannot run twice
    assert run_job(factory, "send-outbox", later, slot=slot_for(job, later))["status"] == "already-run"


def test_interval_slots_are_the_same_for_the_same_moment():
    job = load_jobs()["send-outbox"]
    moment = datetime(2026, 11, 4, 16, 0, 7, tzinfo=timezone.utc)
    assert slot_for(job, moment) == slot_for(job, moment) == slot_for(job, moment + timedelta(seconds=2))
    assert slot_for(job, moment) != slot_for(job, moment + timedelta(seconds=5))
