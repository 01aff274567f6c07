"""Bulk import of elders and volunteers from a community's sheet: upload, columns, preview, report."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.clock import local_tz
from portal.db import utcnow
from portal.i18n import _
from portal.models import Area, ImportBatch
from portal.services import DomainError
from portal.services.people_import import (
    FIELDS,
    ImportNotReady,
    apply_import,
    check_mapping,
    check_sheet,
    finish_batch,
    importer_community_ids,
    purge_stale_batches,
    remember_mapping,
    remembered_mapping,
    start_batch,
)
from portal.services.sheets import read_sheet
from portal.web import commit, db
from portal.web.admin_forms import ColumnMappingForm, ConfirmImportForm, UploadSheetForm
from portal.web.forms import select_choices

bp = Blueprint("people_import", __name__, url_prefix="/import")
IMPORTERS = ("worker", "admin")


def local_today():
    return utcnow().astimezone(local_tz()).date()


def _id_key() -> str:
    return current_app.config.get("LINLI_ID_NUMBER_KEY") or current_app.config["SECRET_KEY"]


def _communities() -> list[Area]:
    ids = importer_community_ids(db(), current_user)
    return list(db().scalars(select(Area).where(Area.id.in_(ids or [-1]), Area.retired_at.is_(None))
                             .order_by(Area.name)))


def _upload_page(form: UploadSheetForm):
    batches = db().scalars(select(ImportBatch).where(ImportBatch.created_by_id == current_user.id,
                                                     ImportBatch.status == "done")
                           .order_by(ImportBatch.id.desc()).limit(10)).all()
    return render_template("import/upload.html", form=form, batches=batches)


@bp.route("/", methods=["GET", "POST"])
@allow(*IMPORTERS)
def upload():
    form = UploadSheetForm()
    form.community_id.choices = select_choices((a.id, a.name) for a in _communities())
    if form.validate_on_submit():
        try:
            header, rows = read_sheet(form.sheet.data.read(), form.sheet.data.filename or "")
            batch = start_batch(db(), current_user, form.kind.data, form.community_id.data,
                                form.sheet.data.filename or "", header, rows, utcnow())
        except DomainError as error:
            db().rollback()
            getattr(form, error.field or "sheet", form.sheet).errors.append(str(error.message))
            return _upload_page(form)
        purge_stale_batches(db(), utcnow())
        commit()
        return redirect(url_for("people_import.columns", batch_id=batch.id), code=303)
    return _upload_page(form)


def batch_or_404(batch_id: int) -> ImportBatch:
    """The importer's own upload (nobody else's), or 404."""
    batch = db().get(ImportBatch, batch_id)
    if batch is None or batch.created_by_id != current_user.id:
        abort(404)
    return batch


def _mapping_form(batch: ImportBatch, formdata=True) -> ColumnMappingForm:
    saved = remembered_mapping(db(), batch.community_id, batch.kind, batch.header)
    form = ColumnMappingForm() if formdata else ColumnMappingForm(formdata=None, data=saved)
    choices = select_choices([("", _("— not in this sheet —"))] + [(title, title) for title in batch.header if title])
    for key in FIELDS[batch.kind]:
        getattr(form, key).choices = choices
    for key in set(FIELDS["elders"]) | set(FIELDS["volunteers"]):
        if key not in FIELDS[batch.kind]:
            delattr(form, key)
    return form


@bp.route("/<int:batch_id>/columns", methods=["GET", "POST"])
@allow(*IMPORTERS)
def columns(batch_id: int):
    batch = batch_or_404(batch_id)
    if batch.status != "uploaded":
        return redirect(url_for("people_import.done", batch_id=batch.id))
    form = _mapping_form(batch, formdata=True) if ColumnMappingForm().is_submitted() else _mapping_form(batch, False)
    problems = []
    if form.validate_on_submit():
        chosen = {key: getattr(form, key).data for key in FIELDS[batch.kind] if getattr(form, key).data}
        problems = check_mapping(batch.kind, batch.header, chosen)
        if not problems:
            remember_mapping(db(), batch.community_id, batch.kind, chosen)
            commit()
            return redirect(url_for("people_import.preview", batch_id=batch.id), code=303)
    return render_template("import/columns.html", form=form, batch=batch, fields=FIELDS[batch.kind],
                           problems=[str(p) for p in problems])


def _checks(batch: ImportBatch):
    mapping = remembered_mapping(db(), batch.community_id, batch.kind, batch.header)
    if check_mapping(batch.kind, batch.header, mapping):
        return None
    return check_sheet(db(), current_user, batch.kind, batch.header, batch.rows or [], mapping,
                       batch.community_id, local_today(), _id_key(), current_app.config["LINLI_DEFAULT_REGION"])


def _preview_page(batch, checks, form, error=None):
    counts = {action: sum(1 for c in checks if c.action == action) for action in ("create", "update", "unchanged")}
    bad = [c for c in checks if c.problems]
    return render_template("import/preview.html", batch=batch, bad=bad, counts=counts, total=len(checks),
                           form=form, error=error, skipped=set(form.skip.data or []))


@bp.route("/<int:batch_id>/preview", methods=["GET", "POST"])
@allow(*IMPORTERS)
def preview(batch_id: int):
    batch = batch_or_404(batch_id)
    if batch.status != "uploaded":  # a second click after the import: the report, nothing written twice
        return redirect(url_for("people_import.done", batch_id=batch.id), code=303)
    checks = _checks(batch)
    if checks is None:
        return redirect(url_for("people_import.columns", batch_id=batch.id))
    form = ConfirmImportForm()
    form.skip.choices = select_choices((c.number, str(c.number)) for c in checks if c.problems)
    if form.validate_on_submit():
        try:
            result = apply_import(db(), current_user, batch.kind, checks, set(form.skip.data or []), local_today(),
                                  current_app.config["LINLI_DEFAULT_REGION"])
        except ImportNotReady as error:
            db().rollback()
            return _preview_page(batch, checks, form, error=str(error.message))
        finish_batch(batch, result, utcnow())
        commit()
        return redirect(url_for("people_import.done", batch_id=batch.id), code=303)
    return _preview_page(batch, checks, form, error=_("Please tick rows from the list.") if form.errors else None)


@bp.route("/<int:batch_id>/done")
@allow(*IMPORTERS)
def done(batch_id: int):
    batch = batch_or_404(batch_id)
    if batch.status != "done":
        return redirect(url_for("people_import.preview", batch_id=batch.id))
    return render_template("import/report.html", batch=batch)
