"""The time bank on the web: balance and history, the monthly statement, gifts, paying with credits,
and the officer's view of what the communities owe."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow, signed_in
from portal.clock import local_tz
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area, ElderProfile, Visit
from portal.policy import policy
from portal.services import DomainError, ledger, spending, statements
from portal.services.audit import record as audit
from portal.services.scope import staff_community_ids
from portal.web import client_ip, commit, db
from portal.web.forms import GiftForm, PoolAllocationForm, select_choices, show_error

bp = Blueprint("timebank", __name__, url_prefix="/time-bank")


def _gift_form() -> GiftForm:
    """The gift form, offering the giver's approved relatives and the community donation pool."""
    form = GiftForm()
    relatives = ledger.relatives_of(db(), current_user.id)
    form.recipient.choices = select_choices([(str(person.id), person.name) for person in relatives]
                                            + [("pool", _("The community donation pool"))])
    return form


def _gift_page(form: GiftForm):
    """The first step, with what was typed and every error (status 200: htmx swaps no 4xx)."""
    return render_template("timebank/gift.html", balance=ledger.balance_of(db(), current_user.id), form=form)


def _refused(form: GiftForm, error: DomainError):
    show_error(form, error)
    return _gift_page(form)


@bp.route("/")
@signed_in
def home():
    session = db()
    now = utcnow().astimezone(local_tz())
    return render_template("timebank/home.html", balance=ledger.balance_of(session, current_user.id),
                           rows=list(reversed(statements.history(session, current_user.id)))[:100],
                           year=now.year, month=now.month)


@bp.route("/statement/<int:year>/<int:month>")
@signed_in
def statement(year: int, month: int):
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        abort(404)
    # a printable statement is an export of the person's account: always audited (her elder id, when
    # she is an elder, found by the INSERT itself), and committed with the reads, before the page
    audit(db(), current_user.id, "print", "time_statement", f"{year}-{month:02d}",
          elder_id=select(ElderProfile.person_id).where(ElderProfile.person_id == current_user.id)
          .scalar_subquery(), ip=client_ip())
    statement_ = statements.monthly_statement(db(), current_user.id, year, month)
    commit()
    before, after = statements.adjacent_months(year, month)
    now = utcnow().astimezone(local_tz())
    return render_template("timebank/statement.html", person=current_user,
                           statement=statement_,
                           before=before if before[0] >= 2000 else None,
                           after=after if after <= (now.year, now.month) else None,
                           storage_cap_hours=policy()["time_bank"].get("storage_cap_minutes", 90_000) // 60)


@bp.route("/gift", methods=["GET", "POST"])
@signed_in
def gift():
    """Step 1: choose whom and how much. Posting shows the check page; nothing is moved yet."""
    form = _gift_form()
    if not form.validate_on_submit():
        return _gift_page(form)
    try:
        plan = ledger.plan_gift(db(), current_user, form.recipient.data, form.amount.data)
    except DomainError as error:
        return _refused(form, error)
    return render_template("timebank/gift_check.html", plan=plan, form=form)


@bp.route("/gift/confirm", methods=["POST"])
@signed_in
def gift_confirm():
    """Step 2: the giver confirmed on the check page."""
    session = db()
    form = _gift_form()
    if not form.validate_on_submit():
        return _gift_page(form)
    try:
        transfer = ledger.give(session, current_user, form.recipient.data, form.amount.data, utcnow())
    except DomainError as error:
        session.rollback()
        return _refused(form, error)
    name = transfer.to_account.person.name if transfer.to_account.person else _("the community donation pool")
    commit()
    flash(_("You gave %(minutes)s minutes to %(name)s.", minutes=transfer.amount, name=name))
    return redirect(url_for("timebank.home"), code=303)


@bp.route("/pay/<int:visit_id>", methods=["POST"])
@signed_in
def pay(visit_id: int):
    """Pay a visit to oneself (from the redemption age) or to a linked relative with credits."""
    session = db()
    visit = session.get(Visit, visit_id)
    if visit is None or not (visit.elder_id == current_user.id or ledger.are_relatives(session, current_user.id,
                                                                                       visit.elder_id)):
        abort(404)
    try:
        ledger.choose_to_pay(session, current_user, visit, utcnow())
    except DomainError as error:
        session.rollback()
        flash(str(error.message))
        return redirect(url_for("timebank.home"), code=303)
    commit()
    flash(_("This visit will be paid from your minutes when it is confirmed."))
    return redirect(url_for("timebank.home"), code=303)


@bp.route("/outstanding")
@allow("officer", "admin")
def outstanding():
    session = db()
    community_ids = staff_community_ids(session, current_user)
    bands = statements.outstanding_by_age_band(session, community_ids, utcnow().astimezone(local_tz()).date())
    totals = statements.community_totals(session, community_ids)
    names = {a.id: a.name for a in session.query(Area).filter(Area.id.in_(community_ids or [-1]))}
    return render_template("timebank/outstanding.html", bands=bands, totals=totals, names=names)


# ---------------------------------------------------------------- the community donation pool

def _pool_page(form: PoolAllocationForm | None):
    session = db()
    community_ids = staff_community_ids(session, current_user)
    return render_template("timebank/pool.html", pools=spending.pool_overview(session, community_ids),
                           form=form, back_url=url_for("worker.home") if current_user.has_role("worker")
                           else url_for("officer.home"))


def _allocation_form() -> PoolAllocationForm:
    """Only a worker allocates, and only to special-hardship elders of her own communities."""
    form = PoolAllocationForm()
    elders = spending.pool_elders(db(), staff_community_ids(db(), current_user))
    form.elder.choices = select_choices([(profile.person_id, f"{profile.person.name} · {profile.address or ''}")
                                         for profile in elders])
    return form


@bp.route("/pool")
@allow("worker", "officer", "admin")
def pool():
    """The donation pool of each community in scope: its balance and what was allocated, to whom."""
    return _pool_page(_allocation_form() if current_user.has_role("worker") else None)


@bp.route("/pool/allocate", methods=["POST"])
@allow("worker")
def allocate():
    session = db()
    form = _allocation_form()
    if not form.validate_on_submit():
        return _pool_page(form)
    try:
        transfer = spending.allocate(session, current_user, form.elder.data, form.amount.data, form.reason.data,
                                     utcnow())
    except LookupError:
        session.rollback()
        abort(404)
    except DomainError as error:
        session.rollback()
        show_error(form, error)
        return _pool_page(form)
    audit(session, current_user.id, "allocate", "time_bank_pool", transfer.id, elder_id=form.elder.data,
          ip=client_ip(), minutes=transfer.amount)
    name = transfer.to_account.person.name
    commit()
    flash(_("%(minutes)s minutes from the pool went to %(name)s.", minutes=transfer.amount, name=name))
    return redirect(url_for("timebank.pool"), code=303)
