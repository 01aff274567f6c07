"""Family members: link to an elder, follow and order on their behalf."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow, signed_in
from portal.db import utcnow
from portal.i18n import _
from portal.models import FamilyLink
from portal.services import DomainError, audit, compliance, family_notices, visit_records
from portal.services.family_month import approved_link, elder_month
from portal.services.people import request_family_link
from portal.web import client_ip, commit, db
from portal.web.auth import keep_current_session
from portal.web.forms import FamilyLinkForm, FamilyNotificationsForm, show_error

bp = Blueprint("family", __name__, url_prefix="/family")


def my_links() -> list[FamilyLink]:
    return list(db().scalars(select(FamilyLink).where(FamilyLink.family_id == current_user.id)))


@bp.route("/")
@allow("family")
def home():
    return render_template("family/home.html", links=my_links(), form=FamilyLinkForm())


@bp.route("/elders/<int:elder_id>")
@allow("family")
def month(elder_id: int):
    """The elder's month as her relative may see it; ?period=YYYY-MM for an earlier month."""
    link = approved_link(db(), current_user.id, elder_id)
    if link is None:
        abort(404)
    now = utcnow()
    period = request.args.get("period") or compliance.current_month(now)
    try:
        seen = elder_month(db(), elder_id, period, now)
    except DomainError as error:
        flash(str(error.message))
        return redirect(url_for("family.month", elder_id=elder_id), code=303)
    audit.record(db(), current_user.id, "view", "elder", elder_id, elder_id=elder_id, ip=client_ip(),
                 page="family_month", period=period)
    commit()
    return _month_page(link, seen, period, now, FamilyNotificationsForm(formdata=None, obj=link))


def _month_page(link: FamilyLink, seen, period: str, now, form: FamilyNotificationsForm):
    return render_template("family/month.html", link=link, month=seen, now=now, record_headings=visit_records,
                           previous=compliance.previous_month(period), form=form,
                           first_contact=_first_contact(link),
                           following=None if period == compliance.current_month(now) else compliance.next_month(period))


def _first_contact(link: FamilyLink) -> bool:
    """The first approved relative is always texted when the daily call gets no answer."""
    first = db().scalar(select(FamilyLink.id).where(FamilyLink.elder_id == link.elder_id,
                                                    FamilyLink.status == "approved").order_by(FamilyLink.id).limit(1))
    return first == link.id


@bp.route("/elders/<int:elder_id>/notifications", methods=["POST"])
@allow("family")
def notifications(elder_id: int):
    """Choose the texts about this elder: only with an approved link to her (else 404)."""
    link = approved_link(db(), current_user.id, elder_id)
    if link is None:
        abort(404)
    form = FamilyNotificationsForm()
    if not form.validate_on_submit():
        now = utcnow()
        period = compliance.current_month(now)
        return _month_page(link, elder_month(db(), elder_id, period, now), period, now, form)
    family_notices.set_switches(db(), link, form.notify_visits.data, form.notify_checkins.data)
    commit()
    flash(_("Saved. We will text you as you chose."))
    return redirect(url_for("family.month", elder_id=elder_id), code=303)


@bp.route("/link", methods=["GET", "POST"])
@signed_in
def link():
    """Anyone signed in may ask to become an elder's family contact; approval decides."""
    form = FamilyLinkForm()
    if form.validate_on_submit():
        limiter = current_app.extensions["linli"].limiter
        if not limiter.hit(f"family-link:{current_user.id}", 5, 3600):
            form.elder_phone.errors.append(_("You have asked for many links. Please try again in an hour."))
            return render_template("family/link.html", form=form)
        try:
            request_family_link(db(), current_user, form.elder_phone.data, form.relation.data,
                                current_app.config["LINLI_DEFAULT_REGION"])
        except DomainError as error:
            db().rollback()
            show_error(form, error, "elder_phone")
            return render_template("family/link.html", form=form)
        commit()
        keep_current_session(current_user)
        flash(_("If this number is an elder's, your request was sent; your relative or the community "
                "worker will approve it."))
        return redirect(url_for("family.link"), code=303)
    return render_template("family/link.html", form=form)
