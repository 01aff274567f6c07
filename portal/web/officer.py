"""Street and district officers: figures across their communities."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from portal.access import allow
from portal.models import Area, ElderProfile
from portal.services.scope import staff_area_ids, subtree_filter
from portal.web import db

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.route("/")
@allow("officer", "admin")
def home():
    session = db()
    rows = session.execute(
        select(Area.id, Area.name, ElderProfile.care_tier, func.count(ElderProfile.person_id))
        .join(ElderProfile, ElderProfile.community_id == Area.id)
        .where(Area.level == "community", subtree_filter(session, staff_area_ids(current_user)))
        .group_by(Area.id, Area.name, ElderProfile.care_tier)
        .order_by(Area.name)
    ).all()
    communities: dict[int, dict] = {}
    for area_id, name, tier, count in rows:
        entry = communities.setdefault(area_id, {"name": name, "total": 0})
        entry[tier] = count
        entry["total"] += count
    return render_template("officer/home.html", communities=list(communities.values()))
