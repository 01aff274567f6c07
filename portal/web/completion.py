"""The worker's visit-completion list (the core screen), reassignment, excuses, major events,
volunteer deactivation, report downloads and printable visit sheets."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, func, select

from portal.access import allow
from portal.clock import local_tz
from portal.db import utcnow
from portal.i18n import _
from portal.models import (
    MAJOR_EVENT_KINDS,
    Area,
    ElderProfile,
    ElderVisitStat,
    Person,
    RoleGrant,
    VisitObligation,
    VolunteerProfile,
)
from portal.services import DomainError, audit, compliance, scheduler_status
from portal.services.scope import staff_community_ids
from portal.web import client_ip, commit, db, render_page, safe_path, wants_partial
from portal.web.downloads import visit_report_download
from portal.web.forms import DecisionForm

bp = Blueprint("completion", __name__, url_prefix="/worker/completion")
WORKER = ("worker", "admin")
STATUS_ORDER = {"due": 0, "upcoming": 1, "missed": 2, "done": 3, "excused": 4}


@bp.app_context_processor
def _scheduler_banner():
    def scheduler_silent() -> bool:
        if not current_user.is_authenticated or not current_user.has_role("worker", "admin"):
            return False
        return scheduler_status.scheduler_silent(db(), utcnow())

    return {"scheduler_silent": scheduler_silent}


def _communities() -> list[Area]:
    ids = staff_community_ids(db(), current_user)
    return list(db().scalars(select(Area).where(Area.id.in_(ids or [-1])).order_by(Area.name)))


def _period_arg(now: datetime) -> str:
    period = request.args.get("period") or compliance.current_month(now)
    try:
        compliance.month_window(period, now)
    except DomainError as error:
        flash(str(error.message))
        return compliance.current_month(now)
    return period


def _obligation_in_scope(obligation_id: int) -> VisitObligation:
    obligation = db().get(VisitObligation, obligation_id)
    if obligation is None or obligation.community_id not in staff_community_ids(db(), current_user):
        abort(404)
    return obligation


def _assignees(community_id: int) -> list[tuple[int, str]]:
    volunteers = db().execute(
        select(Person.id, Person.name).join(VolunteerProfile, VolunteerProfile.person_id == Person.id)
        .where(VolunteerProfile.community_id == community_id, VolunteerProfile.active,
               VolunteerProfile.verified_at.is_not(None), Person.active).order_by(Person.name)
    ).all()
    workers = db().execute(
        select(Person.id, Person.name).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "worker", RoleGrant.area_id == community_id, Person.active).order_by(Person.name)
    ).all()
    return [(row.id, row.name) for row in volunteers] + [(row.id, f"{row.name}（{_('worker')}）") for row in workers]


def _rows(period: str, community_ids: list[int], now: datetime):
    window = compliance.month_window(period)
    overdue = case((VisitObligation.status.in_(compliance.OPEN) & (VisitObligation.due_at <= now), 0), else_=1)
    high = case((VisitObligation.tier == "high_risk", 0), else_=1)
    status_rank = case(STATUS_ORDER, value=VisitObligation.status, else_=9)
    return db().execute(
        select(VisitObligation, ElderVisitStat.last_visit_at)
        .join(Person, Person.id == VisitObligation.elder_id)
        .outerjoin(ElderVisitStat, ElderVisitStat.elder_id == VisitObligation.elder_id)
        .where(VisitObligation.community_id.in_(community_ids or [-1]),
               VisitObligation.window_start < window.end, VisitObligation.window_end > window.start)
        .order_by(overdue, high, status_rank, VisitObligation.window_start, Person.name)
    ).all()


@bp.route("/")
@allow(*WORKER)
def index():
    now = utcnow()
    period = _period_arg(now)
    communities = _communities()
    chosen = request.args.get("community", "")
    ids = [c.id for c in communities]
    if chosen.isdigit() and int(chosen) in ids:
        ids = [int(chosen)]
    rows = _rows(period, ids, now)
    figures = compliance.totals(compliance.community_rows(db(), period, ids))
    assignees = {cid: _assignees(cid) for cid in ids}
    counts = {status: 0 for status in STATUS_ORDER}
    for obligation, _last in rows:
        counts[obligation.status] = counts.get(obligation.status, 0) + 1
    return render_page(
        "completion/index.html", partial="completion/_list.html", target="visit-list",
        period=period, previous=compliance.previous_month(period),
        following=None if period == compliance.current_month(now) else compliance.next_month(period),
        communities=communities, chosen=chosen, obligations=rows, figures=figures, counts=counts, now=now,
        assignees=assignees, back=request.full_path, forecast=compliance.forecast(db(), period, ids, now),
        excuse_labels=compliance.EXCUSE_LABELS, closed=compliance.is_closed(db(), period),
    )


@bp.route("/<int:obligation_id>/assign", methods=["POST"])
@allow(*WORKER)
def assign(obligation_id: int):
    obligation = _obligation_in_scope(obligation_id)
    error = None
    if not DecisionForm().validate_on_submit():
        abort(400)
    raw = request.form.get("assignee", "")
    try:
        if not raw.isdigit():
            raise DomainError(_("Please choose a verified volunteer of this community."), field="assignee")
        compliance.reassign(db(), obligation, int(raw), current_user.id, utcnow())
        audit.record(db(), current_user.id, "update", "visit_obligation", obligation.id,
                     elder_id=obligation.elder_id, ip=client_ip(), assigned_to=int(raw))
        commit()
    except DomainError as exc:
        db().rollback()
        error = str(exc.message)
    if wants_partial(f"obligation-{obligation_id}"):
        last = db().scalar(select(ElderVisitStat.last_visit_at).where(ElderVisitStat.elder_id == obligation.elder_id))
        return render_template("completion/_row.html", obligation=db().get(VisitObligation, obligation_id),
                               last_visit=last, assignees={obligation.community_id: _assignees(obligation.community_id)},
                               back=url_for("completion.index"), now=utcnow(), error=error,
                               excuse_labels=compliance.EXCUSE_LABELS, closed=False)
    if error:
        flash(error)
    else:
        flash(_("%(elder)s will be visited by %(name)s.", elder=obligation.elder.name,
                name=obligation.assigned_to.name if obligation.assigned_to else ""))
    back = safe_path(request.form.get("back"))
    return redirect(back if (back or "").startswith("/worker/completion")
                    else url_for("completion.index"), code=303)


@bp.route("/<int:obligation_id>/excuse", methods=["POST"])
@allow(*WORKER)
def excuse(obligation_id: int):
    obligation = _obligation_in_scope(obligation_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        compliance.excuse(db(), obligation, request.form.get("reason", ""), current_user.id, utcnow())
        audit.record(db(), current_user.id, "update", "visit_obligation", obligation.id,
                     elder_id=obligation.elder_id, ip=client_ip(), excused=obligation.excuse_reason)
        commit()
        flash(_("%(elder)s is excused this period.", elder=obligation.elder.name))
    except DomainError as exc:
        db().rollback()
        flash(str(exc.message))
    return redirect(url_for("completion.index", period=request.form.get("period") or None), code=303)


@bp.route("/elders/<int:elder_id>/event", methods=["GET", "POST"])
@allow(*WORKER)
def major_event(elder_id: int):
    profile = db().get(ElderProfile, elder_id)
    if profile is None or profile.community_id not in staff_community_ids(db(), current_user):
        abort(404)
    error = error_field = None
    form = DecisionForm()
    if request.method == "GET":
        # the form shows the elder's name and address: a view of her record
        audit.record(db(), current_user.id, "view", "elder", elder_id, elder_id=elder_id, ip=client_ip(),
                     page="major_event")
        commit()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        now = utcnow()
        raw = (request.form.get("occurred_at") or "").strip()
        try:
            occurred = datetime.fromisoformat(raw).replace(tzinfo=local_tz()) \
                if raw else None
        except ValueError:
            occurred = None
        try:
            event = compliance.record_major_event(db(), profile, request.form.get("kind", ""), occurred,
                                                  request.form.get("note"), current_user.id, now)
            audit.record(db(), current_user.id, "create", "major_event", event.id, elder_id=elder_id, ip=client_ip())
            commit()
            flash(_("Recorded. A visit within 24 hours is planned for %(elder)s.", elder=profile.person.name))
            return redirect(url_for("completion.index"), code=303)
        except DomainError as exc:
            db().rollback()
            error, error_field = str(exc.message), exc.field
    # an invalid form comes back with status 200: htmx 2 swaps no 4xx
    return render_template("completion/event.html", profile=profile, kinds=MAJOR_EVENT_KINDS,
                           labels_=compliance.MAJOR_EVENT_LABELS, error=error, error_field=error_field,
                           values=request.form)


@bp.route("/volunteers")
@allow(*WORKER)
def volunteers():
    ids = staff_community_ids(db(), current_user)
    load = compliance.monthly_load(utcnow())
    rows = db().execute(
        select(VolunteerProfile, func.coalesce(load.c.n, 0))
        .outerjoin(load, load.c.person_id == VolunteerProfile.person_id)
        .where(VolunteerProfile.community_id.in_(ids or [-1]))
        .order_by(VolunteerProfile.active.desc(), VolunteerProfile.person_id)
    ).all()
    return render_template("completion/volunteers.html", rows=rows)


@bp.route("/volunteers/<int:person_id>/deactivate", methods=["POST"])
@allow(*WORKER)
def deactivate(person_id: int):
    profile = db().get(VolunteerProfile, person_id)
    if profile is None or profile.community_id not in staff_community_ids(db(), current_user):
        abort(404)
    if not DecisionForm().validate_on_submit():
        abort(400)
    if profile.active:
        compliance.deactivate_volunteer(db(), profile, current_user.id, utcnow())
        audit.record(db(), current_user.id, "update", "volunteer", person_id, ip=client_ip(), deactivated=True)
        commit()
        flash(_("%(name)s is no longer active; their visits were given to others.", name=profile.person.name))
    return redirect(url_for("completion.volunteers"), code=303)


@bp.route("/report.<fmt>")
@allow(*WORKER)
def report(fmt: str):
    return visit_report_download(fmt, staff_community_ids(db(), current_user), "completion.index")


@bp.route("/sheet")
@allow(*WORKER)
def sheet():
    """A printable A4 sheet for door-to-door rounds: names, addresses, a signature column. No door codes."""
    now = utcnow()
    period = _period_arg(now)
    ids = staff_community_ids(db(), current_user)
    window = compliance.month_window(period)
    query = (select(VisitObligation, ElderProfile.address)
             .join(ElderProfile, ElderProfile.person_id == VisitObligation.elder_id)
             .join(Person, Person.id == VisitObligation.elder_id)
             .where(VisitObligation.community_id.in_(ids or [-1]),
                    VisitObligation.window_start < window.end, VisitObligation.window_end > window.start,
                    VisitObligation.status.in_(compliance.OPEN)))
    title = None
    volunteer = request.args.get("volunteer", "")
    community = request.args.get("community", "")
    if volunteer.isdigit():
        person = db().get(Person, int(volunteer))
        # only someone who can be given this area's visits: no names from another area in the title
        if person is None or not any(person.id == pid for cid in ids for pid, _name in _assignees(cid)):
            abort(404)
        query = query.where(VisitObligation.assigned_to_id == person.id)
        title = person.name
    elif community.isdigit() and int(community) in ids:
        query = query.where(VisitObligation.community_id == int(community))
        title = db().get(Area, int(community)).name
    rows = db().execute(query.order_by(ElderProfile.address, Person.name)).all()
    audit.record(db(), current_user.id, "print", "visit_sheet", period, ip=client_ip(),
                 volunteer=volunteer or None, community=community or None, elders=len(rows))
    commit()
    return render_template("completion/sheet.html", rows=rows, period=period, title=title, now=now)
