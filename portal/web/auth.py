"""Login by phone number and a one-time SMS code; staff add a password."""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portal.access import public, signed_in
from portal.db import utcnow
from portal.i18n import _
from portal.models import ElderProfile, Person, RoleGrant
from portal.services import DomainError, audit
from portal.services.inbox import with_elder_hotline
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
    return _version_is_current(cookie_session, person.session_version)


def _version_is_current(cookie_session, version: int | None) -> bool:
    return (cookie_session.get("sv") == (version or 0)
            and hmac.compare_digest(str(cookie_session.get("bind", "")), _binding()))


def _remember_person(person: Person) -> None:
    """The signed session carries the person's version and role grants, so a signed-in page checks
    one small row instead of loading the person and their grants (two queries) every time. Every
    change of a grant bumps the version (models.people), so the grants here are never stale."""
    session["sv"] = person.session_version or 0
    session["grants"] = [[grant.id, grant.role, grant.area_id] for grant in person.grants]


def signed_in_person(db_session, person_id: int):
    """The signed-in person for this request, or None when the session has ended (version bumped by
    a logout, a role or phone change; deactivated; another client). One query: the version row."""
    grants = session.get("grants")
    query = select(Person.session_version, Person.active, Person.locale).where(Person.id == person_id)
    elder = isinstance(grants, list) and any(grant[1:2] == ["elder"] for grant in grants if isinstance(grant, list))
    if elder:  # an elder's every page shows her community hotline and most read her profile: both with this row
        query = with_elder_hotline(query, Person.id).add_columns(ElderProfile)
    row = db_session.execute(query).first()
    if row is None or not row.active or not _version_is_current(session, row.session_version):
        return None
    if elder:
        g.linli_hotline_columns = tuple(row[3:8])
        g.linli_elder_profile = row[8]  # held for the request: the session's identity map holds it weakly
    known = db_session.identity_map.get(identity_key(Person, person_id))
    if known is not None:  # loaded already (with her profile above, or by a page that looked people up first)
        if isinstance(grants, list) and "grants" not in known.__dict__:
            _attach_grants(db_session, known, grants)
        return known
    if not isinstance(grants, list):  # a session from before the grants rode in it
        person = db_session.get(Person, person_id)
        _remember_person(person)
        return person
    person = Person(id=person_id, active=row.active, session_version=row.session_version, locale=row.locale)
    make_transient_to_detached(person)  # as if loaded: the other columns load only if a page asks
    db_session.add(person)
    _attach_grants(db_session, person, grants)
    return person


def _attach_grants(db_session, person: Person, grants: list) -> None:
    """The role grants the signed session carries, as if loaded with `person` (its version was just
    checked, and every change of a grant bumps it)."""
    loaded = []
    for grant_id, role, area_id in grants:
        grant = db_session.identity_map.get(identity_key(RoleGrant, grant_id))
        if grant is None:
            grant = RoleGrant(id=grant_id, person_id=person.id, role=role, area_id=area_id)
            make_transient_to_detached(grant)
            db_session.add(grant)
        set_committed_value(grant, "person", person)
        loaded.append(grant)
    set_committed_value(person, "grants", loaded)


def keep_current_session(person: Person) -> None:
    """After a change the person made themselves (a role their own request gave them), this session
    goes on; every other one has ended."""
    _remember_person(person)


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
    _remember_person(person)
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
