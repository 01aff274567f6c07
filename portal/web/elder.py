"""The elder's pages: big tiles, one question at a time."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import SERVICE_TYPES, ElderProfile, FamilyLink
from portal.services.people import decide_family_link, revoke_family_link
from portal.web import commit, db
from portal.web.forms import LinkDecisionForm

bp = Blueprint("elder", __name__, url_prefix="/elder")


def my_profile() -> ElderProfile:
    profile = db().get(ElderProfile, current_user.id)
    if profile is None:
        abort(404)
    return profile


@bp.route("/")
@allow("elder")
def home():
    return _home_page(LinkDecisionForm(formdata=None))


def _home_page(form: LinkDecisionForm):
    """The tiles and the links waiting for an answer; `form` carries the errors of a refused answer."""
    profile = my_profile()
    links = db().scalars(
        select(FamilyLink).where(FamilyLink.elder_id == profile.person_id,
                                 FamilyLink.status.in_(("pending", "approved")))
    ).all()
    return render_template("elder/home.html", profile=profile, services=SERVICE_TYPES,
                           pending_links=[link for link in links if link.status == "pending"],
                           approved_links=[link for link in links if link.status == "approved"], form=form)


@bp.route("/service/<service>")
@allow("elder")
def service(service: str):
    if service not in SERVICE_TYPES:
        abort(404)
    return render_template("elder/service.html", service=service, profile=my_profile())


@bp.route("/family-links/<int:link_id>", methods=["POST"])
@allow("elder")
def decide_link(link_id: int):
    link = db().get(FamilyLink, link_id)
    if link is None or link.elder_id != current_user.id or link.status == "revoked":
        abort(404)
    form = LinkDecisionForm()
    if not form.validate_on_submit():
        return _home_page(form)
    if form.decision.data == "revoke":
        revoke_family_link(db(), link, current_user, utcnow())
        commit()
        flash(_("Done. %(name)s can no longer order for you.", name=link.family.name))
        return redirect(url_for("elder.home"), code=303)
    if link.status != "pending":
        abort(404)
    approve = form.decision.data == "approve"
    decide_family_link(link, approve, current_user, utcnow())
    commit()
    flash(_("Thank you. %(name)s can now order for you.", name=link.family.name) if approve
          else _("You said no. %(name)s cannot order for you.", name=link.family.name))
    return redirect(url_for("elder.home"), code=303)
