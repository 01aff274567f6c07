"""The `linli` command: demo, database, seeding (jobs and reports add their own groups)."""
from __future__ import annotations

import sys
import time
from datetime import date

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from portal import migrate


def session_factory():
    return current_app.extensions["linli"].session_factory


def register_commands(app) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(ledger_group)
    app.cli.add_command(sender_command)
    from portal import compliance_cli

    compliance_cli.register(app)


@click.group("db", help="Database migrations (Alembic).")
def db_group():
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str):
    """Upgrade the database to REVISION (default: head)."""
    migrate.upgrade(current_app.config["LINLI_DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str):
    """Downgrade the database to REVISION."""
    migrate.downgrade(current_app.config["LINLI_DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


def _seed_demo_if_empty() -> bool:
    from portal.services.demo import is_empty, seed_demo

    with session_factory()() as session:
        if not is_empty(session):
            return False
        summary = seed_demo(session, date.today())
        session.commit()
    click.echo(f"demo data: {summary['elders']} elders in {summary['communities']} communities")
    return True


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Seed the demo district into an empty database."""
    if not _seed_demo_if_empty():
        click.echo("the database is not empty; demo data not added", err=True)
        sys.exit(1)


@click.command("seed")
@click.option("--elders", type=click.IntRange(1, 2_000_000), required=True, help="How many elders.")
@click.option("--seed", "random_seed", type=int, default=7, help="Random seed (same seed, same district).")
@with_appcontext
def seed_command(elders: int, random_seed: int):
    """Generate a synthetic district of N elders with bulk inserts."""
    from portal.services.synthetic import seed_district

    started = time.perf_counter()
    with session_factory()() as session:
        summary = seed_district(session, elders, date.today(), seed=random_seed)
        session.commit()
    seeded = time.perf_counter() - started
    engine = current_app.extensions["linli"].engine
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))  # fresh planner statistics for the new rows
    click.echo(f"{summary}")
    click.echo(f"seeded in {seeded:.1f} s ({engine.dialect.name}), "
               f"total with ANALYZE {time.perf_counter() - started:.1f} s")


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False), help="Where to write it (default: instance/backups/).")
@with_appcontext
def backup_command(output: str | None):
    """Back up the database (SQLite: online backup API; PostgreSQL: pg_dump -Fc)."""
    from pathlib import Path

    from portal.db import utcnow
    from portal.services.backup import BackupError, backup, default_backup_path

    url = current_app.config["LINLI_DATABASE_URL"]
    target = Path(output) if output else default_backup_path(url, utcnow(), Path(current_app.instance_path) / "backups")
    started = time.perf_counter()
    try:
        written = backup(url, target)
    except BackupError as error:
        click.echo(f"backup failed: {error}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {written} ({written.stat().st_size} bytes, {time.perf_counter() - started:.1f} s)")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm: everything in the database is replaced by the backup.")
@with_appcontext
def restore_command(path: str, yes: bool):
    """Replace the database with the backup in PATH. Stop the web workers and the scheduler first."""
    from pathlib import Path

    from portal.services.backup import BackupError, restore

    if not yes and not click.confirm("Every row in the database will be replaced by the backup. Continue?"):
        click.echo("nothing restored (pass --yes to confirm)", err=True)
        sys.exit(1)
    try:
        restore(current_app.config["LINLI_DATABASE_URL"], Path(path))
    except BackupError as error:
        click.echo(f"restore failed: {error}", err=True)
        sys.exit(1)
    click.echo(f"restored from {path}")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(host: str, port: int):
    """Create or upgrade the database, seed demo data when empty, and serve with dev tools on."""
    import os

    from portal import create_app

    settings = {"LINLI_DEV_TOOLS": True, "LINLI_DEMO": True, "LINLI_SENDER": "thread"}
    if not os.environ.get("LINLI_PUBLIC_URL"):
        settings["LINLI_PUBLIC_URL"] = f"http://{host}:{port}"
    app = create_app(settings)
    with app.app_context():
        migrate.upgrade(app.config["LINLI_DATABASE_URL"])
        _seed_demo_if_empty()
    from portal.channels.sender import start_sender_thread

    start_sender_thread(app)  # texts leave from a thread beside the server, never from a request
    click.echo(f"Linli demo: http://{host}:{port}/  (dev outbox: http://{host}:{port}/dev/outbox)")
    from werkzeug.serving import run_simple

    # Not app.run(): Flask ignores it inside a `flask`-style CLI command.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


@click.command("sender")
@click.option("--until-empty", is_flag=True, help="Stop when nothing is due (benchmarks, a one-off drain).")
@with_appcontext
def sender_command(until_empty: bool):
    """Send the outbox: emergency alerts and login codes first, at the provider's pace. Run one or more."""
    import signal

    from portal.channels.sender import sender_for

    sender = sender_for(current_app)
    signal.signal(signal.SIGTERM, lambda *_args: sender.stop.set())
    started = time.perf_counter()
    try:
        sent = sender.run(until_empty=until_empty)
    except KeyboardInterrupt:
        sent = sender.sent
    click.echo(f"sender stopped: {sent} messages tried in {time.perf_counter() - started:.1f} s")


@click.group("ledger", help="The time bank's ledger.")
def ledger_group():
    pass


@ledger_group.command("check")
@with_appcontext
def ledger_check():
    """Verify balances, cached balances, single credits per visit and the hash chain (exit 1 on findings)."""
    from portal.services.ledger_check import check_ledger

    started = time.perf_counter()
    with current_app.extensions["linli"].engine.connect() as connection:
        result = check_ledger(connection)
    click.echo(f"{result.summary()} ({time.perf_counter() - started:.1f} s)")
    if not result.ok:
        for finding in result.findings:
            click.echo(f"  {finding}")
        if result.finding_count > len(result.findings):
            click.echo(f"  … and {result.finding_count - len(result.findings)} more")
        sys.exit(1)


def main() -> None:
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app(), help="Linli (邻里) neighbourhood elder-care portal.")(
        prog_name="linli"
    )


if __name__ == "__main__":
    main()
