"""Community workers: visits to verify, follow-up tasks, visits entered by hand, corrections, totals."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from portal.access import allow
from portal.clock import local_tz
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area, ElderProfile, FollowUp, Person, Transfer, Visit, VolunteerProfile
from portal.services import DomainError, audit, ledger, statements
from portal.services import visits as visit_service
from portal.services.scope import staff_community_ids
from portal.web import client_ip, commit, db

bp = Blueprint("visits_worker", __name__, url_prefix="/worker/visits")
WORKER = ("worker", "admin")


def _communities() -> list[int]:
    return staff_community_ids(db(), current_user)


def _visit_in_scope(visit_id: int) -> Visit:
    visit = db().get(Visit, visit_id)
    if visit is None or visit.community_id not in _communities():
        abort(404)
    return visit


@bp.route("/")
@allow(*WORKER)
def index():
    session = db()
    ids = _communities() or [-1]
    waiting = session.scalars(
        select(Visit).where(Visit.community_id.in_(ids),
                            or_(Visit.status == "disputed", (Visit.status == "done") & Visit.needs_worker))
        .order_by(Visit.checked_out_at)).all()
    unanswered = session.scalars(
        select(Visit).where(Visit.community_id.in_(ids), Visit.status == "done", ~Visit.needs_worker)
        .order_by(Visit.checked_out_at).limit(100)).all()
    names = {a.id: a.name for a in session.scalars(select(Area).where(Area.id.in_(ids)))}
    return render_template("visits/worker_index.html", waiting=waiting, unanswered=unanswered,
                           totals=statements.community_totals(session, _communities()), names=names)


@bp.route("/<int:visit_id>/verify", methods=["POST"])
@allow(*WORKER)
def verify(visit_id: int):
    session = db()
    visit = _visit_in_scope(visit_id)
    try:
        visit_service.verify_by_worker(session, visit, current_user, utcnow())
    except DomainError as error:
        session.rollback()
        flash(str(error.message))
        return redirect(url_for("visits_worker.index"), code=303)
    commit()
    flash(_("The visit is verified: %(minutes)s minutes credited.", minutes=visit.credited_minutes or 0))
    return redirect(url_for("visits_worker.index"), code=303)


@bp.route("/follow-ups")
@allow(*WORKER)
def follow_ups():
    tasks = db().scalars(select(FollowUp).where(FollowUp.community_id.in_(_communities() or [-1]),
                                                FollowUp.status == "open").order_by(FollowUp.created_at)).all()
    return render_template("visits/follow_ups.html", tasks=tasks)


@bp.route("/follow-ups/<int:task_id>", methods=["POST"])
@allow(*WORKER)
def close_follow_up(task_id: int):
    task = db().get(FollowUp, task_id)
    if task is None or task.community_id not in _communities():
        abort(404)
    visit_service.close_follow_up(db(), task, current_user, utcnow())
    commit()
    flash(_("Marked as done."))
    return redirect(url_for("visits_worker.follow_ups"), code=303)


def _parse_local(day: str, clock: str) -> datetime | None:
    try:
        return datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M").replace(tzinfo=local_tz())
    except ValueError:
        return None


@bp.route("/new", methods=["GET", "POST"])
@allow(*WORKER)
def new():
    session = db()
    ids = _communities() or [-1]
    volunteers = session.scalars(select(VolunteerProfile).where(VolunteerProfile.community_id.in_(ids))).all()
    elders = session.scalars(select(ElderProfile).where(ElderProfile.community_id.in_(ids)).limit(500)).all()
    if request.method == "GET":
        return render_template("visits/worker_new.html", volunteers=volunteers, elders=elders, form={})
    form = request.form
    try:
        volunteer = session.get(VolunteerProfile, int(form.get("volunteer_id") or 0))
        elder = session.get(ElderProfile, int(form.get("elder_id") or 0))
        if volunteer is None or volunteer.community_id not in ids or elder is None or elder.community_id not in ids:
            raise visit_service.VisitError(_("Please choose a volunteer and an elder from the lists."))
        start = _parse_local(form.get("day", ""), form.get("start", ""))
        end = _parse_local(form.get("day", ""), form.get("end", ""))
        visit_service.record_by_worker(session, current_user, volunteer.person, elder, start, end, utcnow(),
                                       form.get("notes"), form.getlist("flags"),
                                       public_url=current_app.config["LINLI_PUBLIC_URL"])
    except (DomainError, ValueError) as error:
        session.rollback()
        message = error.message if isinstance(error, DomainError) else _("Please choose from the lists.")
        return render_template("visits/worker_new.html", volunteers=volunteers, elders=elders, form=form,
                               error=message), 422
    commit()
    flash(_("The visit is recorded. The elder will be asked to confirm it."))
    return redirect(url_for("visits_worker.index"), code=303)


@bp.route("/transfers/<int:transfer_id>/reverse", methods=["GET", "POST"])
@allow(*WORKER)
def reverse(transfer_id: int):
    session = db()
    transfer = session.get(Transfer, transfer_id)
    if transfer is None or not ({transfer.from_account.community_id, transfer.to_account.community_id}
                                & set(_communities())):
        abort(404)
    if request.method == "GET":
        return render_template("visits/reverse.html", transfer=transfer)
    try:
        ledger.reverse(session, current_user, transfer.id, request.form.get("reason"), utcnow())
    except DomainError as error:
        session.rollback()
        return render_template("visits/reverse.html", transfer=session.get(Transfer, transfer_id),
                               error=error.message), 422
    commit()
    flash(_("The transfer is reversed."))
    return redirect(url_for("visits_worker.index"), code=303)


@bp.route("/people/<int:person_id>/history")
@allow(*WORKER)
def person_history(person_id: int):
    session = db()
    person = session.get(Person, person_id)
    if person is None or ledger.person_community_id(session, person_id) not in _communities():
        abort(404)
    elder_id = person_id if session.get(ElderProfile, person_id) is not None else None
    audit.record(session, current_user.id, "view", "ledger_history", person_id, elder_id=elder_id, ip=client_ip())
    commit()
    return render_template("visits/person_history.html", person=person,
                           balance=ledger.balance_of(session, person_id),
                           rows=list(reversed(statements.history(session, person_id))))
