"""Administration: a municipality's users, units, sites and settings, its audit trail; new
municipalities.

Every change is written to the security log as who did what to whom (ids, not names).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts import audit as trail
from sharing.accounts import mfa, notices, organisation
from sharing.accounts.forms import (
    AuditFilterForm,
    MunicipalityForm,
    MunicipalitySettingsForm,
    SiteForm,
    UnitForm,
    UserForm,
)
from sharing.accounts.geocoding.web import configured_geocoder
from sharing.accounts.labels import ROLE_LABELS, opening_hours_text
from sharing.accounts.models import CoordinatesSource, Municipality, Role, Site, Unit, User
from sharing.accounts.personal_data.rules import may_erase
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError, Refused
from sharing.events import event_labels, subject_labels
from sharing.exports import safe_row
from sharing.typed import id_of, relation
from sharing.web.arguments import link_arguments, page_number
from sharing.web.forms import refusal, show_error
from sharing.web.hooks import content_security_policy, tile_origin

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
ADMINS = (Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN)
audit = logging.getLogger("sharing.security")


def administered(municipality_id: int) -> Municipality:
    """The municipality if the current user may administer it: their own, or any for system admins."""
    municipality = db_session.get(Municipality, municipality_id)
    if municipality is None:
        abort(404)
    if municipality.id != current_user.municipality_id and not current_user.has_role(Role.SYSTEM_ADMIN):
        audit.warning("forbidden: user %s to municipality %s (%s)", current_user.id, municipality.id,
                      request.endpoint)
        abort(403)
    return municipality


def owned(model: type, object_id: int, municipality: Municipality):
    obj = db_session.get(model, object_id)
    if obj is None or obj.municipality_id != municipality.id:
        if obj is not None:
            audit.warning("forbidden: user %s to %s %s of another municipality", current_user.id,
                          model.__name__, object_id)
        abort(404)
    return obj


def changeable(municipality: Municipality, user_id: int) -> User:
    """A user of the municipality whom the administrator may change (``organisation.may_change``)."""
    user: User = owned(User, user_id, municipality)
    if not organisation.may_change(current_user, user):
        audit.warning("forbidden: user %s to change system administrator %s", current_user.id, user.id)
        abort(403)
    return user


def _queue_invitation(user: User, raw: str) -> None:
    """The invitation, queued in the request's transaction: sent after the response (and again
    by the mail queue's job while the mail server fails), so the admin never waits for it."""
    notices.queue_invitation(db_session, user, token=raw, inviter=current_user.name)


@blueprint.get("/")
@allow(*ADMINS)
def index() -> Response:
    if current_user.has_role(Role.SYSTEM_ADMIN):
        return redirect(url_for("admin.municipalities"))
    return redirect(url_for("admin.users", municipality_id=current_user.municipality_id))


# --- Municipalities (system administrators) ---------------------------------------

@blueprint.get("/municipalities")
@allow(Role.SYSTEM_ADMIN)
def municipalities() -> str:
    rows = db_session.scalars(select(Municipality).order_by(Municipality.name)).all()
    return render_template("accounts/admin/municipalities.html", municipalities=rows)


@blueprint.route("/municipalities/new", methods=["GET", "POST"])
@allow(Role.SYSTEM_ADMIN)
def new_municipality() -> str | Response:
    form = MunicipalityForm()
    if form.validate_on_submit():
        try:
            municipality = organisation.create_municipality(
                db_session, code=form.code.data or "", name=form.name.data or "", contact_email=form.contact_email.data,
                by=current_user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("municipality %s created by user %s", municipality.id, current_user.id)
            flash(_("%(name)s has joined. Invite its first administrator now.", name=municipality.name), "success")
            return redirect(url_for("admin.new_user", municipality_id=municipality.id))
    return render_template("accounts/admin/municipality_form.html", form=form)


@blueprint.route("/municipalities/<int:municipality_id>/settings", methods=["GET", "POST"])
@allow(*ADMINS)
def settings(municipality_id: int) -> str | Response:
    municipality = administered(municipality_id)
    form = MunicipalitySettingsForm(obj=municipality)
    del form.code  # the code identifies the municipality and never changes
    if not current_user.has_role(Role.SYSTEM_ADMIN):
        del form.name  # renamed by the service's administrators alone: shown, not asked
    if form.validate_on_submit():
        try:
            name = (form.name.data or "") if form.name else municipality.name
            organisation.update_municipality(db_session, municipality=municipality, name=name,
                                             contact_email=form.contact_email.data, changed_by=current_user,
                                             data_protection_officer_email=form.data_protection_officer_email.data,
                                             now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("municipality %s settings changed by user %s", municipality.id, current_user.id)
            flash(_("The settings are saved."), "success")
            return redirect(url_for("admin.settings", municipality_id=municipality.id))
    return render_template("accounts/admin/settings.html", form=form, municipality=municipality)


# --- Users ---------------------------------------------------------------------------

def _user_form(municipality: Municipality, **kwargs: object) -> UserForm:
    form = UserForm(**kwargs)
    grantable = organisation.grantable_roles(current_user)
    form.roles.choices = [(role.value, str(ROLE_LABELS[role])) for role in Role if role in grantable]
    units = db_session.scalars(
        select(Unit).where(col(Unit.municipality_id) == municipality.id, col(Unit.active)).order_by(col(Unit.name))
    ).all()
    form.unit_id.choices = [("", _("No unit"))] + [(unit.id, unit.name) for unit in units]
    return form


def _chosen_roles(form: UserForm) -> list[Role]:
    """The roles ticked, leaving out any value not a role (the form's own check refuses it)."""
    return [Role(value) for value in form.roles.data or [] if value in {role.value for role in Role}]


def _told_with_the_rules(form: UserForm, refusals: list[DomainError]) -> None:
    """A form its own checks found wrong is told the rules' refusals too (``person_refusals``,
    ``change_refusals``): every field that is wrong in one round."""
    if refusals:
        show_error(form, Refused(refusals), keep_form_errors=True)


@blueprint.get("/municipalities/<int:municipality_id>/users")
@allow(*ADMINS)
def users(municipality_id: int) -> str:
    municipality = administered(municipality_id)
    # The erased are nobody any longer: left out unless asked for (to see that someone was erased).
    show_erased = request.args.get("erased") == "1"
    query = select(User).where(col(User.municipality_id) == municipality.id)
    if not show_erased:
        query = query.where(col(User.erased_at).is_(None))
    rows = db_session.scalars(
        query.options(selectinload(relation(User.role_grants)), selectinload(relation(User.unit))).order_by(User.name)
    ).all()
    erased = db_session.scalar(select(func.count()).select_from(User).where(
        col(User.municipality_id) == municipality.id, col(User.erased_at).is_not(None))) or 0
    return render_template("accounts/admin/users.html", municipality=municipality, users=rows,
                           show_erased=show_erased, erased=erased)


@blueprint.route("/municipalities/<int:municipality_id>/users/new", methods=["GET", "POST"])
@allow(*ADMINS)
def new_user(municipality_id: int) -> str | Response:
    municipality = administered(municipality_id)
    form = _user_form(municipality)
    del form.active
    if form.is_submitted() and not form.validate():
        _told_with_the_rules(form, organisation.person_refusals(
            db_session, municipality_id=id_of(municipality), email=form.email.data or "", name=form.name.data or "",
            roles=_chosen_roles(form), unit_id=form.unit_id.data, invited_by=current_user))
    elif form.is_submitted():
        try:
            user, raw = organisation.invite_user(
                db_session, municipality=municipality, email=form.email.data or "", name=form.name.data or "",
                roles=_chosen_roles(form), unit_id=form.unit_id.data, invited_by=current_user,
                now=utcnow(), lifetime=timedelta(days=current_app.config["INVITATION_DAYS"]),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            _queue_invitation(user, raw)
            db_session.commit()
            audit.info("user %s invited to municipality %s with roles %s by user %s", user.id, municipality.id,
                       ",".join(sorted(user.roles)), current_user.id)
            flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.users", municipality_id=municipality.id))
    return render_template("accounts/admin/user_form.html", form=form, municipality=municipality, user=None)


@blueprint.route("/municipalities/<int:municipality_id>/users/<int:user_id>", methods=["GET", "POST"])
@allow(*ADMINS)
def edit_user(municipality_id: int, user_id: int) -> str | Response:
    municipality = administered(municipality_id)
    user = owned(User, user_id, municipality)
    if not organisation.may_change(current_user, user):  # shown, not changed
        if request.method == "POST":
            changeable(municipality, user_id)  # refused
        return render_template("accounts/admin/user_form.html", form=None, municipality=municipality, user=user,
                               may_erase=False)
    form = _user_form(municipality, obj=user)
    if not form.is_submitted():
        form.roles.data = [role.value for role in user.roles]
    del form.email  # the address is the login; a changed address is a new invitation
    if form.is_submitted() and not form.validate():
        _told_with_the_rules(form, organisation.change_refusals(
            db_session, user=user, name=form.name.data or "", roles=_chosen_roles(form), unit_id=form.unit_id.data,
            active=bool(form.active.data), changed_by=current_user))
    elif form.is_submitted():
        before = (",".join(sorted(user.roles)), user.active)
        try:
            organisation.update_user(
                db_session, user=user, name=form.name.data or "", roles=_chosen_roles(form),
                unit_id=form.unit_id.data, active=form.active.data, changed_by=current_user, now=utcnow(),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("user %s changed by user %s: roles %s -> %s, active %s -> %s", user.id, current_user.id,
                       before[0], ",".join(sorted(user.roles)), before[1], user.active)
            flash(_("The changes to %(name)s are saved.", name=user.name), "success")
            return redirect(url_for("admin.users", municipality_id=municipality.id))
    return render_template("accounts/admin/user_form.html", form=form, municipality=municipality, user=user,
                           may_erase=may_erase(current_user, user) and user.id != current_user.id)


@blueprint.post("/municipalities/<int:municipality_id>/users/<int:user_id>/invite-again")
@allow(*ADMINS)
def reinvite_user(municipality_id: int, user_id: int) -> Response:
    municipality = administered(municipality_id)
    user = changeable(municipality, user_id)
    try:
        raw = organisation.reinvite_user(db_session, user=user, now=utcnow(),
                                         lifetime=timedelta(days=current_app.config["INVITATION_DAYS"]))
    except DomainError as error:
        flash(refusal(error), "error")
    else:
        _queue_invitation(user, raw)
        db_session.commit()
        audit.info("user %s invited again by user %s", user.id, current_user.id)
        flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.edit_user", municipality_id=municipality.id, user_id=user.id))


def _confirmation(municipality: Municipality, user: User, *, action: str, question: str, explanation: str,
                  yes: str) -> str:
    """A security action asks first: a page of its own, so that it works without JavaScript."""
    return render_template("accounts/admin/confirm.html", municipality=municipality, user=user, question=question,
                           explanation=explanation, yes=yes,
                           action=url_for(action, municipality_id=municipality.id, user_id=user.id))


@blueprint.get("/municipalities/<int:municipality_id>/users/<int:user_id>/end-sessions")
@allow(*ADMINS)
def confirm_end_user_sessions(municipality_id: int, user_id: int) -> str:
    municipality = administered(municipality_id)
    user = changeable(municipality, user_id)
    return _confirmation(
        municipality, user, action="admin.end_user_sessions",
        question=_("Log %(name)s out everywhere?", name=user.name),
        explanation=_("Every session of %(name)s ends at once, on every computer and phone: for a lost or shared "
                      "computer. They log in again with their password.", name=user.name),
        yes=_("Yes, log them out everywhere"))


@blueprint.post("/municipalities/<int:municipality_id>/users/<int:user_id>/end-sessions")
@allow(*ADMINS)
def end_user_sessions(municipality_id: int, user_id: int) -> Response:
    """For a lost or shared computer: the user is logged out everywhere at once."""
    municipality = administered(municipality_id)
    user = changeable(municipality, user_id)
    organisation.log_out_everywhere(db_session, user=user, by=current_user, now=utcnow())
    db_session.commit()
    audit.info("sessions of user %s ended by user %s", user.id, current_user.id)
    flash(_("%(name)s is logged out everywhere.", name=user.name), "success")
    return redirect(url_for("admin.edit_user", municipality_id=municipality.id, user_id=user.id))


@blueprint.get("/municipalities/<int:municipality_id>/users/<int:user_id>/reset-two-step")
@allow(*ADMINS)
def confirm_reset_two_step(municipality_id: int, user_id: int) -> str | Response:
    municipality = administered(municipality_id)
    user = changeable(municipality, user_id)
    if user.totp_secret is None:  # nothing to reset
        return redirect(url_for("admin.edit_user", municipality_id=municipality.id, user_id=user.id))
    return _confirmation(
        municipality, user, action="admin.reset_two_step",
        question=_("Reset two-step verification for %(name)s?", name=user.name),
        explanation=_("Only when you are sure that %(name)s is the one asking, having lost their phone: they then "
                      "log in with their password alone and can turn it on again. Their recovery codes stop "
                      "working.", name=user.name),
        yes=_("Yes, reset it"))


@blueprint.post("/municipalities/<int:municipality_id>/users/<int:user_id>/reset-two-step")
@allow(*ADMINS)
def reset_two_step(municipality_id: int, user_id: int) -> Response:
    """For a user who lost their phone: they log in with the password alone and can enrol anew."""
    municipality = administered(municipality_id)
    user = changeable(municipality, user_id)
    mfa.reset(db_session, user=user, by=current_user, now=utcnow())
    db_session.commit()
    audit.info("two-step verification of user %s reset by user %s", user.id, current_user.id)
    notices.two_step_changed(user, enabled=False)
    flash(_("Two-step verification is reset for %(name)s.", name=user.name), "success")
    return redirect(url_for("admin.edit_user", municipality_id=municipality.id, user_id=user.id))


# --- Units -----------------------------------------------------------------------------

@blueprint.get("/municipalities/<int:municipality_id>/units")
@allow(*ADMINS)
def units(municipality_id: int) -> str:
    municipality = administered(municipality_id)
    rows = db_session.scalars(
        select(Unit).where(col(Unit.municipality_id) == municipality.id).order_by(col(Unit.name))).all()
    names = {unit.id: unit.name for unit in rows}
    return render_template("accounts/admin/units.html", municipality=municipality, units=rows, names=names)


@blueprint.route("/municipalities/<int:municipality_id>/units/new", methods=["GET", "POST"],
                 defaults={"unit_id": None})
@blueprint.route("/municipalities/<int:municipality_id>/units/<int:unit_id>", methods=["GET", "POST"])
@allow(*ADMINS)
def edit_unit(municipality_id: int, unit_id: int | None) -> str | Response:
    municipality = administered(municipality_id)
    unit = owned(Unit, unit_id, municipality) if unit_id is not None else None
    form = UnitForm(obj=unit)
    others = db_session.scalars(
        select(Unit).where(col(Unit.municipality_id) == municipality.id, col(Unit.id) != unit_id)
        .order_by(col(Unit.name))
    ).all()
    form.parent_id.choices = [("", _("Top level"))] + [(other.id, other.name) for other in others]
    if form.validate_on_submit():
        try:
            saved = organisation.save_unit(db_session, municipality=municipality, name=form.name.data or "",
                                           parent_id=form.parent_id.data, unit=unit, active=form.active.data,
                                           by=current_user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("unit %s saved by user %s", saved.id, current_user.id)
            flash(_("The unit is saved."), "success")
            return redirect(url_for("admin.units", municipality_id=municipality.id))
    return render_template("accounts/admin/unit_form.html", form=form, municipality=municipality, unit=unit)


# --- Sites -----------------------------------------------------------------------------

@blueprint.get("/municipalities/<int:municipality_id>/sites")
@allow(*ADMINS)
def sites(municipality_id: int) -> str:
    municipality = administered(municipality_id)
    rows = db_session.scalars(
        select(Site).where(col(Site.municipality_id) == municipality.id)
        .options(selectinload(relation(Site.opening_hours))).order_by(col(Site.locality), col(Site.name))
    ).all()
    return render_template("accounts/admin/sites.html", municipality=municipality, sites=rows,
                           hours=opening_hours_text)


@blueprint.route("/municipalities/<int:municipality_id>/sites/new", methods=["GET", "POST"],
                 defaults={"site_id": None})
@blueprint.route("/municipalities/<int:municipality_id>/sites/<int:site_id>", methods=["GET", "POST"])
@allow(*ADMINS)
def edit_site(municipality_id: int, site_id: int | None) -> Response:
    municipality = administered(municipality_id)
    site = owned(Site, site_id, municipality) if site_id is not None else None
    form = SiteForm(obj=site)
    if site is not None and not form.is_submitted():
        form.opening_hours.data = opening_hours_text(site.opening_hours)
        form.coordinates_source.data = CoordinatesSource.TYPED.value
    if form.validate_on_submit():
        details = organisation.SiteDetails(**{name: form[name].data for name in (
            "name", "street_address", "postal_code", "locality", "latitude", "longitude",
            "opening_hours", "access_notes", "active")})
        if form.coordinates_source.data == CoordinatesSource.PICKED:
            details.coordinates_source = CoordinatesSource.PICKED
        place_before = (site.latitude, site.longitude, site.coordinates_source) if site is not None else None
        try:
            saved = organisation.save_site(db_session, municipality=municipality, details=details, site=site,
                                           geocoder=configured_geocoder(), now=utcnow(), by=current_user)
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("site %s saved by user %s", saved.id, current_user.id)
            if saved.approximate:
                # Back to the form, its map showing where the site stands for now.
                flash(_("The site is saved, but only at the approximate position of %(locality)s: pick its place "
                        "on the map to make it exact.", locality=saved.locality), "info")
                return redirect(url_for("admin.edit_site", municipality_id=municipality.id, site_id=saved.id))
            placed = (saved.coordinates_source == CoordinatesSource.GEOCODED
                      and (saved.latitude, saved.longitude, saved.coordinates_source) != place_before)
            flash(_("The site is saved, at the place found from its address.") if placed else _("The site is saved."),
                  "success")
            return redirect(url_for("admin.sites", municipality_id=municipality.id))
    page = render_template("accounts/admin/site_form.html", form=form, municipality=municipality, site=site)
    response = make_response((page, 400) if form.errors else page)
    if origin := tile_origin(current_app.config["MAP_TILE_URL"]):
        response.headers["Content-Security-Policy"] = content_security_policy(origin)
    return response


# --- Audit trail -------------------------------------------------------------------------

AUDIT_PER_PAGE = 50
AUDIT_EXPORT_MAX = 50_000  # the newest events of a download; a narrower filter reaches further back
EVENT_CODE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")  # "catalog", "catalog.listing.published"


def _code(value: str | None) -> str:
    """An event's name or subject type from the address; anything else filters nothing."""
    return value if value and len(value) <= 80 and EVENT_CODE.fullmatch(value) else ""


def _audit_filters(municipality: Municipality) -> tuple[AuditFilterForm, trail.TrailFilters]:
    """The form, with its choices, and the filters of its valid fields (a wrong one is shown, not applied)."""
    form = AuditFilterForm(request.args)
    form.subject_type.choices = [("", _("Anything"))] + [(s.subject_type, str(s.label)) for s in subject_labels()]
    users = db_session.execute(select(col(User.id), col(User.name)).where(col(User.municipality_id) == municipality.id)
                               .order_by(col(User.name))).all()
    form.actor_id.choices = [("", _("Anyone"))] + [(id_, name) for id_, name in users]
    form.validate()
    filters = trail.TrailFilters(
        kind=_code(form.kind.data), subject_type=_code(form.subject_type.data),
        subject_id=None if form.subject_id.errors else form.subject_id.data,
        actor_id=None if form.actor_id.errors else form.actor_id.data,
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data)
    return form, filters


@dataclass
class KindGroup:
    """One domain's event names, as the filter offers them in an option group."""

    domain: str
    label: str
    kinds: list[tuple[str, str]] = field(default_factory=list)


def _kind_groups() -> list[KindGroup]:
    groups: dict[str, KindGroup] = {}
    for label in event_labels():
        group = groups.setdefault(label.domain, KindGroup(label.domain, str(label.group)))
        group.kinds.append((label.name, str(label.label)))
    return list(groups.values())


def _who(person: trail.Person) -> str:
    if person.who == trail.Who.PERSON:
        return person.name
    return _("Deleted user") if person.who == trail.Who.DELETED else _("The service")


@blueprint.get("/municipalities/<int:municipality_id>/audit")
@allow(*ADMINS)
def audit_trail(municipality_id: int) -> str:
    """What happened in the municipality, newest first: who, when, what and what changed."""
    municipality = administered(municipality_id)
    form, filters = _audit_filters(municipality)
    number = max(1, request.args.get("page", 1, type=page_number))
    page = trail.find_events(db_session, municipality_id=id_of(municipality), filters=filters, page=number,
                             per_page=AUDIT_PER_PAGE)
    groups = _kind_groups()
    known = {group.domain for group in groups} | {name for group in groups for name, _label in group.kinds}
    return render_template("accounts/admin/audit.html", municipality=municipality, form=form, page=page,
                           rows=trail.trail_rows(db_session, page.items, reader=current_user), kind_groups=groups,
                           kind=filters.kind,
                           unknown_kind=filters.kind if filters.kind not in known else "", who=_who,
                           query_args=link_arguments(exclude=("page",)))


@blueprint.get("/municipalities/<int:municipality_id>/audit.csv")
@allow(*ADMINS)
def audit_trail_export(municipality_id: int) -> Response:
    """The filtered trail as a spreadsheet (CSV, as Swedish Excel opens it)."""
    municipality = administered(municipality_id)
    _form, filters = _audit_filters(municipality)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(safe_row([_("When"), _("Who"), _("What happened"), _("Event code"), _("Concerning"), _("Number"),
                              _("What changed")]))
    events = trail.all_events(db_session, municipality_id=id_of(municipality), filters=filters, limit=AUDIT_EXPORT_MAX)
    while batch := list(islice(events, 500)):
        for row in trail.trail_rows(db_session, batch):
            writer.writerow(safe_row([
                format_datetime(row.event.occurred_at, "yyyy-MM-dd HH:mm:ss"), _who(row.actor), row.what,
                row.event.name, row.subject, row.event.subject_id or "",
                "; ".join(f"{what}: {how}" for what, how in row.details)]))
    audit.info("audit trail of municipality %s downloaded by user %s", municipality.id, current_user.id)
    return send_file(io.BytesIO(out.getvalue().encode("utf-8-sig")), mimetype="text/csv", as_attachment=True,
                     download_name=f"handelselogg-{municipality.slug}.csv")
