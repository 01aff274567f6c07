"""Community workers: visits to verify, follow-up tasks, visits entered by hand, corrections, totals."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from portal.access import allow
from portal.clock import local_tz
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area, ElderProfile, FollowUp, Person, Transfer, Visit, VolunteerProfile
from portal.services import DomainError, audit, compliance, ledger, statements, visit_records, visit_sheets
from portal.services import visits as visit_service
from portal.services.scope import staff_community_ids
from portal.services.visit_records import HEADINGS
from portal.web import bounded_int_arg, client_ip, commit, db, governed_or_404
from portal.web.forms import ReverseForm, SheetEntryForm, WorkerVisitForm, numbered_choices, select_choices, show_error
from portal.web.visits import flag_labels

bp = Blueprint("visits_worker", __name__, url_prefix="/worker/visits")
WORKER = ("worker", "admin")


def _communities() -> list[int]:
    return staff_community_ids(db(), current_user)


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
    visit = governed_or_404(session.get(Visit, visit_id))
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
    return render_template("visits/follow_ups.html", tasks=tasks, now_utc=utcnow, record_label=visit_records.label)


@bp.route("/follow-ups/<int:task_id>", methods=["POST"])
@allow(*WORKER)
def close_follow_up(task_id: int):
    task = governed_or_404(db().get(FollowUp, task_id))
    visit_service.close_follow_up(db(), task, current_user, utcnow())
    commit()
    flash(_("Marked as done."))
    return redirect(url_for("visits_worker.follow_ups"), code=303)


def _local(day, clock) -> datetime:
    return datetime.combine(day, clock).replace(tzinfo=local_tz())


@bp.route("/new", methods=["GET", "POST"])
@allow(*WORKER)
def new():
    session = db()
    ids = _communities() or [-1]
    volunteers = session.scalars(select(VolunteerProfile).where(VolunteerProfile.community_id.in_(ids))).all()
    elders = session.scalars(select(ElderProfile).where(ElderProfile.community_id.in_(ids)).limit(500)).all()
    form = WorkerVisitForm()
    # only people of the worker's own communities are offered, and only they are accepted
    form.volunteer_id.choices = select_choices((v.person_id, v.person.name) for v in volunteers)
    form.elder_id.choices = select_choices((e.person_id, e.person.name) for e in elders)
    form.flags.choices = select_choices(flag_labels().items())
    if not form.validate_on_submit():
        return render_template("visits/worker_new.html", form=form)
    volunteer = session.get(VolunteerProfile, form.volunteer_id.data)
    elder = session.get(ElderProfile, form.elder_id.data)
    try:
        visit_service.record_by_worker(session, current_user, volunteer.person, elder,
                                       _local(form.day.data, form.start.data), _local(form.day.data, form.end.data),
                                       utcnow(), form.notes.data, form.flags.data,
                                       public_url=current_app.config["LINLI_PUBLIC_URL"])
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return render_template("visits/worker_new.html", form=form)
    commit()
    flash(_("The visit is recorded. The elder will be asked to confirm it."))
    return redirect(url_for("visits_worker.index"), code=303)


def _transfer_communities(transfer: Transfer) -> tuple[int | None, int | None]:
    return transfer.from_account.community_id, transfer.to_account.community_id


@bp.route("/transfers/<int:transfer_id>/reverse", methods=["GET", "POST"])
@allow(*WORKER)
def reverse(transfer_id: int):
    session = db()
    transfer = governed_or_404(session.get(Transfer, transfer_id), communities_of=_transfer_communities)
    form = ReverseForm()
    if not form.validate_on_submit():
        return render_template("visits/reverse.html", transfer=transfer, form=form)
    try:
        ledger.reverse(session, current_user, transfer.id, form.reason.data, utcnow())
    except DomainError as error:
        session.rollback()
        show_error(form, error, "reason")
        return render_template("visits/reverse.html", transfer=session.get(Transfer, transfer_id), form=form)
    commit()
    flash(_("The transfer is reversed."))
    return redirect(url_for("visits_worker.index"), code=303)


@bp.route("/people/<int:person_id>/history")
@allow(*WORKER)
def person_history(person_id: int):
    session = db()
    person = governed_or_404(session.get(Person, person_id),
                             communities_of=lambda person: (ledger.person_community_id(session, person.id),))
    elder_id = person_id if session.get(ElderProfile, person_id) is not None else None
    audit.record(session, current_user.id, "view", "ledger_history", person_id, elder_id=elder_id, ip=client_ip())
    commit()
    return render_template("visits/person_history.html", person=person,
                           balance=ledger.balance_of(session, person_id),
                           rows=list(reversed(statements.history(session, person_id))))


# ---------------------------------------------------------------- a paper visit sheet keyed back in

SHEET_ROWS = 1000  # one page; a longer sheet is keyed in per visitor or per community


def _month_arg(now: datetime) -> str:
    period = request.args.get("period") or compliance.current_month(now)
    try:
        compliance.month_window(period, now)
    except DomainError:
        return compliance.current_month(now)
    return period


def _blank(row) -> bool:
    return not (row.day.data or row.start.data or row.end.data or any(getattr(row, h.key).data for h in HEADINGS))


def _read_row(row, reachable: dict, sheet_day: str, period: str):
    """(day, start, end) of one filled-in row, or the problem that stops it from being entered."""
    if row.elder_id.data not in reachable:
        return _("That record does not exist.")
    errors = [_("%(label)s: %(error)s", label=field.label.text, error=error)
              for field in row if field.errors for error in field.errors]
    if errors:
        return "; ".join(errors)
    if not (row.day.data or sheet_day):
        return _("Please enter the date of the visit.")
    if not (row.start.data and row.end.data):
        return _("Please enter when the visit started and ended.")
    if not row.volunteer_id.data:
        return _("Please choose a volunteer from the list.")
    try:
        return (visit_sheets.read_day(row.day.data or sheet_day, period), visit_sheets.read_clock(row.start.data),
                visit_sheets.read_clock(row.end.data))
    except DomainError as error:
        return str(error.message)


@bp.route("/key-in", methods=["GET", "POST"])
@allow(*WORKER)
def key_in():
    """A month's paper visit sheet keyed back in on one page (services/visit_sheets): one row per elder,
    keyboard only; nothing is written while a row that is not skipped has a problem."""
    session = db()
    now = utcnow()
    ids = _communities()
    period = _month_arg(now)
    community = bounded_int_arg("community")
    sheet = visit_sheets.sheet_rows(session, ids, period, assigned_to=bounded_int_arg("volunteer"),
                                    community=community if community in ids else None, open_only=False)
    # every elder the worker may key in this month, whichever sheet the rows came from
    reachable = {o.elder_id: o for o, _address in visit_sheets.sheet_rows(session, ids, period, open_only=False)}
    volunteers = session.scalars(select(VolunteerProfile).where(VolunteerProfile.community_id.in_(ids or [-1]),
                                                                VolunteerProfile.active)).all()
    ours = {v.person_id for v in volunteers}
    if request.method == "GET":
        form = SheetEntryForm(data={"rows": [
            {"elder_id": o.elder_id, "volunteer_id": str(o.assigned_to_id) if o.assigned_to_id in ours else ""}
            for o, _address in sheet[:SHEET_ROWS]]})
    else:
        form = SheetEntryForm()
    visitors = select_choices([("", "—")] + [(str(v.person_id), v.person.name) for v in volunteers])
    answers = {h.key: numbered_choices(h.choices) for h in HEADINGS}  # built in the request: translated
    for row in form.rows:
        row.form.volunteer_id.choices = visitors
        for key, choices in answers.items():
            getattr(row.form, key).choices = choices
    page = {"form": form, "period": period, "reachable": reachable, "problems": {}, "headings": HEADINGS}
    if request.method == "GET" or not form.validate_on_submit() and form.csrf_token.errors:
        return render_template("visits/key_in.html", **page)
    entries, problems = [], {}
    for number, row in enumerate((entry.form for entry in form.rows), start=1):
        if row.skip.data or (row.elder_id.data in reachable and not row.errors and _blank(row)):
            continue
        read = _read_row(row, reachable, form.day.data, period)
        if isinstance(read, str):
            problems[number] = read
            continue
        day, start, end = read
        entries.append(visit_sheets.SheetEntry(
            number, session.get(ElderProfile, row.elder_id.data), session.get(Person, int(row.volunteer_id.data)),
            _local(day, start), _local(day, end),
            {h.key: getattr(row, h.key).data for h in HEADINGS if getattr(row, h.key).data}))
    visits = []
    if not problems:
        visits, problems = visit_sheets.enter_sheet(session, current_user, entries, now,
                                                    public_url=current_app.config["LINLI_PUBLIC_URL"])
    if problems or not visits:
        session.rollback()
        if not problems:
            form.form_errors.append(_("Nothing was entered: fill in at least one row."))
        return render_template("visits/key_in.html", **{**page, "problems": problems})
    for visit in visits:
        audit.record(session, current_user.id, "create", "visit", visit.id, elder_id=visit.elder_id, ip=client_ip(),
                     via="paper_sheet", period=period)
    audit.record(session, current_user.id, "create", "visit_sheet", period, ip=client_ip(), visits=len(visits),
                 skipped=sum(1 for entry in form.rows if entry.form.skip.data))
    commit()
    flash(_("%(count)s visits from the paper sheet are recorded. Each elder will be asked to confirm hers.",
            count=len(visits)))
    return redirect(url_for("visits_worker.index"), code=303)
