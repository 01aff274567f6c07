"""Login by phone number and a one-time SMS code; staff add a password."""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal.access import public, signed_in
from portal.db import utcnow
from portal.i18n import _
from portal.models import Person
from portal.services import DomainError, audit
from portal.services.login import check_password, request_code, verify_code
from portal.services.phones import normalize_phone
from portal.web import client_ip, commit, db, safe_path
from portal.web.forms import CodeForm, PasswordForm, PhoneForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    return safe_path(target)


# A login left half-way (code checked, password not yet given) is forgotten after this long.
PENDING_LOGIN_SECONDS = 5 * 60


def _binding() -> str:
    """What a session is bound to: the client address as the trusted proxy hops report it (never a
    header the client writes itself) and the browser's user agent."""
    raw = f"{client_ip()}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def session_is_current(cookie_session, person: Person) -> bool:
    """The signed-in session is still valid: same session version (no logout, role or phone change
    since) and same client binding."""
    return (cookie_session.get("sv") == (person.session_version or 0)
            and hmac.compare_digest(str(cookie_session.get("bind", "")), _binding()))


def keep_current_session(person: Person) -> None:
    """After a change the person made themselves (a role their own request gave them), this session
    goes on; every other one has ended."""
    session["sv"] = person.session_version or 0


def _pending(key: str):
    """A step of a login in progress, or None when there is none or it is older than a few minutes."""
    started = session.get("login_started")
    if not isinstance(started, (int, float)) or utcnow().timestamp() - started > PENDING_LOGIN_SECONDS:
        for stale in ("login_phone", "pending_login", "login_started"):
            session.pop(stale, None)
        return None
    return session.get(key)


def _finish_login(person: Person):
    session.pop("login_phone", None)
    session.pop("pending_login", None)
    session.pop("login_started", None)
    next_url = _safe_next(session.pop("login_next", None))
    login_user(person)
    session["sv"] = person.session_version or 0
    session["bind"] = _binding()
    audit.record(db(), person.id, "login", "person", person.id, ip=client_ip())
    commit()
    return redirect(next_url or url_for("main.home"), code=303)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = PhoneForm()
    if request.method == "GET" and request.args.get("next"):
        session["login_next"] = request.args["next"]
    if form.validate_on_submit():
        limiter = current_app.extensions["linli"].limiter
        try:
            phone = normalize_phone(form.phone.data, current_app.config["LINLI_DEFAULT_REGION"])
            request_code(db(), limiter, phone, client_ip(), utcnow())
        except DomainError as error:
            form.phone.errors.append(str(error.message))
            db().rollback()
            return render_template("auth/login.html", form=form)
        commit()
        session["login_phone"] = phone
        session["login_started"] = utcnow().timestamp()
        return redirect(url_for("auth.code"), code=303)
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@public
def code():
    phone = _pending("login_phone")
    if not phone:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        limiter = current_app.extensions["linli"].limiter
        try:
            person = verify_code(db(), limiter, phone, form.code.data, utcnow())
        except DomainError as error:
            commit()  # keep the counted try
            form.code.errors.append(str(error.message))
            return render_template("auth/code.html", form=form, phone=phone)
        if person.is_staff():
            commit()
            session["pending_login"] = person.id
            return redirect(url_for("auth.password"), code=303)
        return _finish_login(person)
    return render_template("auth/code.html", form=form, phone=phone)


@bp.route("/login/password", methods=["GET", "POST"])
@public
def password():
    person_id = _pending("pending_login")
    person = db().get(Person, person_id) if isinstance(person_id, int) else None
    if person is None:
        return redirect(url_for("auth.login"))
    if person.password_hash is None:  # new staff, or a password an admin reset
        return redirect(url_for("staff_password.choose"), code=303)
    form = PasswordForm()
    if form.validate_on_submit():
        limiter = current_app.extensions["linli"].limiter
        if not limiter.hit(f"password:{person.id}", 5, 300):
            form.password.errors.append(_("Too many tries. Please wait five minutes."))
        elif check_password(person, form.password.data):
            return _finish_login(person)
        else:
            form.password.errors.append(_("That password is not right."))
    return render_template("auth/password.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    person = db().get(Person, current_user.id)
    person.end_sessions()  # every copy of this cookie, and every other session, ends here
    commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("main.index"), code=303)
