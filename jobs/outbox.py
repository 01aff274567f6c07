"""The outbox sender: sends texts and calls that are due (new, retries, after quiet hours)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.channels import outbox

_transport = None


def transport():
    """The app's transport inside an app context (the scheduler runs in one), else one from the env."""
    global _transport
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["linli"].transport
    if _transport is None:
        from pathlib import Path

        from portal.channels.transport import make_transport
        from portal.config import load_config

        _transport = make_transport(load_config(Path("instance")))
    return _transport


@job("send-outbox", "interval", description="Send the texts and calls that are due", seconds=5)
def send_outbox(session: Session, now: datetime) -> dict:
    return {"attempted": outbox.send_due(session, transport(), now=now)}
