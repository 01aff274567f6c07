"""The `linli` command: demo, database, seeding, backups, admin, areas and people (jobs and reports
add their own groups). Over 400 lines because each command is a thin wrapper of its own; the
admin/areas/people group is the part to move to its own module next."""
from __future__ import annotations

import json
import os
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
    app.cli.add_command(admin_group)
    app.cli.add_command(areas_group)
    app.cli.add_command(people_group)
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


def _seed_demo_if_empty(history_years: int = 0) -> bool:
    from portal.services.demo import is_empty, seed_demo

    with session_factory()() as session:
        if not is_empty(session):
            return False
        summary = seed_demo(session, date.today(), history_years=history_years)
        session.commit()
    click.echo(f"demo data: {summary['elders']} elders in {summary['communities']} communities"
               + (f", {summary['visits']} past visits" if history_years else ""))
    return True


@click.command("seed-demo")
@click.option("--history-years", type=click.IntRange(0, 2), default=0,
              help="Also seed this many years of past visits, credits and closed months.")
@with_appcontext
def seed_demo_command(history_years: int):
    """Seed the demo district into an empty database."""
    if not _seed_demo_if_empty(history_years):
        click.echo("the database is not empty; demo data not added", err=True)
        sys.exit(1)


@click.command("seed")
@click.option("--elders", type=click.IntRange(1, 2_000_000), required=True, help="How many elders.")
@click.option("--seed", "random_seed", type=int, default=7, help="Random seed (same seed, same district).")
@with_appcontext
def seed_command(elders: int, random_seed: int):
    """Generate a synthetic district of N elders with bulk inserts."""
    from portal.services.synthetic import seed_district, sqlite_bulk_connection

    started = time.perf_counter()
    with session_factory()() as session, sqlite_bulk_connection(session):
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
@click.option("--keep", type=click.IntRange(1), help="Then delete all but the KEEP newest backups in that folder.")
@with_appcontext
def backup_command(output: str | None, keep: int | None):
    """Back up the database (SQLite: online backup API; PostgreSQL: pg_dump -Fc)."""
    from pathlib import Path

    from portal.db import utcnow
    from portal.services.backup import BackupError, backup, default_backup_path, prune_backups

    url = current_app.config["LINLI_DATABASE_URL"]
    target = Path(output) if output else default_backup_path(url, utcnow(), Path(current_app.instance_path) / "backups")
    started = time.perf_counter()
    try:
        written = backup(url, target)
        removed = prune_backups(written.parent, keep) if keep else []
    except BackupError as error:
        click.echo(f"backup failed: {error}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {written} ({written.stat().st_size} bytes, {time.perf_counter() - started:.1f} s)")
    for old in removed:
        click.echo(f"removed the older backup {old.name}")


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
        # a year of history: the officer's trend, the statements' months and "last visit" are not empty
        _seed_demo_if_empty(history_years=1)
    from portal.channels.sender import start_sender_thread

    start_sender_thread(app)  # texts leave from a thread beside the server, never from a request
    # The scheduler is its own process, as in production, never a thread of the web server.
    scheduler = start_demo_scheduler(app.config["LINLI_DATABASE_URL"])
    click.echo(f"Linli demo: http://{host}:{port}/  (dev outbox: http://{host}:{port}/dev/outbox)")
    click.echo(f"scheduler: `linli scheduler --without-sender` (process {scheduler.pid})")
    from werkzeug.serving import run_simple

    try:
        # Not app.run(): Flask ignores it inside a `flask`-style CLI command.
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
    finally:
        stop_demo_scheduler(scheduler)


def start_demo_scheduler(database_url: str):
    """Start `linli scheduler` beside the demo server, on the demo's database. It only queues: the
    demo's sender thread sends (two senders on SQLite could send a row twice)."""
    import subprocess

    env = dict(os.environ, LINLI_DATABASE_URL=database_url)
    command = [sys.executable, "-c", "from portal.cli import main; main()", "scheduler", "--without-sender"]
    return subprocess.Popen(command, env=env)


def stop_demo_scheduler(process) -> None:
    """Stop the demo's scheduler process when the demo stops (SIGTERM, then kill after 10 s)."""
    import subprocess

    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
@click.option("--against", "checkpoint", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A signed checkpoint file (`linli ledger checkpoint`): finds rewritten history and rollback.")
@click.option("--full", is_flag=True, help="Re-verify the whole chain from the first entry, not only what "
                                           "follows the last signed checkpoint.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes re-verifying the chain in parallel (default: the number of CPUs).")
@with_appcontext
def ledger_check(checkpoint, full, workers):
    """Verify balances, cached balances, single credits per visit and the keyed hash chain (exit 1 on
    findings). By default the chain is re-verified from the newest signed checkpoint the nightly job
    wrote (or the one given with --against) on, once that checkpoint is shown to still be in the
    ledger; --full re-verifies it from the first entry."""
    from portal.services.ledger_check import (
        check_against_checkpoint,
        check_ledger,
        checkpoint_dir,
        latest_checkpoint,
        read_checkpoint,
    )

    started = time.perf_counter()
    anchor, source = None, None
    if checkpoint:
        with open(checkpoint, encoding="utf-8") as handle:
            raw = handle.read()
        anchor, source = read_checkpoint(raw), checkpoint
    elif not full:
        anchor, source = latest_checkpoint(checkpoint_dir())
        raw = json.dumps(anchor) if anchor else None
    with current_app.extensions["linli"].engine.connect() as connection:
        problems = check_against_checkpoint(connection, raw) if source else []
        since = anchor if anchor and not problems and not full else None
        if not full and since is None:
            click.echo("no signed checkpoint to start from: the whole chain is re-verified")
        result = check_ledger(connection, since=since, workers=workers or os.cpu_count() or 1)
        for finding in problems:
            result.findings.append(finding)
            result.finding_count += 1
    click.echo(f"{result.summary()} ({time.perf_counter() - started:.1f} s)")
    if not result.ok:
        for finding in result.findings:
            click.echo(f"  {finding}")
        if result.finding_count > len(result.findings):
            click.echo(f"  … and {result.finding_count - len(result.findings)} more")
        sys.exit(1)


@ledger_group.command("checkpoint")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="Where to write the signed checkpoint (kept outside the database; archive it).")
@with_appcontext
def ledger_checkpoint(out):
    """Write the signed ledger head to a file (0600), for `linli ledger check --against`."""
    from portal.db import utcnow
    from portal.services.ledger_check import checkpoint_json, make_checkpoint

    with current_app.extensions["linli"].engine.connect() as connection:
        checkpoint = make_checkpoint(connection, utcnow())
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(checkpoint_json(checkpoint) + "\n")
    click.echo(f"checkpoint: entry {checkpoint['entry_id']} {checkpoint['hash'][:16]}… written to {out}")


@click.group("admin", help="Administrators of the installation.")
def admin_group():
    pass


@admin_group.command("create")
@click.option("--phone", required=True, help="The administrator's mobile number (they sign in with it).")
@click.option("--name", required=True, help="Their name.")
@click.option("--grant", "grant_existing", is_flag=True,
              help="The number is already registered: make that person an administrator too.")
@with_appcontext
def admin_create(phone: str, name: str, grant_existing: bool):
    """Create the first (or another) administrator; the password is asked for twice, never given as an option."""
    from portal.services import DomainError
    from portal.services.staff import create_admin

    # Asked for, never an option: an option would land in the shell history and in `ps`.
    password = click.prompt("Password (at least 10 characters)", hide_input=True, confirmation_prompt=True)
    from portal.i18n import force_locale

    # Messages of the domain are lazy strings: outside a request they need a locale; the commands speak English.
    with session_factory()() as session, force_locale("en"):
        try:
            person = create_admin(session, phone, name, password, grant_existing=grant_existing,
                                  region=current_app.config["LINLI_DEFAULT_REGION"])
        except DomainError as error:
            session.rollback()
            message = str(error.message)
            if error.field == "phone" and not grant_existing:
                message += " (--grant makes that person an administrator)"
            click.echo(f"admin not created: {message}", err=True)
            sys.exit(1)
        session.commit()
        click.echo(f"administrator {person.name} ({person.phone}) can sign in with a text code and the password")


@click.group("areas", help="The area tree: districts, streets, communities.")
def areas_group():
    pass


@areas_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print what would change and change nothing.")
@with_appcontext
def areas_import(path: str, dry_run: bool):
    """Create or update areas from a CSV or XLSX sheet (district, street, community[, grid, hotline, code])."""
    from pathlib import Path

    from portal.i18n import force_locale
    from portal.services import DomainError
    from portal.services.areas import AreaSheetError, import_areas
    from portal.services.sheets import read_sheet

    with session_factory()() as session, force_locale("en"):
        try:
            header, rows = read_sheet(Path(path).read_bytes(), path)
            changes = import_areas(session, header, rows)
        except AreaSheetError as error:
            session.rollback()
            click.echo(f"nothing imported: {len(error.problems)} problems", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
        except DomainError as error:
            session.rollback()
            click.echo(f"nothing imported: {error.message}", err=True)
            sys.exit(1)
        for change in changes:
            click.echo(str(change))
        if dry_run:
            session.rollback()
            click.echo(f"dry run: {len(changes)} changes would be made; nothing written")
        else:
            session.commit()
            click.echo(f"{len(changes)} changes" if changes else "no changes: the areas already match the sheet")


@click.group("people", help="Elders and volunteers in bulk.")
def people_group():
    pass


@people_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(["elders", "volunteers"]), default="elders", show_default=True)
@click.option("--community", "community_ref", required=True,
              help="Name or 统计用区划代码 of the community for rows without a community column.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and skip every row with a problem.")
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@with_appcontext
def people_import_command(path: str, kind: str, community_ref: str, skip_invalid: bool, dry_run: bool):
    """Import a 特殊困难老年人台账 or a volunteer roster (CSV or XLSX), as the pages do, for the whole installation.

    The columns are the ones remembered for the community (from the import page), else guessed from the headers.
    """
    from pathlib import Path

    from sqlalchemy import or_, select

    from portal.db import utcnow
    from portal.i18n import force_locale
    from portal.models import Area
    from portal.services import DomainError
    from portal.services.people_import import (
        ImportNotReady,
        apply_import,
        check_mapping,
        check_sheet,
        remember_mapping,
        remembered_mapping,
    )
    from portal.services.sheets import read_sheet

    config = current_app.config
    started = time.perf_counter()
    # The problems are for the people who keep the sheets: in Chinese.
    with session_factory()() as session, force_locale("zh_Hans"):
        community = session.scalar(select(Area).where(
            Area.level == "community", Area.retired_at.is_(None),
            or_(Area.name == community_ref, Area.code == community_ref)))
        if community is None:
            click.echo(f"no community named {community_ref!r}", err=True)
            sys.exit(1)
        try:
            header, rows = read_sheet(Path(path).read_bytes(), path)
        except DomainError as error:
            click.echo(f"nothing imported: {error.message}", err=True)
            sys.exit(1)
        mapping = remembered_mapping(session, community.id, kind, header)
        problems = check_mapping(kind, header, mapping)
        if problems:
            click.echo("nothing imported: " + "; ".join(str(p) for p in problems), err=True)
            sys.exit(1)
        click.echo("columns: " + ", ".join(f"{key}={title}" for key, title in mapping.items()))
        checks = check_sheet(session, None, kind, header, rows, mapping, community.id, utcnow().date(),
                             config.get("LINLI_ID_NUMBER_KEY") or config["SECRET_KEY"], config["LINLI_DEFAULT_REGION"])
        bad = [row for row in checks if row.problems]
        for row in bad:
            click.echo(f"row {row.number} {row.name}: " + "；".join(str(p) for p in row.problems))
        if dry_run:
            session.rollback()
            counts = {a: sum(1 for c in checks if c.action == a) for a in ("create", "update", "unchanged")}
            click.echo(f"dry run: {counts}, {len(bad)} rows with problems; nothing written")
            return
        try:
            report = apply_import(session, None, kind, checks, {r.number for r in bad} if skip_invalid else set(),
                                  utcnow().date(), config["LINLI_DEFAULT_REGION"])
        except ImportNotReady as error:
            session.rollback()
            click.echo(f"nothing imported: {error.message}", err=True)
            sys.exit(1)
        remember_mapping(session, community.id, kind, mapping)
        session.commit()
    click.echo(f"{report} in {time.perf_counter() - started:.1f} s")


def main() -> None:
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app(), help="Linli (邻里) neighbourhood elder-care portal.")(
        prog_name="linli"
    )


if __name__ == "__main__":
    main()
