"""Two schedulers against one PostgreSQL over a simulated week; one is killed mid-way (SIGKILL, at any
point, a job's transaction perhaps open). Every job slot of the week ran exactly once, and each run
and the heartbeat say which host ran it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.registry import load_jobs
from jobs.runner import HEARTBEAT, slot_for
from portal.models import JobRun, SchedulerHeartbeat

ROOT = Path(__file__).resolve().parents[2]
HOURS = 7 * 24
WAIT = 240  # seconds, at most, for the week to be simulated

pytestmark = pytest.mark.postgres_only


def _start(database_url: str, start: datetime, progress: Path, host: str) -> subprocess.Popen:
    env = {**os.environ, "LINLI_HOSTNAME": host, "LINLI_BACKUP_DIR": str(progress.parent / f"backups-{host}")}
    return subprocess.Popen([sys.executable, "-m", "tests.jobs.simulated_scheduler", database_url, start.isoformat(),
                             str(HOURS), str(progress)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _progress(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_two_schedulers_one_killed_every_slot_runs_once(app, world, session, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("two schedulers share one PostgreSQL (advisory locks); run with LINLI_TEST_DATABASE_URL")
    start = datetime(2026, 11, 30, 16, 5, tzinfo=timezone.utc)  # Monday 00:05 in Shanghai
    progress_a, progress_b = tmp_path / "a.progress", tmp_path / "b.progress"
    runner_a = _start(database_url, start, progress_a, "host-a")
    runner_b = _start(database_url, start, progress_b, "host-b")
    try:
        deadline = time.monotonic() + WAIT
        while not (_progress(progress_a).isdigit() and int(_progress(progress_a)) >= HOURS // 2):
            assert runner_a.poll() is None, runner_a.stdout.read()
            assert time.monotonic() < deadline, "runner A did not reach the middle of the week"
            time.sleep(0.05)
        runner_a.send_signal(signal.SIGKILL)  # mid-way, perhaps inside a job's transaction
        runner_a.wait(timeout=30)
        killed_at = int(_progress(progress_a))
        runner_b.wait(timeout=max(1, deadline - time.monotonic()))
        output_b = runner_b.stdout.read()
        assert runner_b.returncode == 0 and _progress(progress_b) == "done", output_b[-3000:]
    finally:
        for runner in (runner_a, runner_b):
            if runner.poll() is None:
                runner.kill()
                runner.wait(timeout=30)
    assert killed_at < HOURS

    expected = {(name, slot_for(job, start + timedelta(hours=h)))
                for name, job in load_jobs().items() for h in range(HOURS + 1)} - {(n, None) for n in load_jobs()}
    session.expire_all()
    runs = session.execute(select(JobRun.job_name, JobRun.slot, JobRun.status, JobRun.host)
                           .where(JobRun.scheduled)).all()
    ran = [(r.job_name, r.slot) for r in runs]
    assert len(ran) == len(set(ran)), "a slot ran twice"
    assert set(ran) == expected, (f"missing {sorted(expected - set(ran))[:5]}, "
                                  f"unexpected {sorted(set(ran) - expected)[:5]}")
    assert {r.status for r in runs} == {"done"}
    hosts = {r.host for r in runs}
    assert hosts == {"host-a", "host-b"}, hosts  # both worked; each run names its host
    per_job = dict(session.execute(select(JobRun.job_name, func.count()).where(JobRun.scheduled)
                                   .group_by(JobRun.job_name)).all())
    # a daily job: the day before the start (its latest slot at the first tick) and the seven days
    assert per_job["plan-visits"] == 8 and per_job["visit-reminders"] == 8 and per_job["backup"] == 8
    assert per_job["send-outbox"] == HOURS + 1  # an interval job: the slot of every simulated hour
    heartbeat = session.get(SchedulerHeartbeat, HEARTBEAT)
    assert heartbeat.host == "host-b" and heartbeat.beat_at == start + timedelta(hours=HOURS)
