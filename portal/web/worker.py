"""Community workers: elders, volunteers, family links, pairings and door cards — their own area only."""
from __future__ import annotations

import io
from datetime import date

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from portal import labels
from portal.access import allow
from portal.db import utcnow
from portal.i18n import _
from portal.models import (
    HARDSHIP_CATEGORIES,
    LIVING_SITUATIONS,
    Area,
    ElderProfile,
    FamilyLink,
    Pairing,
    Person,
    VolunteerProfile,
)
from portal.services import DomainError, audit, compliance, visit_records
from portal.services.door import door_token
from portal.services.door import reissue_card as reissue_door_card
from portal.services.outbox import failing_since
from portal.services.people import (
    decide_family_link,
    pair,
    revoke_family_link,
    save_elder,
    save_volunteer,
    verify_volunteer,
)
from portal.services.scope import staff_community_ids
from portal.web import client_ip, commit, db, governed_or_404, render_page, safe_path
from portal.web.forms import (
    DecisionForm,
    ElderForm,
    LinkDecisionForm,
    PairForm,
    SearchForm,
    VolunteerForm,
    select_choices,
    show_error,
)
from portal.web.names import person_choices

bp = Blueprint("worker", __name__, url_prefix="/worker")
PAGE_SIZE = 50
WORKER = ("worker", "admin")


def my_communities() -> list[Area]:
    ids = staff_community_ids(db(), current_user)
    if not ids:
        return []
    return list(db().scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.name)))


def elder_in_scope(elder_id: int) -> ElderProfile:
    """The elder, or 404 when they live outside the worker's area (no hint that they exist)."""
    return governed_or_404(db().get(ElderProfile, elder_id))


def _community_choices(communities):
    return select_choices((area.id, area.name) for area in communities)


@bp.route("/")
@allow(*WORKER)
def home():
    session = db()
    communities = my_communities()
    form = SearchForm(request.args)
    form.tier.choices = select_choices([("", _("All tiers")), *labels.TIER_LABELS.items()])
    form.living.choices = select_choices([("", _("All")), *labels.LIVING_LABELS.items()])
    form.community.choices = select_choices([("", _("All communities"))] + [(str(a.id), a.name) for a in communities])
    community_ids = [area.id for area in communities]
    query = select(ElderProfile).join(Person, Person.id == ElderProfile.person_id).where(
        ElderProfile.community_id.in_(community_ids or [-1])
    )
    # Control characters (NUL above all, which PostgreSQL refuses in text) never match a name.
    q = "".join(ch for ch in (form.q.data or "") if ch.isprintable()).strip()[:50]
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        conditions = [Person.name.contains(q, autoescape=True)]
        if digits and len(digits) >= 3:
            conditions.append(Person.phone.endswith(digits, autoescape=True))
        query = query.where(or_(*conditions))
    if form.tier.data in labels.TIER_LABELS:
        query = query.where(ElderProfile.care_tier == form.tier.data)
    if form.living.data in labels.LIVING_LABELS:
        query = query.where(ElderProfile.living_situation == form.living.data)
    if (form.community.data or "").isdigit() and int(form.community.data) in community_ids:
        query = query.where(ElderProfile.community_id == int(form.community.data))
    page = max(1, min(form.page.data or 1, 10_000))
    # the page and how many match in one query; the person joined for the order is the one shown
    found = session.execute(
        query.options(contains_eager(ElderProfile.person)).add_columns(func.count().over())
        .order_by(ElderProfile.care_tier, Person.name).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    elders = [profile for profile, _total in found]
    total = found[0][1] if found else session.scalar(select(func.count()).select_from(query.subquery()))
    pending_links = session.scalar(
        select(func.count(FamilyLink.id))
        .join(ElderProfile, ElderProfile.person_id == FamilyLink.elder_id)
        .where(FamilyLink.status == "pending", ElderProfile.community_id.in_(community_ids or [-1]))
    )
    return render_page(
        "worker/home.html", partial="worker/_elder_list.html", target="elder-list",
        form=form, elders=elders, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        communities=communities, pending_links=pending_links,
        messages_failing_since=failing_since(session, utcnow()),
    )


def _elder_form(profile: ElderProfile | None = None) -> ElderForm:
    form = ElderForm(obj=None)
    form.community_id.choices = _community_choices(my_communities())
    form.living_situation.choices = select_choices((k, labels.LIVING_LABELS[k]) for k in LIVING_SITUATIONS)
    form.hardship.choices = select_choices((k, labels.HARDSHIP_LABELS[k]) for k in HARDSHIP_CATEGORIES)
    form.ability_level.choices = select_choices(labels.ABILITY_LABELS.items())
    form.preferred_channel.choices = select_choices(labels.CHANNEL_LABELS.items())
    form.tier_override.choices = select_choices([("", _("No override (derived from the profile)")),
                                                 *labels.TIER_LABELS.items()])
    if profile is not None and request.method == "GET":
        person = profile.person
        form.name.data = person.name
        form.phone.data = person.phone
        form.community_id.data = profile.community_id
        form.address.data = profile.address
        form.birth_date.data = profile.birth_date
        form.gender.data = profile.gender
        form.living_situation.data = profile.living_situation
        form.hardship.data = profile.hardship
        form.ability_level.data = profile.ability_level
        form.severe_illness.data = profile.severe_illness
        form.preferred_channel.data = person.preferred_channel
        contact = (profile.emergency_contacts or [{}])[0]
        form.contact_name.data = contact.get("name")
        form.contact_phone.data = contact.get("phone")
        form.contact_relation.data = contact.get("relation")
        form.tier_override.data = profile.tier_override or ""
        form.tier_override_reason.data = profile.tier_override_reason
    return form


def _elder_data(form: ElderForm) -> dict:
    return {
        "name": form.name.data,
        "phone": form.phone.data,
        "community_id": form.community_id.data,
        "address": form.address.data,
        "birth_date": form.birth_date.data,
        "gender": form.gender.data,
        "living_situation": form.living_situation.data,
        "hardship": form.hardship.data,
        "ability_level": form.ability_level.data,
        "severe_illness": form.severe_illness.data,
        "preferred_channel": form.preferred_channel.data,
        "emergency_contacts": [
            {"name": form.contact_name.data, "phone": form.contact_phone.data, "relation": form.contact_relation.data}
        ],
        "tier_override": form.tier_override.data,
        "tier_override_reason": form.tier_override_reason.data,
        "add_role": form.add_role.data,
    }


def _save_elder_from(form: ElderForm, profile: ElderProfile | None):
    """Save a validated form; on a refusal put the error beside its field and return None."""
    try:
        return save_elder(db(), _elder_data(form), date.today(), profile=profile,
                          region=current_app.config["LINLI_DEFAULT_REGION"], actor=current_user)
    except DomainError as error:
        db().rollback()
        show_error(form, error, "name")
        return None


@bp.route("/elders/new", methods=["GET", "POST"])
@allow(*WORKER)
def new_elder():
    form = _elder_form()
    if form.validate_on_submit():
        profile = _save_elder_from(form, None)
        if profile is not None:
            # on the completion list at once, not at the next plan run
            compliance.plan_visits(db(), utcnow(), elder_ids=[profile.person_id])
            audit.record(db(), current_user.id, "create", "elder", profile.person_id, elder_id=profile.person_id,
                         ip=client_ip())
            commit()
            flash(_("%(name)s is registered. Print the door card next.", name=profile.person.name))
            return redirect(url_for("worker.elder", elder_id=profile.person_id), code=303)
    return render_template("worker/elder_form.html", form=form, profile=None)


@bp.route("/elders/<int:elder_id>")
@allow(*WORKER)
def elder(elder_id: int):
    profile = elder_in_scope(elder_id)
    audit.record(db(), current_user.id, "view", "elder", elder_id, elder_id=elder_id, ip=client_ip())
    commit()
    return _elder_page(profile, _pair_form(profile, formdata=None), LinkDecisionForm(formdata=None))


def _pair_form(profile: ElderProfile, **kwargs) -> PairForm:
    """Pairing offers (and accepts) the verified, active volunteers of the elder's community."""
    volunteers = db().scalars(
        select(VolunteerProfile).where(VolunteerProfile.community_id == profile.community_id,
                                       VolunteerProfile.active, VolunteerProfile.verified_at.is_not(None))
    ).all()
    form = PairForm(**kwargs)
    form.volunteer_id.choices = select_choices(person_choices(volunteers))
    return form


def _elder_page(profile: ElderProfile, pair_form: PairForm, decision: LinkDecisionForm):
    session = db()
    pairings = session.scalars(select(Pairing).where(Pairing.elder_id == profile.person_id, Pairing.active)).all()
    links = session.scalars(select(FamilyLink).where(FamilyLink.elder_id == profile.person_id)).all()
    return render_template("worker/elder.html", profile=profile, pairings=pairings, links=links,
                           pair_form=pair_form, decision=decision,
                           records=visit_records.trend(session, profile.person_id), record_headings=visit_records)


@bp.route("/elders/<int:elder_id>/edit", methods=["GET", "POST"])
@allow(*WORKER)
def edit_elder(elder_id: int):
    profile = elder_in_scope(elder_id)
    form = _elder_form(profile)
    if request.method == "GET":  # the form shows the whole record: a view like any other
        audit.record(db(), current_user.id, "view", "elder", elder_id, elder_id=elder_id, ip=client_ip())
        commit()
    if form.validate_on_submit() and _save_elder_from(form, profile) is not None:
        audit.record(db(), current_user.id, "update", "elder", elder_id, elder_id=elder_id, ip=client_ip())
        commit()
        flash(_("Saved."))
        return redirect(url_for("worker.elder", elder_id=elder_id), code=303)
    return render_template("worker/elder_form.html", form=form, profile=profile)


@bp.route("/elders/<int:elder_id>/card")
@allow(*WORKER)
def door_card(elder_id: int):
    profile = elder_in_scope(elder_id)
    token = door_token(current_app.config["SECRET_KEY"], profile)
    url = f"{current_app.config['LINLI_PUBLIC_URL']}/d/{token}"
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False, svgns=True)
    audit.record(db(), current_user.id, "print", "door_card", elder_id, elder_id=elder_id, ip=client_ip())
    commit()
    return render_template("worker/door_card.html", profile=profile, qr_svg=Markup(buffer.getvalue().decode()),
                           reissue=DecisionForm(formdata=None))


@bp.route("/elders/<int:elder_id>/card/reissue", methods=["POST"])
@allow(*WORKER)
def reissue_card(elder_id: int):
    """A lost or old card: a new code and token; the old card stops working at once."""
    profile = elder_in_scope(elder_id)
    if DecisionForm().validate_on_submit():
        reissue_door_card(db(), profile)
        audit.record(db(), current_user.id, "reissue", "door_card", elder_id, elder_id=elder_id, ip=client_ip())
        commit()
        flash(_("A new door card is ready. The old card and code no longer work."))
    return redirect(url_for("worker.door_card", elder_id=elder_id), code=303)


@bp.route("/elders/<int:elder_id>/pair", methods=["POST"])
@allow(*WORKER)
def pair_elder(elder_id: int):
    profile = elder_in_scope(elder_id)
    form = _pair_form(profile)
    if not form.validate_on_submit():
        return _elder_page(profile, form, LinkDecisionForm(formdata=None))
    volunteer = db().get(VolunteerProfile, form.volunteer_id.data)
    pair(db(), volunteer, profile, current_user)
    commit()
    flash(_("%(volunteer)s is paired with %(elder)s.", volunteer=volunteer.person.name, elder=profile.person.name))
    return redirect(url_for("worker.elder", elder_id=elder_id), code=303)


@bp.route("/volunteers")
@allow(*WORKER)
def volunteers():
    ids = staff_community_ids(db(), current_user)
    rows = db().scalars(
        select(VolunteerProfile).where(VolunteerProfile.community_id.in_(ids or [-1]))
        .order_by(VolunteerProfile.verified_at.is_not(None), VolunteerProfile.created_at.desc())
    ).all()
    return render_template("worker/volunteers.html", volunteers=rows, decision=DecisionForm())


@bp.route("/volunteers/new", methods=["GET", "POST"])
@allow(*WORKER)
def new_volunteer():
    form = VolunteerForm()
    form.community_id.choices = _community_choices(my_communities())
    form.services.choices = select_choices((k, v) for k, v in labels.SERVICE_LABELS.items() if k != "emergency")
    if form.validate_on_submit():
        try:
            data = {k: getattr(form, k).data
                    for k in ("name", "phone", "community_id", "services", "birth_date", "add_role")}
            profile = save_volunteer(db(), data, current_app.config["LINLI_DEFAULT_REGION"], actor=current_user)
        except DomainError as error:
            db().rollback()
            show_error(form, error, "name")
            return render_template("worker/volunteer_form.html", form=form)
        verify_volunteer(db(), profile, current_user, utcnow())
        commit()
        flash(_("%(name)s is registered as a volunteer.", name=profile.person.name))
        return redirect(url_for("worker.volunteers"), code=303)
    return render_template("worker/volunteer_form.html", form=form)


@bp.route("/volunteers/<int:person_id>/verify", methods=["POST"])
@allow(*WORKER)
def verify(person_id: int):
    profile = governed_or_404(db().get(VolunteerProfile, person_id))
    if DecisionForm().validate_on_submit():
        verify_volunteer(db(), profile, current_user, utcnow())
        commit()
        flash(_("%(name)s is verified.", name=profile.person.name))
    return redirect(url_for("worker.volunteers"), code=303)


@bp.route("/family-links")
@allow(*WORKER)
def family_links():
    return _family_links_page(LinkDecisionForm(formdata=None))


def _family_links_page(decision: LinkDecisionForm):
    ids = staff_community_ids(db(), current_user)
    links = db().scalars(
        select(FamilyLink)
        .join(ElderProfile, ElderProfile.person_id == FamilyLink.elder_id)
        .where(ElderProfile.community_id.in_(ids or [-1]))
        .order_by(FamilyLink.status != "pending", FamilyLink.requested_at.desc())
    ).all()
    return render_template("worker/family_links.html", links=links, decision=decision)


@bp.route("/family-links/<int:link_id>", methods=["POST"])
@allow(*WORKER)
def decide_link(link_id: int):
    link = db().get(FamilyLink, link_id)
    if link is None:
        abort(404)
    profile = elder_in_scope(link.elder_id)
    form = LinkDecisionForm()
    back_to_elder = (safe_path(form.back.data) or "").startswith("/worker/")
    if not form.validate_on_submit():
        if back_to_elder:
            return _elder_page(profile, _pair_form(profile, formdata=None), form)
        return _family_links_page(form)
    if form.decision.data == "revoke":
        if revoke_family_link(db(), link, current_user, utcnow()):
            commit()
            flash(_("The link is ended: %(name)s can no longer order for %(elder)s.",
                    name=link.family.name, elder=link.elder.name))
    elif link.status == "pending":
        decide_family_link(link, form.decision.data == "approve", current_user, utcnow())
        commit()
        flash(_("Saved."))
    return redirect(form.back.data if back_to_elder else url_for("worker.family_links"), code=303)
