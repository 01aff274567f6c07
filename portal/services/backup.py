"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump / pg_restore (custom format)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def default_backup_path(url: str, now: datetime, folder: Path) -> Path:
    suffix = "sqlite3" if backend(url) == "sqlite" else "dump"
    return folder / f"linli-{now:%Y%m%d-%H%M%S}.{suffix}"


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return database


def _pg_env_and_dsn(url: str) -> tuple[dict, str]:
    """A libpq connection string without the password (which goes to PGPASSWORD, not the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return env, dsn


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found; install the PostgreSQL client tools")
    return found


def _create_private(path: Path) -> None:
    """An empty file only its owner can read (a backup holds every elder's address and phone)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)


def backup(url: str, output: Path) -> Path:
    """Write a consistent copy of the database at `url` to `output` while it stays in use."""
    output = Path(output)
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if backend(url) == "sqlite":
        partial = output.with_name(output.name + ".partial")
        _create_private(partial)
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(partial)
        try:
            with target:
                source.backup(target)  # pages copied under SQLite's own locking: a consistent snapshot
        finally:
            target.close()
            source.close()
        partial.replace(output)
        return output
    if backend(url) == "postgresql":
        env, dsn = _pg_env_and_dsn(url)
        _create_private(output)  # pg_dump writes into the file as it finds it: 0600
        result = subprocess.run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={output}", dsn],
            env=env, capture_output=True, text=True,
        )
        if result.returncode != 0:
            output.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return output
    raise BackupError(f"backups of {backend(url)} databases are not supported")


def restore(url: str, source: Path) -> None:
    """Replace the database at `url` with the backup in `source` (everything in it is overwritten)."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if backend(url) == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not a SQLite backup: {error}") from None
        target = sqlite3.connect(_sqlite_path(url))
        try:
            backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
        return
    if backend(url) == "postgresql":
        env, dsn = _pg_env_and_dsn(url)
        result = subprocess.run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
             "--single-transaction", "--exit-on-error", f"--dbname={dsn}", str(source)],
            env=env, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed (nothing was changed): {result.stderr.strip()}")
        return
    raise BackupError(f"restoring {backend(url)} databases is not supported")


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups made by `linli backup` in `folder`; returns the deleted files."""
    if keep < 1:
        raise BackupError("keep at least one backup")
    made = sorted((p for p in Path(folder).glob("linli-*") if p.suffix in (".dump", ".sqlite3")),
                  key=lambda p: p.name, reverse=True)  # the names carry the time: newest first
    for old in made[keep:]:
        old.unlink()
    return made[keep:]


def backup_with_retention(url: str, folder: Path, now: datetime, keep: int) -> tuple[Path, list[Path]]:
    """A new backup in `folder`, then the oldest beyond `keep` removed (never the new one)."""
    written = backup(url, default_backup_path(url, now, Path(folder)))
    return written, prune_backups(folder, keep)
