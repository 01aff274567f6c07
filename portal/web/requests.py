"""Elders and family members: the request conversation on the web, status, undo, refuse, confirm, 助急."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import formatting, labels
from portal.access import allow, signed_in
from portal.clock import local_tz
from portal.conversation import engine, slots
from portal.conversation.engine import CHECK, FLOWS, RELATIVE_DAYS, NoMatch
from portal.conversation.flows import REQUEST_FLOW
from portal.db import utcnow
from portal.i18n import _
from portal.models import ElderProfile, ServiceRequest
from portal.policy import policy
from portal.services import DomainError, emergencies, spending
from portal.services import requests as service_requests
from portal.services.audit import record as audit
from portal.web import bounded_int_arg, client_ip, commit, db, render_page, wants_partial
from portal.web.forms import DecisionForm, RatingForm, StepForm

bp = Blueprint("requests", __name__, url_prefix="/requests")


def _state():
    return engine.load(db(), current_user, "web", utcnow(), adopt=current_user.has_role("elder"))


def _for_whom(state) -> ElderProfile | None:
    return db().get(ElderProfile, state.data.get("_elder_id") or current_user.id)


def _found(reference: str) -> ServiceRequest:
    found = service_requests.by_reference(db(), reference)
    if found is None or not service_requests.may_view(db(), current_user, found):
        abort(404)
    return found


@bp.app_context_processor
def _helpers():
    def my_requests(limit: int = 5):
        if not current_user.is_authenticated:
            return []
        return db().scalars(select(ServiceRequest).where(ServiceRequest.elder_id == current_user.id)
                            .order_by(ServiceRequest.created_at.desc()).limit(limit)).all()

    def ordered_by_me(limit: int = 10):
        if not current_user.is_authenticated:
            return []
        return db().scalars(select(ServiceRequest).where(ServiceRequest.placed_by_id == current_user.id,
                                                         ServiceRequest.elder_id != current_user.id)
                            .order_by(ServiceRequest.created_at.desc()).limit(limit)).all()

    def emergency_state(req: ServiceRequest):
        return emergencies.state_of(db(), req)

    def elder_emergencies(elder_id: int):
        """For a family member with an approved link: the elder's emergencies of the past week."""
        if not current_user.is_authenticated or not service_requests.approved_family(db(), current_user, elder_id):
            return []
        return emergencies.recent_for_elder(db(), elder_id, utcnow())

    def request_state(req: ServiceRequest) -> str:
        """What a request's state reads as on every page: an emergency's own state (help called, who is
        on the way, closed with what happened, called off), never an ordinary request's "waiting for a
        volunteer"."""
        if req.service != "emergency":
            return str(labels.REQUEST_STATUS_LABELS[req.status])
        state = emergencies.state_of(db(), req)
        colon = ": " if str(get_locale()).startswith("en") else "："
        text = str(labels.EMERGENCY_STATE_LABELS[state.state])
        if state.state == "coming" and state.responder_name:
            text += colon + state.responder_name
        elif state.state == "resolved" and state.outcome:
            text += colon + str(labels.EMERGENCY_OUTCOME_LABELS[state.outcome])
        return text

    return {"my_requests": my_requests, "ordered_by_me": ordered_by_me, "request_flow": FLOWS[REQUEST_FLOW],
            "emergency_state": emergency_state, "elder_emergencies": elder_emergencies,
            "request_state": request_state}


@bp.route("/new")
@allow("elder", "family")
def new():
    """Start the request conversation (an elder for themself, a family member for a linked elder)."""
    now = utcnow()
    data = {}
    elder_id = bounded_int_arg("elder")
    if elder_id and elder_id != current_user.id:
        if not service_requests.approved_family(db(), current_user, elder_id):
            return render_template("requests/refused.html"), 403
        data["_elder_id"] = elder_id
    elif not current_user.has_role("elder") or db().get(ElderProfile, current_user.id) is None:
        abort(404)
    service = request.args.get("service")
    if service in service_requests.REQUESTABLE:
        data["service"] = service
    try:
        engine.begin(db(), current_user, "web", REQUEST_FLOW, now, data)
        commit()
    except IntegrityError:
        db().rollback()  # a concurrent copy of this tap started the same conversation: go on with it
    return redirect(url_for("requests.step"), code=303)


@bp.route("/step", methods=["GET", "POST"])
@allow("elder", "family")
def step():
    state = _state()
    if state is None:
        flash(_("That request was not finished in time. Please start again."))
        return redirect(url_for("requests.new") if current_user.has_role("elder") else url_for("family.home"), code=303)
    flow = FLOWS[state.flow]
    wanted = request.args.get("step")
    if request.method == "GET" and wanted and wanted != state.step:
        engine.go_to(db(), state, wanted, utcnow())
        commit()
    if state.step == CHECK:
        return redirect(url_for("requests.check"), code=303)
    form = StepForm()
    if form.validate_on_submit():
        other = form.other.data
        try:
            # a ticked tile posts its option's value; only typed text is read like a text message
            slots.answer(db(), state, other or form.answer.data, utcnow(), allow_free=True, by_value=not other)
        except NoMatch:
            form.answer.errors.append(_("Please choose one of the answers."))
        except DomainError as problem:
            form.answer.errors.append(str(problem.message))
        else:
            commit()
            target = url_for("requests.check") if state.step == CHECK else url_for("requests.step")
            if state.step != CHECK and wants_partial("conversation"):
                # htmx: swap the next question in place (and show its address), no second round trip
                html = render_template("requests/_step.html", form=StepForm(formdata=None),
                                       **_step_context(flow, state))
                return html, 200, {"HX-Push-Url": target}
            if state.step == CHECK and wants_partial("conversation"):
                # the check page is a page of its own (title, back link, address): load it whole
                return "", 200, {"HX-Redirect": target}
            return redirect(target, code=303)
        db().rollback()
        state = _state()
    back = engine.previous(flow, state)
    # an answer that does not fit is shown again with its error, status 200 (htmx swaps no 4xx)
    return render_page("requests/step.html", "requests/_step.html", "conversation", form=form,
                       back_url=url_for("requests.step", step=back) if back else _home_url(),
                       **_step_context(flow, state))


def _step_context(flow, state) -> dict:
    """The question, the options that can still be kept (no time that has passed), and the earlier
    answer: ticked when it is one of the options, in the typed field otherwise (修改 on the check page)."""
    now = utcnow()
    current = flow.steps[state.step]
    stored = state.data.get(current.name)
    options = slots.offered(state, now).options
    chosen, typed = stored, ""
    if stored and current.free == "date":
        today = now.astimezone(local_tz()).date()
        chosen = next((name for name, days in RELATIVE_DAYS.items()
                       if (today + timedelta(days=days)).isoformat() == stored), None)
        typed = "" if chosen else stored
    elif stored and current.free == "time" and all(o.value != stored for o in current.options):
        chosen, typed = None, stored
    elif stored and stored.startswith("note:"):
        chosen, typed = None, stored[5:]
    return {"state": state, "step": current, "options": options, "chosen": chosen, "typed": typed,
            "elder": _for_whom(state), "today": now.astimezone(local_tz()).date().isoformat()}


def _home_url() -> str:
    return url_for("elder.home") if current_user.has_role("elder") else url_for("family.home")


@bp.route("/check", methods=["GET", "POST"])
@allow("elder", "family")
def check():
    state = _state()
    if state is None:
        flash(_("That request was not finished in time. Please start again."))
        return redirect(_home_url(), code=303)
    flow = FLOWS[state.flow]
    if engine.first_open(flow, state.data) != CHECK:
        return redirect(url_for("requests.step"), code=303)
    if state.step != CHECK:
        engine.go_to(db(), state, CHECK, utcnow())
    form = DecisionForm()
    elder_id = state.data.get("_elder_id") or current_user.id
    today = utcnow().astimezone(local_tz()).date()
    if form.validate_on_submit():
        # 用时间支付: the one who orders may pay with her minutes (her own care from the redemption
        # age or with pool minutes a worker allocated to her; a relative's with her credit)
        pay = request.form.get("pay") == "minutes"
        try:
            if pay:
                spending.check_payer(db(), current_user, elder_id, today)
            reference = engine.finish(db(), current_user, state, utcnow())
            if pay:
                spending.pay_request_with_minutes(db(), current_user, service_requests.by_reference(db(), reference),
                                                  today)
        except DomainError as problem:
            db().rollback()
            form.form_errors.append(str(problem.message))
            state = _state()
        else:
            commit()
            return redirect(url_for("requests.placed", reference=reference), code=303)
    back = engine.previous(flow, state)
    return render_template("requests/check.html", state=state, rows=_check_rows(flow, state.data), form=form,
                           elder=_for_whom(state), back_url=url_for("requests.step", step=back),
                           minutes=spending.spendable_balance(db(), current_user, elder_id, today))


def _check_rows(flow, data: dict) -> list[tuple[str, str, str]]:
    """(step, what was asked, the answer as the person reads it): days in the one date style."""
    locale = str(get_locale() or "zh_Hans")
    return [(name, label, formatting.day(date.fromisoformat(data[name]), locale)
             if flow.steps[name].free == "date" and not data[name].startswith("note:") else value)
            for name, label, value in engine.summary(flow, data)]


@bp.route("/<reference>/placed")
@allow("elder", "family")
def placed(reference: str):
    found = _found(reference)
    return render_template("requests/placed.html", req=found, can_undo=_can_undo(found),
                           hotline_number=_hotline(found))


def _hotline(found: ServiceRequest) -> str:
    """The hotline of the request's community; for the elder's own community it was read with her
    session row (web.auth: the community and the hotlines up its tree), so no query."""
    columns = g.get("linli_hotline_columns")
    if columns is not None and columns[0] == found.community_id:
        nearest = columns[1] or columns[2] or columns[3]
        if nearest or columns[4] is None:  # found, or none set anywhere up the (three-level) tree
            return nearest or current_app.config["LINLI_HOTLINE"]
    return service_requests.hotline_for(db(), found.community_id, current_app.config["LINLI_HOTLINE"])


def _can_undo(found: ServiceRequest) -> bool:
    return (current_user.id in (found.placed_by_id, found.elder_id) and found.status in ("open", "accepted")
            and utcnow() - found.created_at <= timedelta(minutes=policy()["requests"]["undo_minutes"]))


@bp.route("/<reference>")
@signed_in
def status(reference: str):
    found = _found(reference)
    if current_user.id != found.elder_id:
        audit(db(), current_user.id, "view", "service_request", found.id, elder_id=found.elder_id, ip=client_ip())
        commit()
    return _status_page(found, RatingForm(formdata=None))


def _status_page(found: ServiceRequest, form: RatingForm):
    return render_page("requests/status.html", "requests/_timeline.html", "timeline", req=found, form=form,
                       can_undo=_can_undo(found), can_refuse=(current_user.id == found.elder_id
                                                              and service_requests.refusable(found, utcnow())),
                       hotline_number=_hotline(found))


def _act(reference: str, action) -> object:
    found = _found(reference)
    try:
        action(found)
    except DomainError as problem:
        db().rollback()
        flash(str(problem.message))
    else:
        commit()
    return redirect(url_for("requests.status", reference=reference), code=303)


@bp.route("/<reference>/cancel", methods=["POST"])
@allow("elder", "family")
def cancel(reference: str):
    def run(found):
        service_requests.cancel(db(), found, current_user, "web", utcnow())
        flash(_("Your request was cancelled."))
    return _act(reference, run)


@bp.route("/<reference>/refuse", methods=["POST"])
@allow("elder")
def refuse(reference: str):
    def run(found):
        service_requests.refuse(db(), found, current_user, "web", utcnow())
        flash(_("All right, it is cancelled. We told %(name)s.", name=found.placed_by.name))
    return _act(reference, run)


@bp.route("/<reference>/confirm", methods=["POST"])
@allow("elder")
def confirm(reference: str):
    form = RatingForm()
    if not form.validate_on_submit():
        return _status_page(_found(reference), form)

    def run(found):
        if form.rating.data:
            service_requests.rate(db(), found, current_user, form.rating.data, utcnow())
        else:
            service_requests.confirm(db(), found, current_user, "web", utcnow())
        flash(_("Thank you!"))
    return _act(reference, run)


@bp.route("/emergency", methods=["POST"])
@allow("elder")
def emergency():
    profile = db().get(ElderProfile, current_user.id)
    if profile is None:
        abort(404)
    found = emergencies.raise_alarm(db(), profile, "web", utcnow())
    commit()
    return redirect(url_for("requests.emergency_page", reference=found.reference), code=303)


@bp.route("/emergency/<reference>")
@allow("elder")
def emergency_page(reference: str):
    """Help is being called: who is coming, and for two minutes "按错了，取消"."""
    found = _found(reference)
    state = emergencies.state_of(db(), found)
    if state is None:
        return redirect(url_for("requests.status", reference=reference), code=303)
    page = render_template("requests/emergency.html", req=found, emergency=state, hotline_number=_hotline(found),
                           can_stand_down=found.elder_id == current_user.id
                           and emergencies.can_stand_down(state, utcnow()))
    commit()
    return page


@bp.route("/emergency/<reference>/stand-down", methods=["POST"])
@allow("elder")
def stand_down(reference: str):
    found = _found(reference)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            emergencies.stand_down(db(), found, current_user, utcnow())
        except DomainError as problem:
            db().rollback()
            flash(str(problem.message))
        else:
            commit()
            flash(_("It is called off. Everyone we told has been told it was a mistake."))
    return redirect(url_for("requests.emergency_page", reference=reference), code=303)
