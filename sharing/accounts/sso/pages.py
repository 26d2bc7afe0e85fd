"""The page that offers "Log in with <municipality>'s account": shown by the login form's own
view (where password login is off) and by single sign-on's."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from sharing.accounts.models import Municipality
from sharing.accounts.sso import rules
from sharing.accounts.sso.forms import StartForm
from sharing.accounts.sso.models import SsoProvider
from sharing.db import db_session
from sharing.web.hooks import content_security_policy


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def offer(provider: SsoProvider, email: str, next_url: str | None) -> Response:
    """The page with the button "Log in with <municipality>'s account"."""
    municipality = db_session.get(Municipality, provider.municipality_id)
    form = StartForm(formdata=None, email=email, next=next_url or "")
    response = Response(render_template("sso/offer.html", form=form, provider=provider, municipality=municipality,
                                        email=email), mimetype="text/html")
    # The button's POST is answered by a redirect to the provider: the one other place a form
    # of this page may lead to.
    response.headers["Content-Security-Policy"] = content_security_policy(form_origins=(_origin(provider.issuer),))
    return response


def offer_if_no_password(email: str, next_url: str | None) -> Response | None:
    """The offer, when the address's municipality signs in with its provider only."""
    provider = rules.provider_for_email(db_session, email=email)
    if provider is None or provider.password_login:
        return None
    flash(_("Your municipality logs in with its own account here, not with a password."), "info")
    return offer(provider, email, next_url)
