"""Visits on the web: the door card's QR link, check-in by code, check-out, the elder's answer, the call."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import Visit
from portal.policy import policy
from portal.services import DomainError, visit_records
from portal.services import visits as visit_service
from portal.web import commit, db
from portal.web.forms import (
    CheckInForm,
    CheckOutForm,
    DecisionForm,
    ElderAnswerForm,
    VisitRecordForm,
    select_choices,
    show_error,
)

bp = Blueprint("visits", __name__)


def flag_labels() -> dict:
    return {"fell": _("Had a fall"), "unwell": _("Seems unwell"), "no_food": _("No food at home"),
            "needs_follow_up": _("Needs a follow-up")}


def _limiter():
    return current_app.extensions["linli"].limiter


def _public_url() -> str:
    return current_app.config["LINLI_PUBLIC_URL"]


@bp.route("/volunteer/visits/")
@allow("volunteer")
def index():
    return _index_page(CheckInForm(formdata=None))


def _index_page(form: CheckInForm):
    session = db()
    current = visit_service.open_visit_for(session, current_user.id)
    recent = session.scalars(select(Visit).where(Visit.volunteer_id == current_user.id)
                             .order_by(Visit.checked_in_at.desc()).limit(20)).all()
    return render_template("visits/index.html", current=current, recent=recent, flags=flag_labels(), form=form)


@bp.route("/volunteer/visits/check-in", methods=["POST"])
@allow("volunteer")
def check_in():
    session = db()
    now = utcnow()
    form = CheckInForm()
    if not form.validate_on_submit():
        return _index_page(form)
    try:
        elder = visit_service.elder_from_code(session, _limiter(), current_user.id, form.code.data, now)
        visit_service.check_in(session, current_user, elder, "door_code", now)
    except DomainError as error:
        session.rollback()
        show_error(form, error, "code")
        return _index_page(form)
    commit()
    flash(_("You are checked in with %(name)s.", name=elder.person.name))
    return redirect(url_for("visits.index"), code=303)


@bp.route("/d/<token>", methods=["GET", "POST"])
@allow("volunteer")
def door(token: str):
    """The door card's QR code: check in, or check out when already checked in with this elder."""
    session = db()
    form = DecisionForm()
    try:
        elder = visit_service.elder_from_token(session, current_app.config["SECRET_KEY"], token, current_user.id)
    except DomainError as error:
        show_error(form, error)
        return render_template("visits/door.html", form=form, elder=None, current=None), 404
    current = visit_service.open_visit_for(session, current_user.id)
    if current is not None and current.elder_id == elder.person_id:
        return redirect(url_for("visits.check_out", visit_id=current.id, token=token), code=303)
    if form.validate_on_submit():
        try:
            visit_service.check_in(session, current_user, elder, "door_qr", utcnow())
        except DomainError as error:
            session.rollback()
            show_error(form, error)
            return render_template("visits/door.html", form=form, elder=elder, current=current, token=token)
        commit()
        flash(_("You are checked in with %(name)s.", name=elder.person.name))
        return redirect(url_for("visits.index"), code=303)
    return render_template("visits/door.html", form=form, elder=elder, current=current, token=token)


def _own_visit(visit_id: int) -> Visit:
    """The signed-in volunteer's own visit, else 404."""
    visit = db().get(Visit, visit_id)
    if visit is None or visit.volunteer_id != current_user.id:
        abort(404)
    return visit


def _check_out_form() -> CheckOutForm:
    form = CheckOutForm()
    form.flags.choices = select_choices(flag_labels().items())
    return form


@bp.route("/volunteer/visits/<int:visit_id>/check-out", methods=["GET", "POST"])
@allow("volunteer")
def check_out(visit_id: int):
    session = db()
    visit = _own_visit(visit_id)
    form = _check_out_form()
    if request.method == "GET":
        form.token.data = request.args.get("token") or ""
        return render_template("visits/check_out.html", visit=visit, form=form)
    if not form.validate_on_submit():
        return render_template("visits/check_out.html", visit=visit, form=form)
    now = utcnow()
    try:
        if form.token.data:
            elder = visit_service.elder_from_token(session, current_app.config["SECRET_KEY"], form.token.data,
                                                       current_user.id)
            method = "door_qr"
        else:
            elder = visit_service.elder_from_code(session, _limiter(), current_user.id, form.code.data, now)
            method = "door_code"
        if elder.person_id != visit.elder_id:
            raise visit_service.VisitError(_("This is the door card of another elder."))
        visit_service.check_out(session, visit, current_user, now, method, form.notes.data, form.flags.data,
                                public_url=_public_url())
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return render_template("visits/check_out.html", visit=session.get(Visit, visit_id), form=form)
    commit()
    flash(_("Checked out: %(minutes)s minutes. We will ask %(name)s to confirm.",
            minutes=visit.duration_minutes, name=visit.elder.name))
    # the 探访记录 comes next, while she still remembers what she saw
    return redirect(url_for("visits.record", visit_id=visit.id), code=303)


@bp.route("/volunteer/visits/<int:visit_id>/record", methods=["GET", "POST"])
@allow("volunteer")
def record(visit_id: int):
    """The visit record after check-out: a tap per heading; risky answers become the worker's tasks."""
    session = db()
    visit = _own_visit(visit_id)
    form = VisitRecordForm()
    if form.validate_on_submit():
        answers = {heading.key: form[heading.key].data for heading in visit_records.HEADINGS}
        try:
            visit_records.record_visit(session, visit, answers, current_user.id, "web", utcnow())
        except DomainError as error:
            session.rollback()
            show_error(form, error)
        else:
            commit()
            risky = [h for h in visit_records.HEADINGS if visit_records.is_risky(h.key, answers[h.key])]
            flash(_("Thank you. The visit record is saved.") + (
                " " + _("The community worker will follow up: %(what)s.",
                        what="、".join(str(h.risky[answers[h.key]][0]) for h in risky)) if risky else ""))
            return redirect(url_for("visits.index"), code=303)
    return render_template("visits/record.html", visit=visit, form=form, headings=visit_records.HEADINGS)


# ---------------------------------------------------------------- the elder's answer on the web

@bp.route("/elder/visits/")
@allow("elder")
def elder_confirm():
    waiting = visit_service.awaiting_confirmation(db(), current_user.id)
    return render_template("visits/elder_confirm.html", visit=waiting[0] if waiting else None,
                           form=ElderAnswerForm(formdata=None))


@bp.route("/elder/visits/<int:visit_id>", methods=["POST"])
@allow("elder")
def elder_answer(visit_id: int):
    session = db()
    visit = session.get(Visit, visit_id)
    if visit is None or visit.elder_id != current_user.id:
        abort(404)
    form = ElderAnswerForm()
    if not form.validate_on_submit():
        return render_template("visits/elder_confirm.html", visit=visit, form=form)
    try:
        if form.answer.data == "yes":
            visit_service.confirm_by_elder(session, visit, current_user, "web", utcnow())
            message = _("Thank you. The visit by %(name)s is confirmed.", name=visit.volunteer.name)
        else:
            visit_service.dispute_by_elder(session, visit, current_user, "web", utcnow())
            message = _("Thank you for telling us. The community worker will call you.")
    except DomainError as error:
        session.rollback()
        flash(str(error.message))
        return redirect(url_for("visits.elder_confirm"), code=303)
    commit()
    flash(message)
    return redirect(url_for("visits.elder_confirm"), code=303)


def visit_status_label(visit: Visit) -> str:
    labels = {"open": _("In progress"), "done": _("Waiting for the elder"), "verified": _("Confirmed"),
              "disputed": _("Disputed")}
    text = labels.get(visit.status, visit.status)
    if visit.status == "done" and visit.needs_worker:
        text = _("Waiting for the community worker (a relative's visit)")
    if visit_service.too_short(visit):
        text += " · " + _("Shorter than %(minutes)s minutes: not counted as this month's visit",
                          minutes=policy()["visits"]["min_minutes"])
    return text


def transfer_kind_label(kind: str) -> str:
    return {"mint": _("Visit credit"), "gift": _("Gift"), "spend": _("Paid with credits"),
            "reversal": _("Correction"), "allocation": _("From the community pool")}.get(kind, kind)


def transfer_party(counterpart: str) -> str:
    """The other side of a transfer as a person reads it: a name, the donation pool, or the community."""
    return {"donation_pool": _("the community donation pool"), "issuance": _("the community")}.get(counterpart,
                                                                                                   counterpart)


def uncredited_label(reason: str | None) -> str:
    return {"daily_cap": _("over the daily limit"), "yearly_cap": _("over the yearly limit"),
            "storage_cap": _("over the storage limit")}.get(reason or "", "")


@bp.app_context_processor
def _visit_helpers():
    return {"visit_status": visit_status_label, "flag_labels": flag_labels, "transfer_kind": transfer_kind_label,
            "uncredited_label": uncredited_label, "transfer_party": transfer_party}
