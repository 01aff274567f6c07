"""The outbox sender: sends texts and calls that are due (new, retries, after quiet hours)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.channels import outbox


@job("send-outbox", "interval", description="Send the texts and calls that are due", seconds=5)
def send_outbox(session: Session, now: datetime) -> dict:
    """The runner hands the process's transport to the job through the session (`run_job(transport=)`).

    `linli scheduler` passes none: its sender thread sends (paced, woken at once), so this is a no-op
    there; `linli jobs run send-outbox` drains by hand."""
    transport = session.info.get("transport")
    if transport is None:
        return {"attempted": 0, "sent_by": "the sender"}
    return {"attempted": outbox.send_due(session, transport, now=now)}
