"""Landing page, role homes, health and the language / text-size switches."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.access import public, signed_in
from portal.i18n import SUPPORTED_LOCALES
from portal.web import commit, db
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


def _back():
    target = request.form.get("back") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    return redirect(target, code=303)


@bp.route("/settings/language", methods=["POST"])
@public
def set_language():
    locale = request.form.get("locale")
    response = _back()
    if locale in SUPPORTED_LOCALES:
        response.set_cookie("linli_lang", locale, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        if current_user.is_authenticated:
            current_user.locale = locale
            db().merge(current_user._get_current_object())
            commit()
    return response


@bp.route("/settings/text-size", methods=["POST"])
@public
def set_text_size():
    size = request.form.get("size")
    response = _back()
    if size in TEXT_SIZES:
        response.set_cookie("linli_size", size, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response
