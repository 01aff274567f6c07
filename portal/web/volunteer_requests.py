"""Volunteers: the feed of open requests, accept / decline, start, finish."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.access import allow
from portal.clock import local_tz
from portal.conversation import engine
from portal.conversation.flows import REQUEST_FLOW
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area, ElderProfile, ServiceRequest, VolunteerProfile
from portal.services import DomainError
from portal.services import requests as service_requests
from portal.web import commit, db

bp = Blueprint("volunteer_requests", __name__, url_prefix="/volunteer/requests")


def _profile() -> VolunteerProfile:
    profile = db().get(VolunteerProfile, current_user.id)
    if profile is None or not profile.active or profile.verified_at is None:
        abort(404)
    return profile


ADDRESS_KEPT = timedelta(days=1)


def _answers(request: ServiceRequest) -> list[tuple[str, str]]:
    """What the elder answered (meal type, diet, destination, the way back …), as she reads it back."""
    data = {**(request.details or {}), "service": request.service}
    if request.scheduled_at is not None:
        data["date"] = request.scheduled_at.astimezone(local_tz()).date().isoformat()
    try:
        rows = engine.summary(engine.FLOWS[REQUEST_FLOW], data)
    except (KeyError, ValueError):
        return []
    return [(label, answer) for step, label, answer in rows if step not in ("service", "date") and answer]


@bp.route("/")
@allow("volunteer")
def feed():
    """Before accepting: where (community, street, how near) and what is asked, and when. After:
    the address, the elder's phone, the worker's notes for visitors and every answer; the address
    and phone go from her view a day after the visit."""
    profile = _profile()
    now = utcnow()
    offers = service_requests.feed(db(), profile)
    tasks = service_requests.my_tasks(db(), current_user.id)
    everything = [r for r, _near in offers] + tasks
    # the communities and their streets in one query; the elders' profiles only for her tasks
    areas, streets = {}, {}
    if everything:
        street = aliased(Area)
        for area, street_id, street_name in db().execute(
                select(Area, street.id, street.name).outerjoin(street, street.id == Area.parent_id)
                .where(Area.id.in_({r.community_id for r in everything}))):
            areas[area.id] = area
            if street_id is not None:
                streets[street_id] = street_name
    elders = {e.person_id: e for e in db().scalars(select(ElderProfile).where(
        ElderProfile.person_id.in_({r.elder_id for r in tasks})))} if tasks else {}
    shown = {r.id for r in tasks if r.status in ("accepted", "in_progress")
             or r.done_at is not None and now - r.done_at < ADDRESS_KEPT}
    return render_template("volunteer/requests.html", feed=offers, tasks=tasks, areas=areas, streets=streets,
                           elders=elders, shown=shown, answers={r.id: _answers(r) for r in everything})


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
