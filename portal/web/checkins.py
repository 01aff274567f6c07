"""每日问安 for workers: who is called each day, each elder's last 30 days at a glance, the missed
calls nobody has followed up yet ("I saw her"), and opting an elder living alone in."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import CheckInDay, DailyCheckIn, ElderProfile
from portal.services import DomainError, checkins
from portal.services.scope import staff_community_ids
from portal.web import commit, db, governed_or_404
from portal.web.forms import CheckInOptInForm, CheckInSeenForm, select_choices, show_error

bp = Blueprint("checkins", __name__, url_prefix="/worker/checkins")
WORKER = ("worker", "admin")


def _optin_choices(form: CheckInOptInForm, community_ids: list[int], subscribed_ids: list[int]) -> None:
    """Elders living alone in the worker's communities who are not called yet."""
    candidates = db().scalars(select(ElderProfile).where(
        ElderProfile.community_id.in_(community_ids), ElderProfile.living_situation == "alone",
        ElderProfile.person_id.not_in(subscribed_ids or [-1]))).all()
    form.elder_id.choices = select_choices((p.person_id, p.person.name) for p in candidates)


def _page(form: CheckInOptInForm | None = None):
    session = db()
    community_ids = staff_community_ids(session, current_user) or [-1]
    subscribed = session.scalars(
        select(DailyCheckIn).join(ElderProfile, ElderProfile.person_id == DailyCheckIn.elder_id)
        .where(DailyCheckIn.active, ElderProfile.community_id.in_(community_ids))
        .order_by(DailyCheckIn.call_time, DailyCheckIn.elder_id)).all()
    elder_ids = [row.elder_id for row in subscribed]
    today = checkins.local_day(utcnow())
    days = [today - timedelta(days=offset) for offset in range(29, -1, -1)]
    history = checkins.last_days(session, elder_ids, today)
    unseen = checkins.unseen_misses(session, elder_ids)
    if form is None:
        form = CheckInOptInForm(formdata=None)
    _optin_choices(form, community_ids, elder_ids)
    return render_template("worker/checkins.html", subscribed=subscribed, days=days, history=history,
                           unseen=unseen, form=form, seen_form=CheckInSeenForm(formdata=None), today=today)


@bp.route("/")
@allow(*WORKER)
def index():
    return _page()


@bp.route("/opt-in", methods=["POST"])
@allow(*WORKER)
def opt_in():
    form = CheckInOptInForm()
    community_ids = staff_community_ids(db(), current_user) or [-1]
    subscribed_ids = list(db().scalars(select(DailyCheckIn.elder_id).where(DailyCheckIn.active)))
    _optin_choices(form, community_ids, subscribed_ids)
    if not form.validate_on_submit():
        return _page(form)
    profile = governed_or_404(db().get(ElderProfile, form.elder_id.data))
    try:
        checkins.subscribe(db(), profile, form.call_time.data, current_user, utcnow())
    except DomainError as error:
        show_error(form, error, "call_time")
        return _page(form)
    commit()
    flash(_("%(name)s will get a daily call at %(time)s.", name=profile.person.name, time=form.call_time.data))
    return redirect(url_for("checkins.index"), code=303)


@bp.route("/seen", methods=["POST"])
@allow(*WORKER)
def seen():
    form = CheckInSeenForm()
    if not form.validate_on_submit():
        return redirect(url_for("checkins.index"), code=303)
    day = db().get(CheckInDay, form.day_id.data)
    if day is None:
        return redirect(url_for("checkins.index"), code=303)
    profile = governed_or_404(db().get(ElderProfile, day.elder_id))
    checkins.record_seen(db(), day, current_user, utcnow())
    commit()
    flash(_("Noted: %(name)s has been seen.", name=profile.person.name))
    return redirect(url_for("checkins.index"), code=303)
