"""Volunteers: profile and paired elders."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.models import ElderProfile, Pairing, VolunteerProfile
from portal.web import db

bp = Blueprint("volunteer", __name__, url_prefix="/volunteer")


@bp.route("/")
@allow("volunteer")
def home():
    profile = db().get(VolunteerProfile, current_user.id)
    if profile is None:
        abort(404)
    paired = db().scalars(
        select(ElderProfile)
        .join(Pairing, Pairing.elder_id == ElderProfile.person_id)
        .where(Pairing.volunteer_id == current_user.id, Pairing.active)
    ).all()
    return render_template("volunteer/home.html", profile=profile, paired=paired)
