"""A staff member without a password (new, or reset by an admin) chooses one right after their text code."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, session, url_for

from portal.access import public
from portal.models import Person
from portal.services import DomainError
from portal.services.staff import choose_first_password
from portal.web import db
from portal.web.admin_forms import FirstPasswordForm
from portal.web.auth import _finish_login

bp = Blueprint("staff_password", __name__)


@bp.route("/login/new-password", methods=["GET", "POST"])
@public  # reached only with a login in progress: the text code was right (session["pending_login"])
def choose():
    person_id = session.get("pending_login")
    person = db().get(Person, person_id) if person_id else None
    if person is None or person.password_hash is not None:
        return redirect(url_for("auth.login"))
    form = FirstPasswordForm()
    if form.validate_on_submit():
        try:
            choose_first_password(db(), person, form.password.data, form.confirmation.data)
        except DomainError as error:
            db().rollback()
            getattr(form, error.field or "password").errors.append(str(error.message))
            return render_template("admin/first_password.html", form=form)
        return _finish_login(person)  # commits the password with the login
    return render_template("admin/first_password.html", form=form)
