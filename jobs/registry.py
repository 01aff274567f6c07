"""The job registry: every scheduled job is a function registered here with its schedule.

A job is `fn(session, now) -> dict | None` (a summary for logs). It must be idempotent: run
twice, or late after downtime, it leaves the same result. The scheduler (`linli scheduler`) and
`linli jobs run NAME --at ISO-DATETIME` both call jobs through this registry.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

JobFn = Callable[[Session, datetime], "dict | None"]

# Modules that define jobs; each part of the product adds its own here.
JOB_MODULES: list[str] = ["jobs.outbox", "jobs.requests", "jobs.compliance", "jobs.backup", "jobs.ledger",
                         "jobs.housekeeping", "jobs.checkins"]


@dataclass
class Job:
    name: str
    fn: JobFn
    trigger: str                      # "interval" or "cron" (APScheduler trigger names)
    trigger_args: dict = field(default_factory=dict)
    description: str = ""


JOBS: dict[str, Job] = {}


def job(name: str, trigger: str, description: str = "", **trigger_args):
    """Register `fn` as the job `name` with an APScheduler trigger (e.g. trigger="cron", hour=2)."""

    def register(fn: JobFn) -> JobFn:
        JOBS[name] = Job(name, fn, trigger, trigger_args, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return register


def load_jobs() -> dict[str, Job]:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return JOBS
