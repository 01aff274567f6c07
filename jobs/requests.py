"""Nobody answered: alert the worker about unaccepted requests, close the expired ones."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from jobs.registry import job
from portal.services import requests as service_requests


@job("requests.unaccepted", "interval", minutes=1)
def unaccepted_requests(session: Session, now: datetime) -> dict:
    """Tell the worker once about requests nobody accepted in time (emergencies after 5 minutes)."""
    alerted = service_requests.alert_unaccepted(session, now)
    session.commit()
    return {"alerted": alerted}


@job("requests.expire", "interval", minutes=5)
def expire_requests(session: Session, now: datetime) -> dict:
    """Close open requests whose time passed with nobody accepting, and tell the elder."""
    expired = service_requests.expire_unaccepted(session, now)
    session.commit()
    return {"expired": expired}
