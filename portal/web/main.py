"""Landing page, role homes, health and the language / text-size switches."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.access import public, signed_in
from portal.i18n import SUPPORTED_LOCALES
from portal.web import commit, db, safe_path
from portal.web.forms import LanguageForm, TextSizeForm, select_choices
from portal.web.templating import TEXT_SIZES, role_homes

bp = Blueprint("main", __name__)
ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template("index.html")


@bp.route("/home")
@signed_in
def home():
    homes = role_homes()
    if not homes:
        return render_template("no_role.html")
    return redirect(url_for(homes[0][1]))


@bp.route("/healthz")
@public
def healthz():
    try:
        db().execute(text("SELECT 1"))
    except Exception:
        current_app.logger.warning("health check: database unreachable")
        return jsonify(status="error", db="unreachable"), 503
    return jsonify(status="ok", db="ok")


def _back(form):
    return redirect(safe_path(form.back.data) or url_for("main.index"), code=303)


# The switches sit in every page's header and post only their buttons' values: an answer that is
# not one of them changes nothing and goes back to the page (there is no form page to show again).
@bp.route("/settings/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    form.locale.choices = select_choices((locale, locale) for locale in SUPPORTED_LOCALES)
    valid = form.validate_on_submit()
    response = _back(form)
    if valid:
        locale = form.locale.data
        response.set_cookie("linli_lang", locale, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        if current_user.is_authenticated:
            current_user.locale = locale
            db().merge(current_user._get_current_object())
            commit()
    return response


@bp.route("/settings/text-size", methods=["POST"])
@public
def set_text_size():
    form = TextSizeForm()
    form.size.choices = select_choices((size, size) for size in TEXT_SIZES)
    valid = form.validate_on_submit()
    response = _back(form)
    if valid:
        response.set_cookie("linli_size", form.size.data, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response
