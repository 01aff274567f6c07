"""Volunteers: the feed of open requests, accept / decline, start, finish."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import VolunteerProfile
from portal.services import DomainError
from portal.services import requests as service_requests
from portal.web import commit, db

bp = Blueprint("volunteer_requests", __name__, url_prefix="/volunteer/requests")


def _profile() -> VolunteerProfile:
    profile = db().get(VolunteerProfile, current_user.id)
    if profile is None or not profile.active or profile.verified_at is None:
        abort(404)
    return profile


@bp.route("/")
@allow("volunteer")
def feed():
    profile = _profile()
    return render_template("volunteer/requests.html", feed=service_requests.feed(db(), profile),
                           tasks=service_requests.my_tasks(db(), current_user.id))


def _act(reference: str, action, done_message: str):
    profile = _profile()
    found = service_requests.by_reference(db(), reference)
    # Outside the volunteer's reach answers exactly like a reference that does not exist.
    if found is None or not service_requests.within_reach(db(), profile, found):
        abort(404)
    try:
        action(profile, found)
    except DomainError as problem:
        db().rollback()
        flash(str(problem.message))
    else:
        commit()
        flash(done_message)
    return redirect(url_for("volunteer_requests.feed"), code=303)


@bp.route("/<reference>/accept", methods=["POST"])
@allow("volunteer")
def accept(reference: str):
    return _act(reference, lambda p, r: service_requests.accept(db(), r.id, current_user, utcnow()),
                _("Thank you! The elder has been told that you are coming."))


@bp.route("/<reference>/decline", methods=["POST"])
@allow("volunteer")
def decline(reference: str):
    return _act(reference, lambda p, r: service_requests.decline(db(), r, current_user, utcnow()),
                _("All right. We will not remind you about this request."))


@bp.route("/<reference>/start", methods=["POST"])
@allow("volunteer")
def start(reference: str):
    return _act(reference, lambda p, r: service_requests.start(db(), r, current_user, utcnow()), _("Started."))


@bp.route("/<reference>/finish", methods=["POST"])
@allow("volunteer")
def finish(reference: str):
    return _act(reference, lambda p, r: service_requests.finish(db(), r, current_user, utcnow()),
                _("Finished. The elder will be asked to confirm."))
