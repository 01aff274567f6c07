"""The worker's visit-completion list (the core screen), reassignment, excuses, major events,
volunteer deactivation, report downloads and printable visit sheets.

Over 400 lines: one blueprint for one screen and its row actions; the queries live in
services/compliance/worklist.py, and the volunteer pages are the part to move to a blueprint of
their own next."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import func, select

from portal import labels
from portal.access import allow
from portal.clock import local_tz
from portal.db import utcnow
from portal.i18n import _, _l, current_locale
from portal.models import MAJOR_EVENT_KINDS, Area, ElderProfile, Person, VisitObligation, VolunteerProfile
from portal.policy import policy
from portal.services import DomainError, audit, compliance, scheduler_status, visit_sheets
from portal.services.compliance import worklist
from portal.services.scope import community_worker_ids, staff_community_ids
from portal.services.visit_records import HEADINGS
from portal.services.visit_reports import REPORT_MIMETYPES, worklist_report
from portal.web import client_ip, commit, db, wants_partial
from portal.web.downloads import visit_report_download
from portal.web.forms import (
    BulkReassignForm,
    DecisionForm,
    ExcuseForm,
    ReassignForm,
    UndoForm,
    select_choices,
    show_error,
)
from portal.web.names import told_apart

bp = Blueprint("completion", __name__, url_prefix="/worker/completion")
WORKER = ("worker", "admin")
STATE_LABELS = {"overdue": _l("Overdue"), "due": _l("Due"), "upcoming": _l("Upcoming"), "done": _l("Done"),
                "missed": _l("Missed"), "excused": _l("Excused")}
SORT_LABELS = {"priority": _l("Overdue and high risk first"), "name": _l("Name"), "due": _l("Due by"),
               "last_visit": _l("Last visit"), "visitor": _l("Visitor")}


@bp.app_template_filter("day")
def day(moment: datetime) -> str:
    """A short local date for a table cell: 11-20 this year, 2025-11-20 before."""
    local = moment.astimezone(local_tz())
    return local.strftime("%m-%d" if local.year == utcnow().astimezone(local_tz()).year else "%Y-%m-%d")


@bp.app_template_filter("due_day")
def due_day(moment: datetime) -> str:
    """The last day of a window that ends at midnight: due 21 Dec 00:00 is "by 12-20"."""
    return day(moment - timedelta(seconds=1))


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


def _assignees(community_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Who a community's visits can be given to: its verified volunteers, then its workers, each once."""
    volunteers = db().execute(
        select(VolunteerProfile.community_id, Person.id, Person.name, Person.phone)
        .join(Person, VolunteerProfile.person_id == Person.id)
        .where(VolunteerProfile.community_id.in_(community_ids or [-1]), VolunteerProfile.active,
               VolunteerProfile.verified_at.is_not(None), Person.active).order_by(Person.name, Person.id)
    ).all()
    workers = community_worker_ids(db(), community_ids)
    staff = db().execute(select(Person.id, Person.name, Person.phone).where(
        Person.id.in_({pid for ids in workers.values() for pid in ids} or {-1}), Person.active)).all()
    # two volunteers called 陈帅 are told apart by their phones' last digits, in every list of these
    names = told_apart([(pid, name, phone) for _cid, pid, name, phone in volunteers] + list(staff))
    result: dict[int, dict[int, str]] = {cid: {} for cid in community_ids}
    for community_id, person_id, _name, _phone in volunteers:
        result[community_id].setdefault(person_id, names[person_id])
    for community_id, ids in workers.items():
        for person_id in ids:
            if person_id in names:
                result[community_id].setdefault(person_id, _("%(name)s (community worker)", name=names[person_id]))
    return {cid: list(people.items()) for cid, people in result.items()}


def _chosen_communities(communities: list[Area]) -> tuple[str, list[int]]:
    chosen = request.args.get("community", "")
    ids = [c.id for c in communities]
    if chosen.isdigit() and int(chosen) in ids:
        return chosen, [int(chosen)]
    return "", ids


def _labels() -> dict[str, dict[str, str]]:
    return {"tier": {key: str(label) for key, label in labels.TIER_LABELS.items()},
            "state": {key: str(label) for key, label in STATE_LABELS.items()}}


def _back() -> str:
    back = request.values.get("back") or ""
    return back if back.startswith("/worker/completion/") and "//" not in back else url_for("completion.index")


def _row(obligation_id: int, now) -> worklist.WorklistRow:
    return worklist.worklist_row(db(), obligation_id, now)


@bp.route("/")
@allow(*WORKER)
def index():
    now = utcnow()
    period = _period_arg(now)
    communities = _communities()
    chosen, ids = _chosen_communities(communities)
    wanted = worklist.WorklistFilter.from_args(request.args)
    rows, total = worklist.worklist_rows(db(), period, ids, wanted, now)
    more = wanted.page * worklist.PAGE_SIZE < total
    context = dict(
        period=period, communities=communities, chosen=chosen, ids=ids, rows=rows, total=total, more=more,
        wanted=wanted, now=now, back=request.full_path.rstrip("?"), page_size=worklist.PAGE_SIZE,
        tier_labels=labels.TIER_LABELS, state_labels=STATE_LABELS, states=worklist.STATES,
        sorts=SORT_LABELS, base_args={"period": period, "community": chosen or None},
        args=lambda **changes: {"period": period, "community": chosen or None, **wanted.args(**changes)},
    )
    # "load more" and a filtered list swap only the rows
    if wants_partial("more") or wants_partial("visit-rows"):
        return render_template("completion/_rows.html", **context)
    assignees = _assignees(ids)  # the visitor filter and the bulk picker: not in the rows' swap
    figures = compliance.totals(compliance.community_rows(db(), period, ids))
    counts, tiers = worklist.line_counts(db(), period, ids, now)
    return render_template(
        "completion/index.html", previous=compliance.previous_month(period),
        following=None if period == compliance.current_month(now) else compliance.next_month(period),
        figures=figures, counts=counts, rate_label=_rate_label(), rate_note=_rate_note(tiers),
        forecast=compliance.forecast(db(), period, ids, now), closed=compliance.is_closed(db(), period),
        visitors=list(dict(p for people in assignees.values() for p in people).items()),
        undo_ids=session.pop("completion_undo", []), **context,
    )


CADENCE_NOTES = {"weekly": _l("a visit a week"), "monthly": _l("a visit a month, counted in the rate"),
                 "quarterly": _l("a visit a quarter")}


def _rate_label() -> str:
    """What the month's rate counts: the elders of the tiers visited monthly (特殊困难老人本月探访率)."""
    monthly = [str(labels.TIER_LABELS.get(tier, tier)) for tier, rule in policy()["tiers"].items()
               if (rule or {}).get("cadence") == "monthly"]
    return _("Visit rate this month, %(tiers)s elders", tiers="、".join(monthly)) if monthly else _("Visit rate")


def _rate_note(tiers: dict[str, int]) -> str:
    """本月列表共 56 位老人：高风险 10 位（每周探访一次）；特殊困难 41 位（每月探访一次，计入探访率）；…"""
    lines = _tier_lines(tiers)
    if not lines:
        return ""
    separator = "; " if current_locale().startswith("en") else "；"
    return _("The list has %(total)s elders this month: %(lines)s.", total=sum(tiers.values()),
             lines=separator.join(lines))


def _tier_lines(tiers: dict[str, int]) -> list[str]:
    """The list's elders per tier, with how often each is visited: why the list is longer than the rate."""
    rules = policy()["tiers"]
    lines = []
    for tier in [*labels.TIER_LABELS, *sorted(set(tiers) - set(labels.TIER_LABELS))]:
        if tiers.get(tier):
            cadence = (rules.get(tier) or {}).get("cadence", "")
            note = CADENCE_NOTES.get(cadence)
            lines.append(_("%(tier)s %(num)s (%(cadence)s)", tier=labels.TIER_LABELS.get(tier, tier),
                           num=tiers[tier], cadence=note) if note else
                         _("%(tier)s %(num)s", tier=labels.TIER_LABELS.get(tier, tier), num=tiers[tier]))
    return lines


def _detail(obligation: VisitObligation, now, form=None, excuse_form=None, message=None, undo=False,
            confirm_died=False):
    """The row with its actions: a row expansion for htmx, or a page of its own without JavaScript."""
    row = _row(obligation.id, now)
    assignees = _assignees([obligation.community_id])
    if form is None:
        form = ReassignForm(formdata=None, assignee=obligation.assigned_to_id)
    form.assignee.choices = select_choices(assignees[obligation.community_id])
    excuse_form = excuse_form or ExcuseForm(formdata=None)
    excuse_form.reason.choices = select_choices(compliance.EXCUSE_LABELS.items())
    profile = db().get(ElderProfile, obligation.elder_id)
    context = dict(row=row, obligation=obligation, profile=profile, form=form, excuse_form=excuse_form,
                   message=message, undo=undo and compliance.can_undo(db(), obligation, now), now=now,
                   confirm_died=confirm_died,
                   back=_back(), closed=compliance.is_closed(db(), obligation.period), open_=True,
                   tier_labels=labels.TIER_LABELS, state_labels=STATE_LABELS,
                   excuse_labels=compliance.EXCUSE_LABELS)
    if wants_partial(f"obligation-{obligation.id}"):
        return render_template("completion/_expanded.html", **context)
    return render_template("completion/visit.html", **context)


@bp.route("/<int:obligation_id>")
@allow(*WORKER)
def detail(obligation_id: int):
    obligation = _obligation_in_scope(obligation_id)
    if request.args.get("close") and wants_partial(f"obligation-{obligation_id}"):
        row = _row(obligation_id, utcnow())
        return render_template("completion/_one_row.html", row=row, now=utcnow(), back=_back(),
                               tier_labels=labels.TIER_LABELS, state_labels=STATE_LABELS)
    return _detail(obligation, utcnow())


def _changed(obligation: VisitObligation, message: str):
    """After an excuse or a reassignment: the row again with the message and an undo (htmx), or back
    to the list with both (without JavaScript)."""
    if wants_partial(f"obligation-{obligation.id}"):
        return _detail(obligation, utcnow(), message=message, undo=True)
    flash(message)
    session_undo([obligation.id])
    return redirect(_back(), code=303)


@bp.route("/<int:obligation_id>/assign", methods=["POST"])
@allow(*WORKER)
def assign(obligation_id: int):
    obligation = _obligation_in_scope(obligation_id)
    form = ReassignForm()
    form.assignee.choices = select_choices(_assignees([obligation.community_id])[obligation.community_id])
    if form.validate_on_submit():
        try:
            compliance.reassign(db(), obligation, form.assignee.data, current_user.id, utcnow())
            audit.record(db(), current_user.id, "update", "visit_obligation", obligation.id,
                         elder_id=obligation.elder_id, ip=client_ip(), assigned_to=form.assignee.data)
            commit()
            # the person chosen, not `obligation.assigned_to`: that relationship was loaded before the change
            return _changed(obligation, _("%(elder)s will be visited by %(name)s.", elder=obligation.elder.name,
                                          name=db().get(Person, form.assignee.data).name))
        except DomainError as exc:
            db().rollback()
            show_error(form, exc, "assignee")
    return _detail(db().get(VisitObligation, obligation_id), utcnow(), form=form)


@bp.route("/<int:obligation_id>/excuse", methods=["POST"])
@allow(*WORKER)
def excuse(obligation_id: int):
    obligation = _obligation_in_scope(obligation_id)
    form = ExcuseForm()
    form.reason.choices = select_choices(compliance.EXCUSE_LABELS.items())
    if form.validate_on_submit():
        if form.reason.data == "died" and not form.confirm.data:
            # a death is asked about once more: one click must not take an elder off the list
            return _detail(obligation, utcnow(), excuse_form=form, confirm_died=True)
        try:
            compliance.excuse(db(), obligation, form.reason.data, current_user.id, utcnow())
            audit.record(db(), current_user.id, "update", "visit_obligation", obligation.id,
                         elder_id=obligation.elder_id, ip=client_ip(), excused=obligation.excuse_reason)
            commit()
            return _changed(obligation, _("%(elder)s is excused this period.", elder=obligation.elder.name))
        except DomainError as exc:
            db().rollback()
            show_error(form, exc, "reason")
    return _detail(db().get(VisitObligation, obligation_id), utcnow(), excuse_form=form)


@bp.route("/bulk-assign", methods=["POST"])
@allow(*WORKER)
def bulk_assign():
    """Give the ticked visits to one person; visits of another community or not open are reported."""
    ids = staff_community_ids(db(), current_user)
    form = BulkReassignForm()
    picked = worklist.in_period(db(), [i for i in (form.selected.data or []) if isinstance(i, int)], ids)
    communities = sorted({o.community_id for o in picked})
    everyone = _assignees(communities)
    form.assignee.choices = select_choices(dict(p for cid in communities for p in everyone[cid]).items())
    if not form.validate_on_submit() or not picked:
        for error in [*form.selected.errors, *form.assignee.errors] or [_("Please tick at least one elder.")]:
            flash(str(error))
        return redirect(_back(), code=303)
    moved, refused = [], []
    for obligation in picked:
        try:
            with db().begin_nested():
                compliance.reassign(db(), obligation, form.assignee.data, current_user.id, utcnow())
            moved.append(obligation)
        except DomainError:
            refused.append(obligation.elder.name)
    for obligation in moved:
        audit.record(db(), current_user.id, "update", "visit_obligation", obligation.id,
                     elder_id=obligation.elder_id, ip=client_ip(), assigned_to=form.assignee.data, bulk=True)
    commit()
    if moved:
        flash(_("%(num)s visits were given to %(name)s.", num=len(moved), name=db().get(Person, form.assignee.data).name))
        session_undo([o.id for o in moved])
    if refused:
        flash(_("Not changed (not an open visit, or not someone of that community): %(names)s",
                names="、".join(refused)))
    return redirect(_back(), code=303)


@bp.route("/undo", methods=["POST"])
@allow(*WORKER)
def undo():
    """Take back the last excuse or reassignment of these visits, within the policy's minutes."""
    form = UndoForm()
    if not form.validate_on_submit():
        flash(_("This can no longer be undone."))
        return redirect(_back(), code=303)
    picked = worklist.in_period(db(), form.obligation.data, staff_community_ids(db(), current_user))
    if not picked:
        abort(404)
    now, undone = utcnow(), []
    for obligation in picked:
        try:
            kind = compliance.undo(db(), obligation, current_user.id, now)
            audit.record(db(), current_user.id, "update", "visit_obligation", obligation.id,
                         elder_id=obligation.elder_id, ip=client_ip(), undone=kind)
            undone.append(obligation.elder.name)
        except DomainError:
            pass
    commit()
    message = _("Undone: %(names)s", names="、".join(undone)) if undone else _("This can no longer be undone.")
    if len(picked) == 1 and wants_partial(f"obligation-{picked[0].id}"):
        return _detail(picked[0], now, message=message)
    flash(message)
    return redirect(_back(), code=303)


def session_undo(obligation_ids: list[int]) -> None:
    """The flash after an action offers to undo it (the page reads it once, like the flash)."""
    session["completion_undo"] = obligation_ids


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


@bp.route("/list.<fmt>")
@allow(*WORKER)
def export_list(fmt: str):
    """Exactly the rows the worker's filter picks (every page), in the list's order."""
    if fmt not in REPORT_MIMETYPES:
        abort(404)
    now = utcnow()
    period = _period_arg(now)
    _chosen, ids = _chosen_communities(_communities())
    wanted = worklist.WorklistFilter.from_args(request.args)
    data, count = worklist_report(db(), period, ids, wanted, fmt, now, _labels(), str(get_locale() or "zh_Hans"))
    audit.record(db(), current_user.id, "export", "visit_list", period, ip=client_ip(), format=fmt,
                 communities=len(ids), rows=count, **wanted.args(page=1))
    commit()
    return Response(data, mimetype=REPORT_MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="visit-list-{period}.{fmt}"'})


@bp.route("/sheet")
@allow(*WORKER)
def sheet():
    """The printable A4 sheet for door-to-door rounds, filled in by hand (the date, time in and out, tick
    boxes for the 探访 record headings, the elder's mark) and keyed back in at visits_worker.key_in.
    No door codes."""
    now = utcnow()
    period = _period_arg(now)
    ids = staff_community_ids(db(), current_user)
    title = None
    volunteer = request.args.get("volunteer", "")
    community = request.args.get("community", "")
    assigned_to = chosen_community = None
    # the visitors' names as the pickers show them: two called 陈帅 told apart by their phones' tails
    visitor_names = {pid: name for people in _assignees(ids).values() for pid, name in people}
    if volunteer.isdigit():
        person = db().get(Person, int(volunteer))
        # only someone who can be given this area's visits: no names from another area in the title
        if person is None or person.id not in visitor_names:
            abort(404)
        assigned_to, title = person.id, visitor_names[person.id]
    elif community.isdigit() and int(community) in ids:
        chosen_community = int(community)
        title = db().get(Area, chosen_community).name
    rows = visit_sheets.sheet_rows(db(), ids, period, assigned_to=assigned_to, community=chosen_community)
    audit.record(db(), current_user.id, "print", "visit_sheet", period, ip=client_ip(),
                 volunteer=volunteer or None, community=community or None, elders=len(rows))
    commit()
    return render_template("completion/sheet.html", rows=rows, period=period, title=title, now=now,
                           headings=HEADINGS, volunteer=assigned_to, community=chosen_community,
                           visitor_names=visitor_names)
