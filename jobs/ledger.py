"""Each night the signed ledger head goes to a file outside the database, for the operator to archive
(`linli ledger check --against FILE` later finds rewritten history and a restored old backup)."""
from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.clock import local_tz
from portal.services.ledger_check import checkpoint_dir, checkpoint_json, make_checkpoint


@job("ledger.checkpoint", "cron", hour=1, minute=30)
def ledger_checkpoint(session: Session, now: datetime) -> dict:
    """Write the day's signed checkpoint (0600); a rerun the same day rewrites the same file."""
    checkpoint = make_checkpoint(session.connection(), now)
    folder = checkpoint_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"ledger-{now.astimezone(local_tz()):%Y-%m-%d}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(checkpoint_json(checkpoint) + "\n")
    return {"entry_id": checkpoint["entry_id"], "file": str(path)}
