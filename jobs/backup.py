"""The nightly backup, with retention: `linli backup` run by the scheduler."""
from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.resources import WORKING_COPY
from portal.services.backup import BackupError, backend, backup_with_retention

log = logging.getLogger("linli.jobs")


def backup_folder() -> Path:
    """LINLI_BACKUP_DIR, else the instance folder's backups/ (where `linli backup` writes by default)."""
    if os.environ.get("LINLI_BACKUP_DIR"):
        return Path(os.environ["LINLI_BACKUP_DIR"])
    return Path(os.environ.get("LINLI_INSTANCE_PATH") or WORKING_COPY / "instance") / "backups"


def backups_to_keep() -> int:
    return max(1, int(os.environ.get("LINLI_BACKUP_KEEP", "14")))


@job("backup", "cron", hour=2, minute=30)
def nightly_backup(session: Session, now: datetime) -> dict:
    """Back up the database into the backup folder and keep the newest LINLI_BACKUP_KEEP (default 14)."""
    bind = session.get_bind()
    engine_url = getattr(bind, "engine", bind).url  # a session may be bound to a connection
    url = engine_url.render_as_string(hide_password=False)
    if backend(url) == "sqlite" and engine_url.database in (None, "", ":memory:"):
        return {"skipped": "in-memory database"}
    try:
        written, removed = backup_with_retention(url, backup_folder(), now, backups_to_keep())
    except BackupError as error:
        # Logged as an error for the alerts; raising would stop the scheduler's catch-up at start.
        log.error("backup failed: %s", error)
        return {"failed": str(error)}
    return {"file": written.name, "bytes": written.stat().st_size, "removed": len(removed)}
