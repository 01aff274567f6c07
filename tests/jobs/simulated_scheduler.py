"""A `linli scheduler` over simulated time, for tests/jobs/test_two_schedulers.py (run as a process).

    python -m tests.jobs.simulated_scheduler DATABASE_URL START_ISO HOURS PROGRESS_FILE

Each simulated hour it does what the scheduler's jobs and its minute-by-minute catch-up do: every
job whose latest slot has not run, runs now (through jobs.runner, with its locks and unique slots).
A slot another runner held ("locked") is tried again at the next tick, as the catch-up would.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path


def main() -> None:
    url, start, hours, progress = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    from jobs.registry import load_jobs
    from jobs.runner import beat, run_job, slot_for
    from portal.channels.transport import ConsoleTransport
    from portal.db import make_engine, make_session_factory

    factory = make_session_factory(make_engine(url))
    transport = ConsoleTransport()
    jobs = load_jobs()
    pending: set[tuple[str, str, datetime]] = set()
    for hour in range(hours + 1):
        now = start + timedelta(hours=hour)
        wanted = {(name, slot_for(job, now), now) for name, job in jobs.items()} | pending
        pending = set()
        for name, slot, as_of in sorted(wanted, key=lambda item: (item[2], item[0])):
            if slot is None:
                continue
            result = run_job(factory, name, as_of, slot=slot, transport=transport)
            if result["status"] == "locked":
                pending.add((name, slot, as_of))
        beat(factory, now)
        progress.write_text(str(hour))
        time.sleep(0.02)  # both runners are alive at the same time for most of the week
    progress.write_text("done")


if __name__ == "__main__":
    main()
