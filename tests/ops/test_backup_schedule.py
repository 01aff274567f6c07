"""The nightly backup job keeps the newest N backups; `linli backup --keep N` does the same by hand."""
from __future__ import annotations

from sqlalchemy import select

from jobs.registry import load_jobs
from jobs.runner import run_job
from portal.db import utcnow
from portal.models import JobRun
from tests.ops.test_backup import needs_tools  # noqa: F401  (the fixture)


def test_backup_job_is_scheduled_nightly_and_keeps_the_newest(app, world, session, tmp_path, monkeypatch,
                                                              needs_tools):  # noqa: F811
    job = load_jobs()["backup"]
    assert job.trigger == "cron" and job.trigger_args == {"hour": 2, "minute": 30}
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 6):  # five older backups, and a file that is not one
        (folder / f"linli-200011{day:02d}-023000.dump").write_bytes(b"old")
    (folder / "notes.txt").write_text("keep me")
    monkeypatch.setenv("LINLI_BACKUP_DIR", str(folder))
    monkeypatch.setenv("LINLI_BACKUP_KEEP", "3")
    factory = app.extensions["linli"].session_factory
    result = run_job(factory, "backup", utcnow(), slot="2026-12-01T02:30:00+08:00")
    assert result["status"] == "done" and result["removed"] == 3, result
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == ["linli-20001104-023000.dump", "linli-20001105-023000.dump", result["file"], "notes.txt"]
    assert (folder / result["file"]).stat().st_size > 0
    again = run_job(factory, "backup", utcnow(), slot="2026-12-01T02:30:00+08:00")
    assert again == {"status": "already-run"}  # the slot ran: a second scheduler makes no second copy
    assert session.scalar(select(JobRun.summary).where(JobRun.job_name == "backup"))["file"] == result["file"]


def test_backup_command_with_keep(app, world, tmp_path, needs_tools):  # noqa: F811
    runner = app.test_cli_runner()
    for n in range(3):
        (tmp_path / f"linli-2000110{n + 1}-000000.dump").write_bytes(b"old")
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "linli-20261201-000000.dump"), "--keep", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linli-20001103-000000.dump", "linli-20261201-000000.dump"]
