"""Street and district officers: figures across their communities."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal.access import allow
from portal.db import utcnow
from portal.services import compliance
from portal.services.scope import staff_community_ids
from portal.web import db

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.route("/")
@allow("officer", "admin")
def home():
    session = db()
    # counted by the hourly job (or live when it has not run lately), for the officer's communities only
    communities, counted_at = compliance.tier_counts(session, staff_community_ids(session, current_user), utcnow())
    return render_template("officer/home.html", communities=communities, counted_at=counted_at)
