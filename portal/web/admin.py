"""Administrators: the area tree (add, rename, retire) and staff (create, reset password, move, retire)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area
from portal.services import DomainError
from portal.services.areas import create_area, rename_area, restore_area, retire_area
from portal.services.scope import admin_area_filter, admin_governs
from portal.web import commit, db
from portal.web.admin_forms import AreaForm, ConfirmForm, RenameAreaForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = ("admin",)


def area_or_404(area_id: int) -> Area:
    """The area, or 404 when the admin does not govern it (no hint that it exists)."""
    area = db().get(Area, area_id)
    if area is None or not admin_governs(db(), current_user, area):
        abort(404)
    return area


def all_areas() -> list[Area]:
    """The areas this admin governs, in tree order."""
    return list(db().scalars(select(Area).where(admin_area_filter(db(), current_user)).order_by(Area.path)))


def _area_form() -> AreaForm:
    form = AreaForm(prefix="new")
    top = [(0, _("— none: a new district —"))] if admin_governs(db(), current_user, None) else []
    form.parent_id.choices = top + [
        (area.id, "　" * (area.path.count("/") - 2) + area.name)
        for area in all_areas() if area.level != "community" and area.retired_at is None]
    return form


def _areas_page(form: AreaForm | None = None, rename: RenameAreaForm | None = None, rename_id: int | None = None,
                error: str | None = None):
    return render_template("admin/areas.html", areas=all_areas(), form=form or _area_form(),
                           rename=rename, rename_id=rename_id, error=error, confirm=ConfirmForm())


@bp.route("/")
@allow(*ADMIN)
def home():
    return redirect(url_for("admin.areas"))


@bp.route("/areas")
@allow(*ADMIN)
def areas():
    return _areas_page()


@bp.route("/areas/new", methods=["POST"])
@allow(*ADMIN)
def new_area():
    form = _area_form()
    if form.validate_on_submit():
        try:
            area = create_area(db(), current_user.id, form.name.data, form.parent_id.data or None, form.hotline.data)
        except DomainError as error:
            db().rollback()
            getattr(form, error.field or "name", form.name).errors.append(str(error.message))
            return _areas_page(form=form)
        commit()
        flash(_("%(name)s was added.", name=area.name))
        return redirect(url_for("admin.areas"), code=303)
    return _areas_page(form=form)


@bp.route("/areas/<int:area_id>/rename", methods=["POST"])
@allow(*ADMIN)
def rename(area_id: int):
    area = area_or_404(area_id)
    form = RenameAreaForm(prefix=f"rename-{area.id}")
    if form.validate_on_submit():
        try:
            rename_area(db(), current_user.id, area, form.name.data)
        except DomainError as error:
            db().rollback()
            form.name.errors.append(str(error.message))
            return _areas_page(rename=form, rename_id=area_id)
        commit()
        flash(_("The area is now called %(name)s.", name=area.name))
        return redirect(url_for("admin.areas"), code=303)
    return _areas_page(rename=form, rename_id=area_id)


@bp.route("/areas/<int:area_id>/retire", methods=["POST"])
@allow(*ADMIN)
def retire(area_id: int):
    area = area_or_404(area_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        retire_area(db(), current_user.id, area, utcnow())
    except DomainError as error:
        db().rollback()
        return _areas_page(error=str(error.message))
    commit()
    flash(_("%(name)s is retired. Its history is kept.", name=area.name))
    return redirect(url_for("admin.areas"), code=303)


@bp.route("/areas/<int:area_id>/restore", methods=["POST"])
@allow(*ADMIN)
def restore(area_id: int):
    area = area_or_404(area_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    restore_area(db(), current_user.id, area)
    commit()
    flash(_("%(name)s is in use again.", name=area.name))
    return redirect(url_for("admin.areas"), code=303)
