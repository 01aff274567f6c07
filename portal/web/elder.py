"""The elder's pages: big tiles, one question at a time."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import SERVICE_TYPES, DailyCheckIn, ElderProfile, FamilyLink
from portal.services import checkins
from portal.services import visits as visit_service
from portal.services.people import decide_family_link, revoke_family_link
from portal.web import commit, db
from portal.web.forms import DAILY_CALL_TIMES, ElderDailyCallForm, LinkDecisionForm

bp = Blueprint("elder", __name__, url_prefix="/elder")


def my_profile() -> ElderProfile:
    profile = db().get(ElderProfile, current_user.id)
    if profile is None:
        abort(404)
    return profile


@bp.route("/")
@allow("elder")
def home():
    return _home_page(LinkDecisionForm(formdata=None))


def _home_page(form: LinkDecisionForm):
    """The tiles and the links waiting for an answer; `form` carries the errors of a refused answer."""
    profile = my_profile()
    links = db().scalars(
        select(FamilyLink).where(FamilyLink.elder_id == profile.person_id,
                                 FamilyLink.status.in_(("pending", "approved")))
    ).all()
    # the first big button only when a visit is waiting for her answer (it led to "nothing to confirm")
    visit_waiting = bool(visit_service.awaiting_confirmation(db(), profile.person_id))
    return render_template("elder/home.html", profile=profile, services=SERVICE_TYPES, visit_waiting=visit_waiting,
                           pending_links=[link for link in links if link.status == "pending"],
                           approved_links=[link for link in links if link.status == "approved"], form=form)


@bp.route("/service/<service>")
@allow("elder")
def service(service: str):
    if service not in SERVICE_TYPES:
        abort(404)
    return render_template("elder/service.html", service=service, profile=my_profile())


@bp.route("/family-links/<int:link_id>", methods=["POST"])
@allow("elder")
def decide_link(link_id: int):
    link = db().get(FamilyLink, link_id)
    if link is None or link.elder_id != current_user.id or link.status == "revoked":
        abort(404)
    form = LinkDecisionForm()
    if not form.validate_on_submit():
        return _home_page(form)
    if form.decision.data == "revoke":
        revoke_family_link(db(), link, current_user, utcnow())
        commit()
        flash(_("Done. %(name)s can no longer order for you.", name=link.family.name))
        return redirect(url_for("elder.home"), code=303)
    if link.status != "pending":
        abort(404)
    approve = form.decision.data == "approve"
    decide_family_link(link, approve, current_user, utcnow())
    commit()
    flash(_("Thank you. %(name)s can now order for you.", name=link.family.name) if approve
          else _("You said no. %(name)s cannot order for you.", name=link.family.name))
    return redirect(url_for("elder.home"), code=303)


@bp.route("/daily-call", methods=["GET", "POST"])
@allow("elder")
def daily_call():
    """每日问安: the elder chooses her own time for the daily call, or stops it (a worker can too)."""
    profile = my_profile()
    current = db().get(DailyCheckIn, profile.person_id)
    current_time = current.call_time if current is not None and current.active else None
    form = ElderDailyCallForm(data={"choice": current_time or ""} if current_time else None)
    if form.validate_on_submit():
        if form.choice.data == "stop":
            checkins.unsubscribe(db(), profile)
            message = _("All right: no daily call. You can ask for it again here at any time.")
        else:
            checkins.subscribe(db(), profile, form.choice.data, current_user, utcnow())
            message = _("All right: we will call you every day at %(time)s.",
                        time=_daily_call_time_label(form.choice.data))
        commit()
        flash(message)
        return redirect(url_for("elder.home"), code=303)
    labels = {time: _daily_call_time_label(time) for time in DAILY_CALL_TIMES}
    return render_template("elder/daily_call.html", form=form, times=DAILY_CALL_TIMES, time_labels=labels,
                           current_time=current_time)


def _daily_call_time_label(hhmm: str) -> str:
    hour, minute = int(hhmm[:2]), int(hhmm[3:])
    if minute:
        return _("%(hour)s:30 in the morning", hour=hour)
    return _("%(hour)s o'clock in the morning", hour=hour)
