"""Community workers: requests in their area, direct assignment, emergency alerts."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import ServiceRequest, VolunteerProfile
from portal.services import DomainError, emergencies
from portal.services import requests as service_requests
from portal.services.scope import staff_community_ids
from portal.web import commit, db, governed_or_404
from portal.web.forms import AssignForm, EmergencyComingForm, EmergencyOutcomeForm, select_choices
from portal.web.names import person_choices

bp = Blueprint("worker_requests", __name__, url_prefix="/worker/requests")


@bp.app_context_processor
def _alerts():
    def open_emergency_alerts():
        if not current_user.is_authenticated or not current_user.has_role("worker"):
            return []
        return emergencies.open_for(db(), staff_community_ids(db(), current_user))

    return {"open_emergency_alerts": open_emergency_alerts}


def _in_scope(reference: str) -> ServiceRequest:
    return governed_or_404(service_requests.by_reference(db(), reference))


def _assign_form(**kwargs) -> AssignForm:
    """Assignment offers (and accepts) the verified, active volunteers of the worker's communities."""
    volunteers = db().scalars(select(VolunteerProfile).where(
        VolunteerProfile.community_id.in_(staff_community_ids(db(), current_user)), VolunteerProfile.active,
        VolunteerProfile.verified_at.is_not(None))).all()
    form = AssignForm(**kwargs)
    form.volunteer_id.choices = select_choices(person_choices(volunteers))
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
    """"I am handling it": the worker is the one on the way until they name someone else."""
    found = _in_scope(reference)
    try:
        emergencies.someone_coming(db(), found, current_user, utcnow())
    except DomainError as problem:
        db().rollback()
        flash(str(problem.message))
    else:
        commit()
        flash(_("Thank you. The elder is told that you are on the way."))
    return redirect(url_for("worker_requests.emergency", reference=reference), code=303)


def _coming_form(**kwargs) -> EmergencyComingForm:
    volunteers = db().scalars(select(VolunteerProfile).where(
        VolunteerProfile.community_id.in_(staff_community_ids(db(), current_user)), VolunteerProfile.active)).all()
    form = EmergencyComingForm(**kwargs)
    form.responder_id.choices = select_choices(
        [(0, _("Me (%(name)s)", name=current_user.name))] + [(v.person_id, v.person.name) for v in volunteers])
    return form


def _outcome_form(**kwargs) -> EmergencyOutcomeForm:
    from portal.labels import EMERGENCY_OUTCOME_LABELS

    form = EmergencyOutcomeForm(**kwargs)
    form.outcome.choices = select_choices(EMERGENCY_OUTCOME_LABELS.items())
    return form


def _emergency_page(found: ServiceRequest, coming: EmergencyComingForm, outcome: EmergencyOutcomeForm):
    return render_template("worker/emergency.html", req=found, emergency=emergencies.state_of(db(), found),
                           coming_form=coming, outcome_form=outcome)


@bp.route("/<reference>/emergency")
@allow("worker")
def emergency(reference: str):
    """An emergency as the worker handles it: who is going, then what happened."""
    found = _in_scope(reference)
    if found.service != "emergency":
        return redirect(url_for("requests.status", reference=reference), code=303)
    page = _emergency_page(found, _coming_form(formdata=None), _outcome_form(formdata=None))
    commit()  # a state row created for an older alarm is kept
    return page


@bp.route("/<reference>/emergency/coming", methods=["POST"])
@allow("worker")
def emergency_coming(reference: str):
    found = _in_scope(reference)
    form = _coming_form()
    if not form.validate_on_submit():
        return _emergency_page(found, form, _outcome_form(formdata=None))
    chosen = form.responder_id.data or 0
    responder = None
    if chosen:
        profile = db().get(VolunteerProfile, chosen)
        responder = profile.person if profile is not None else None
    typed = (form.responder_name.data or "").strip() or None
    try:
        emergencies.someone_coming(db(), found, current_user, utcnow(),
                                   responder=responder if not typed else None, responder_name=typed)
    except DomainError as problem:
        db().rollback()
        form.form_errors.append(str(problem.message))
        return _emergency_page(found, form, _outcome_form(formdata=None))
    commit()
    flash(_("Saved. The elder and everyone alerted are told who is on the way."))
    return redirect(url_for("worker_requests.emergency", reference=reference), code=303)


@bp.route("/<reference>/emergency/resolve", methods=["POST"])
@allow("worker")
def emergency_resolve(reference: str):
    found = _in_scope(reference)
    form = _outcome_form()
    if not form.validate_on_submit():
        return _emergency_page(found, _coming_form(formdata=None), form)
    try:
        emergencies.resolve(db(), found, current_user, form.outcome.data, utcnow())
    except DomainError as problem:
        db().rollback()
        form.form_errors.append(str(problem.message))
        return _emergency_page(found, _coming_form(formdata=None), form)
    commit()
    flash(_("The emergency is closed."))
    return redirect(url_for("worker_requests.emergency", reference=reference), code=303)
