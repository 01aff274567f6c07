"""Administrators: the area tree (add, rename, retire) and staff (create, reset password, move, retire)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import labels
from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area, Person, RoleGrant
from portal.services import DomainError
from portal.services.areas import create_area, rename_area, restore_area, retire_area
from portal.services.scope import admin_area_filter, admin_governs
from portal.services.staff import (
    STAFF_KINDS,
    create_staff,
    governs_person,
    move_staff,
    reset_staff_password,
    retire_staff,
    staff_in_scope,
)
from portal.web import commit, db
from portal.web.admin_forms import AreaForm, ConfirmForm, MoveStaffForm, RenameAreaForm, StaffForm
from portal.web.forms import select_choices

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


def indented(area: Area) -> str:
    """The area's name, indented by its depth in the tree (for lists of choices)."""
    return "　" * (area.path.count("/") - 2) + area.name


def _area_form() -> AreaForm:
    form = AreaForm(prefix="new")
    top = [(0, _("— none: a new district —"))] if admin_governs(db(), current_user, None) else []
    form.parent_id.choices = select_choices(top + [(area.id, indented(area)) for area in all_areas()
                                                   if area.level != "community" and area.retired_at is None])
    return form


def _areas_page(form: AreaForm | None = None, rename: RenameAreaForm | None = None, rename_id: int | None = None,
                error: str | None = None):
    return render_template("admin/areas.html", areas=all_areas(), indented=indented, form=form or _area_form(),
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


def area_names() -> dict[int, str]:
    return dict(db().execute(select(Area.id, Area.name)).all())


def describe_staff(person: Person, area_names: dict[int, str]) -> dict:
    """Their staff roles and areas as text, for the lists."""
    grants = [g for g in person.grants if g.role in STAFF_KINDS]
    return {
        "person": person,
        "roles": "、".join(str(labels.ROLE_LABELS[r]) for r in sorted({g.role for g in grants})),
        "areas": "、".join(area_names.get(a, "") for a in sorted({g.area_id for g in grants if g.area_id})),
    }


def _area_choices():
    return select_choices((area.id, indented(area)) for area in all_areas() if area.retired_at is None)


def _staff_page(form: StaffForm | None = None):
    if form is None:
        form = StaffForm()
        form.area_ids.choices = _area_choices()
    people = db().scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role.in_(STAFF_KINDS)).order_by(Person.name, Person.id)
    ).unique()
    names = area_names()
    staff = [describe_staff(p, names) for p in people if governs_person(db(), current_user, p)]
    return render_template("admin/staff.html", staff=staff, form=form)


@bp.route("/staff")
@allow(*ADMIN)
def staff():
    return _staff_page()


@bp.route("/staff/new", methods=["POST"])
@allow(*ADMIN)
def new_staff():
    form = StaffForm()
    form.area_ids.choices = _area_choices()
    if form.validate_on_submit():
        try:
            person = create_staff(db(), current_user, form.name.data, form.phone.data, form.role.data,
                                  form.area_ids.data, region=current_app.config["LINLI_DEFAULT_REGION"])
        except DomainError as error:
            db().rollback()
            getattr(form, error.field or "name", form.name).errors.append(str(error.message))
            return _staff_page(form)
        commit()
        flash(_("%(name)s can now sign in with a text code and will choose a password.", name=person.name))
        return redirect(url_for("admin.staff"), code=303)
    return _staff_page(form)


def staff_or_404(person_id: int) -> Person:
    person = staff_in_scope(db(), current_user, person_id)
    if person is None:
        abort(404)
    return person


def _member_page(person: Person, form: MoveStaffForm | None = None):
    if form is None:
        form = MoveStaffForm(data={"area_ids": [g.area_id for g in person.grants if g.role in STAFF_KINDS]})
        form.area_ids.choices = _area_choices()
    names = area_names()
    return render_template("admin/staff_member.html", member=describe_staff(person, names), person=person, form=form)


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@allow(*ADMIN)
def staff_member(staff_id: int):
    person = staff_or_404(staff_id)
    form = MoveStaffForm()
    form.area_ids.choices = _area_choices()
    if form.validate_on_submit():
        try:
            move_staff(db(), current_user, person, form.area_ids.data)
        except DomainError as error:
            db().rollback()
            form.area_ids.errors.append(str(error.message))
            return _member_page(person, form)
        commit()
        flash(_("The areas of %(name)s were changed.", name=person.name))
        return redirect(url_for("admin.staff_member", staff_id=person.id), code=303)
    if form.is_submitted():
        return _member_page(person, form)
    return _member_page(person)


@bp.route("/staff/<int:staff_id>/reset-password", methods=["POST"])
@allow(*ADMIN)
def reset_password(staff_id: int):
    person = staff_or_404(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    reset_staff_password(db(), current_user, person)
    commit()
    flash(_("The password of %(name)s is reset: at the next sign-in, after the text code, they choose a new one.",
            name=person.name))
    return redirect(url_for("admin.staff_member", staff_id=person.id), code=303)


@bp.route("/staff/<int:staff_id>/retire", methods=["POST"])
@allow(*ADMIN)
def retire_member(staff_id: int):
    person = staff_or_404(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    retire_staff(db(), current_user, person)
    commit()
    flash(_("%(name)s is no longer a member of staff.", name=person.name))
    return redirect(url_for("admin.staff"), code=303)
