"""`linli scheduler`, `linli jobs list|run` and `linli report visits`."""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.db import utcnow


def _state():
    return current_app.extensions["linli"]


def register(app) -> None:
    app.cli.add_command(jobs_group)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(report_group)


@click.group("jobs", help="Scheduled jobs: list them or run one as if at a given moment.")
def jobs_group():
    pass


@jobs_group.command("list")
@with_appcontext
def jobs_list():
    """List every registered job and its schedule."""
    from jobs.registry import load_jobs

    for name, job in sorted(load_jobs().items()):
        schedule = " ".join(f"{k}={v}" for k, v in job.trigger_args.items())
        click.echo(f"{name:20} {job.trigger} {schedule}  {job.description}")


def parse_moment(value: str, tz: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date and time, e.g. 2026-11-10T09:30") from None
    if moment.tzinfo is None:  # a wall-clock time where the people are
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(ZoneInfo("UTC"))


@jobs_group.command("run")
@click.argument("name")
@click.option("--at", "at", default=None, help="Run as if at this ISO date-time (local time unless it has an offset).")
@with_appcontext
def jobs_run(name: str, at: str | None):
    """Run one job now, or as if at --at."""
    from jobs.registry import load_jobs
    from jobs.runner import run_job

    if name not in load_jobs():
        raise click.BadParameter(f"no job named {name!r}; see `linli jobs list`", param_hint="NAME")
    now = parse_moment(at, current_app.config["LINLI_TIMEZONE"]) if at else utcnow()
    result = run_job(_state().session_factory, name, now, transport=_state().transport)
    click.echo(f"{name} as of {now.isoformat()}: {result}")


@click.command("scheduler")
@click.option("--without-sender", is_flag=True, help="Only queue; `linli sender` processes send.")
@with_appcontext
def scheduler_command(without_sender: bool):
    """Run the scheduler as its own process (APScheduler, blocking), with a sender thread."""
    from jobs.runner import build_scheduler, catch_up
    from portal.channels.sender import start_sender_thread

    state = _state()
    if not without_sender:
        # Jobs only queue; this thread sends, lane by lane and at the provider's pace, woken by NOTIFY.
        start_sender_thread(current_app)
    caught = catch_up(state.session_factory, utcnow(), transport=None)
    for name, result in caught.items():
        click.echo(f"caught up {name}: {result}")
    scheduler = build_scheduler(state.session_factory, None, current_app.config["LINLI_TIMEZONE"])
    click.echo("scheduler running; Ctrl-C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@click.group("report", help="Reports.")
def report_group():
    pass


@report_group.command("visits")
@click.option("--period", default=None, help="The month, YYYY-MM (default: this month).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (CSV goes to the screen without it).")
@with_appcontext
def report_visits(period: str | None, fmt: str, output: str | None):
    """Visit completion per community for a month."""
    from sqlalchemy import select

    from portal.models import Area
    from portal.services import DomainError, audit
    from portal.services.compliance import current_month
    from portal.services.visit_reports import build_report, report_filename

    now = utcnow()
    period = period or current_month(now)
    with _state().session_factory() as session:
        community_ids = list(session.scalars(select(Area.id).where(Area.level == "community")))
        from portal.i18n import force_locale

        with force_locale("zh_Hans"):  # outside a request: the reports' language
            try:
                data = build_report(session, period, community_ids, fmt, now)
            except DomainError as error:
                click.echo(f"Error: {error.message}", err=True)
                sys.exit(2)
        audit.record(session, None, "export", "visit_report", period, format=fmt, via="cli")
        session.commit()
    if output:
        Path(output).write_bytes(data)
        click.echo(f"wrote {output}")
    elif fmt == "csv":
        click.echo(data.decode("utf-8-sig"), nl=False)
    else:
        target = Path(report_filename(period, fmt))
        target.write_bytes(data)
        click.echo(f"wrote {target}")
