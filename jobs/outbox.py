"""The outbox sender: sends texts and calls that are due (new, retries, after quiet hours)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.channels import outbox


@job("send-outbox", "interval", description="Send the texts and calls that are due", seconds=5)
def send_outbox(session: Session, now: datetime) -> dict:
    """The runner hands the process's transport to the job through the session (`run_job(transport=)`)."""
    return {"attempted": outbox.send_due(session, session.info["transport"], now=now)}
