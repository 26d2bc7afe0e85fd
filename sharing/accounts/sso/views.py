"""Single sign-on's pages: the provider found from an address, the redirect to it and back
(Authlib's OpenID Connect client: code flow with PKCE, state and nonce, the ID token's
signature, issuer, audience and expiry checked against the provider's published keys, which
are fetched again when a token names a key not seen before), and the administrator's settings.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import ExpiredTokenError, JoseError
from werkzeug.wrappers import Response

from sharing.access import PUBLIC, allow
from sharing.accounts.admin_views import ADMINS, administered
from sharing.accounts.models import Municipality, Role
from sharing.accounts.sessions import begin_second_step
from sharing.accounts.sso import encryption, pages, rules
from sharing.accounts.sso.forms import FindProviderForm, ProviderForm, StartForm
from sharing.accounts.sso.labels import role_names
from sharing.accounts.sso.models import SsoProvider
from sharing.accounts.views import signed_in
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.web.forms import refusal, show_error

blueprint = Blueprint("sso", __name__, template_folder="templates")
security_log = logging.getLogger("sharing.security")
TIMEOUT_SECONDS = 10  # each request to a provider (its metadata, keys, token endpoint)
NEXT_KEY = "sso_next"


def init_app(app: Flask) -> None:
    OAuth(app)  # kept in app.extensions; one client per provider configuration, made when first used
    app.register_blueprint(blueprint)


def _key() -> bytes:
    return encryption.fernet_key(current_app.config["ENCRYPTION_KEY"])


def _client(provider: SsoProvider) -> FlaskOAuth2App:
    """Authlib's client for the provider as configured now: a changed configuration is a new
    client, so its metadata and keys are fetched anew. Each keeps the provider's keys, and
    fetches them again when a token is signed with a key it does not know (key rotation)."""
    oauth: OAuth = current_app.extensions["authlib.integrations.flask_client"]
    name = f"sso{provider.id}_{int(provider.updated_at.timestamp() * 1_000_000)}"
    client = oauth.create_client(name)
    if client is None:
        client = oauth.register(
            name, client_id=provider.client_id,
            client_secret=encryption.decrypt(provider.client_secret_encrypted, key=_key()),
            server_metadata_url=provider.issuer + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS})
    return client


@blueprint.post("/login/sso")
@allow(PUBLIC)
def find() -> Response:
    """The login form's other button: is the address's municipality one with its own sign-in?"""
    form = FindProviderForm()
    if not form.validate_on_submit():
        flash(_("Enter your e-mail address first."), "error")
        return redirect(url_for("accounts.login", next=form.next.data or None))
    provider = rules.provider_for_email(db_session, email=form.email.data or "")
    if provider is None:
        flash(_("Your address's municipality has no sign-in of its own here. Log in with your password."), "info")
        return redirect(url_for("accounts.login", next=form.next.data or None))
    return pages.offer(provider, form.email.data or "", form.next.data)


@blueprint.post("/login/sso/<int:provider_id>")
@allow(PUBLIC)
def start(provider_id: int) -> Response:
    provider = db_session.get(SsoProvider, provider_id)
    form = StartForm()
    if provider is None or not provider.enabled or not form.validate_on_submit():
        abort(404 if provider is None or not provider.enabled else 400)
    try:
        client = _client(provider)
        redirect_uri = url_for("sso.callback", provider_id=provider.id, _external=True)
        session[NEXT_KEY] = form.next.data or ""
        return client.authorize_redirect(redirect_uri, login_hint=form.email.data or None)
    except DomainError as error:  # the secret can no longer be decrypted
        security_log.error("sso provider %s: %s", provider.id, error)
        flash(refusal(error), "error")
    except (requests.RequestException, ValueError) as error:
        security_log.warning("sso provider %s unreachable: %s", provider.id, type(error).__name__)
        flash(_("Your municipality's sign-in does not answer just now. Try again in a while."), "error")
    return redirect(url_for("accounts.login"))


def _refused(provider: SsoProvider, message: str, reason: str) -> Response:
    """No session: the reason in the security log and the audit trail, the message on the login page."""
    security_log.warning("sso sign-in refused: provider %s from %s: %s", provider.id, request.remote_addr, reason)
    db_session.rollback()
    rules.refuse(db_session, provider=provider, reason=reason, now=utcnow())
    db_session.commit()
    flash(message, "error")
    return redirect(url_for("accounts.login"))


@blueprint.get("/login/sso/<int:provider_id>/callback")
@allow(PUBLIC)
def callback(provider_id: int) -> Response:
    """The provider sends the browser back here with a code; the code becomes an ID token."""
    provider = db_session.get(SsoProvider, provider_id)
    if provider is None or not provider.enabled:
        abort(404)
    municipality = db_session.get(Municipality, provider.municipality_id)
    name = municipality.name if municipality else ""
    not_verified = _("The sign-in from %(municipality)s could not be verified and was refused. Try again; "
                     "if it happens again, tell your IT support.", municipality=name)
    try:
        client = _client(provider)
        token = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "value": provider.issuer}}, leeway=60)
    except ExpiredTokenError:
        return _refused(provider, _("The sign-in from %(municipality)s had expired. Try again.", municipality=name),
                        "expired ID token")
    except JoseError as error:  # a bad signature, an unknown key, a wrong audience or issuer, a wrong nonce
        return _refused(provider, not_verified, f"ID token refused: {type(error).__name__}: {error.error}")
    except OAuthError as error:  # the provider said no, or the state is unknown (used, forged, expired)
        if error.error == "mismatching_state":
            return _refused(provider, _("That sign-in was already used or has expired. Log in again."),
                            "unknown or used state")
        return _refused(provider, _("%(municipality)s did not let you log in. If you think you should, ask your "
                                    "IT support.", municipality=name), f"provider error: {error.error}")
    except DomainError as error:
        return _refused(provider, refusal(error), "client secret unreadable")
    except (requests.RequestException, ValueError) as error:
        return _refused(provider, _("Your municipality's sign-in does not answer just now. Try again in a while."),
                        f"provider unreachable: {type(error).__name__}")
    claims = token.get("userinfo")
    if not claims:
        return _refused(provider, not_verified, "no ID token")
    try:
        outcome = rules.sign_in(db_session, provider=provider, claims=claims, now=utcnow())
    except rules.SsoRefused as error:
        return _refused(provider, refusal(error), f"{error} (sub {claims.get('sub')})")
    db_session.commit()
    user = outcome.user
    security_log.info("sso sign-in: user %s by provider %s%s", user.id, provider.id,
                      " (account created)" if outcome.created else " (account linked)" if outcome.linked else "")
    next_url = session.pop(NEXT_KEY, "") or None
    if user.totp_secret is not None and not outcome.two_step_done:
        begin_second_step(user, next_url)
        return redirect(url_for("accounts.login_code"))
    return signed_in(user, next_url)


# --- Administration ------------------------------------------------------------------------

@blueprint.route("/admin/municipalities/<int:municipality_id>/sign-in", methods=["GET", "POST"])
@allow(*ADMINS)
def settings(municipality_id: int) -> str | Response | tuple[str, int]:
    municipality = administered(municipality_id)
    provider = rules.provider_of(db_session, municipality_id=municipality_id)
    form = ProviderForm(obj=provider)
    names = role_names()
    form.mapping.description = _(
        "One line per value of the claim: value: role, role; unit. For example: fastighet: %(role)s; "
        "Fastighetsavdelningen. The roles: %(roles)s. Everyone admitted is an employee.",
        role=rules.shown_role(Role.FACILITY_MANAGER, names),
        roles=", ".join(rules.shown_role(role, names) for role in names if role in rules.MAPPABLE_ROLES))
    if provider is not None and not form.is_submitted():
        form.email_domains.data = ", ".join(provider.email_domains.split(","))
        form.mapping.data = rules.format_mapping(db_session, provider.mapping, names)
        form.mfa_acr_values.data = ", ".join(v for v in provider.mfa_acr_values.split(",") if v)
    form.client_secret.data = form.client_secret.data if form.is_submitted() else ""
    if form.validate_on_submit():
        settings = rules.ProviderSettings(
            issuer=form.issuer.data or "", client_id=form.client_id.data or "",
            client_secret=form.client_secret.data or "", email_domains=form.email_domains.data or "",
            claim=form.claim.data or "", mapping=form.mapping.data or "", password_login=form.password_login.data,
            trust_provider_mfa=form.trust_provider_mfa.data, mfa_acr_values=form.mfa_acr_values.data or "",
            enabled=form.enabled.data)
        try:
            saved = rules.save_provider(db_session, municipality=municipality, settings=settings, by=current_user,
                                        now=utcnow(), key=_key(), role_names=names)
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            security_log.info("sso provider %s of municipality %s saved by user %s", saved.id, municipality.id,
                              current_user.id)
            flash(_("The sign-in settings are saved."), "success")
            return redirect(url_for("sso.settings", municipality_id=municipality.id))
    form.client_secret.data = ""  # never sent back, not even what was just typed
    page = render_template("sso/settings.html", form=form, municipality=municipality, provider=provider,
                           callback_url=url_for("sso.callback", provider_id=provider.id, _external=True)
                           if provider else None)
    return (page, 400) if form.errors else page
