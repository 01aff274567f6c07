"""Community workers: requests in their area, direct assignment, emergency alerts."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import ServiceRequest, VolunteerProfile
from portal.services import DomainError
from portal.services import requests as service_requests
from portal.services.scope import staff_community_ids
from portal.web import commit, db, governed_or_404
from portal.web.forms import AssignForm, select_choices

bp = Blueprint("worker_requests", __name__, url_prefix="/worker/requests")


@bp.app_context_processor
def _alerts():
    def open_emergency_alerts():
        if not current_user.is_authenticated or not current_user.has_role("worker"):
            return []
        return service_requests.open_emergencies(db(), staff_community_ids(db(), current_user))

    return {"open_emergency_alerts": open_emergency_alerts}


def _in_scope(reference: str) -> ServiceRequest:
    return governed_or_404(service_requests.by_reference(db(), reference))


def _assign_form(**kwargs) -> AssignForm:
    """Assignment offers (and accepts) the verified, active volunteers of the worker's communities."""
    volunteers = db().scalars(select(VolunteerProfile).where(
        VolunteerProfile.community_id.in_(staff_community_ids(db(), current_user)), VolunteerProfile.active,
        VolunteerProfile.verified_at.is_not(None))).all()
    form = AssignForm(**kwargs)
    form.volunteer_id.choices = select_choices((v.person_id, v.person.name) for v in volunteers)
    return form


@bp.route("/")
@allow("worker")
def index():
    return _index_page(_assign_form(formdata=None))


def _index_page(form: AssignForm):
    rows = db().scalars(select(ServiceRequest)
                        .where(ServiceRequest.community_id.in_(staff_community_ids(db(), current_user)))
                        .order_by(ServiceRequest.created_at.desc()).limit(200)).all()
    return render_template("worker/requests.html", rows=rows, form=form)


@bp.route("/<reference>/assign", methods=["POST"])
@allow("worker")
def assign(reference: str):
    found = _in_scope(reference)
    form = _assign_form()
    if not form.validate_on_submit():
        return _index_page(form)
    volunteer = db().get(VolunteerProfile, form.volunteer_id.data)
    try:
        service_requests.accept(db(), found.id, volunteer.person, utcnow(), by=current_user)
    except DomainError as problem:
        db().rollback()
        flash(str(problem.message))
    else:
        commit()
        flash(_("%(name)s has been given the request.", name=volunteer.person.name))
    return redirect(url_for("worker_requests.index"), code=303)


@bp.route("/<reference>/acknowledge", methods=["POST"])
@allow("worker")
def acknowledge(reference: str):
    found = _in_scope(reference)
    service_requests.acknowledge(db(), found, current_user, utcnow())
    commit()
    flash(_("Thank you. The alert is marked as being handled."))
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("worker.home"), code=303)
