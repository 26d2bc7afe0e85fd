"""Forms of single sign-on: the address that finds the provider, the start, the settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length


class FindProviderForm(FlaskForm):
    """The login form's address, sent by its "municipality's account" button."""

    email = EmailField(_l("E-mail address"), validators=[InputRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    next = HiddenField()


class StartForm(FlaskForm):
    """The button that sends the browser to the provider (CSRF-protected: no one else starts it)."""

    email = HiddenField()
    next = HiddenField()


class ProviderForm(FlaskForm):
    enabled = BooleanField(_l("Sign-in with the municipality's account is on"), default=True)
    issuer = StringField(_l("Issuer"), validators=[InputRequired(), Length(max=500)],
                         description=_l("The provider's issuer address, for Microsoft Entra ID "
                                        "https://login.microsoftonline.com/<tenant id>/v2.0."))
    client_id = StringField(_l("Client id"), validators=[InputRequired(), Length(max=255)])
    client_secret = PasswordField(_l("Client secret"), validators=[Length(max=500)],
                                  description=_l("Stored encrypted and never shown again. Leave empty to keep "
                                                 "the stored one."),
                                  render_kw={"autocomplete": "off"})
    email_domains = StringField(_l("E-mail domains"), validators=[InputRequired(), Length(max=500)],
                                description=_l("Whose addresses end in these domains log in here, "
                                               "comma-separated: kommun.se, skola.kommun.se"))
    claim = StringField(_l("Claim with groups or roles"), default="groups",
                        validators=[InputRequired(), Length(max=100)])
    # Its help names the roles in the reader's language: the view sets it (mapping_help).
    mapping = TextAreaField(_l("Mapping to roles and units"), validators=[Length(max=5000)], render_kw={"rows": 6})
    password_login = BooleanField(_l("The municipality's people may also log in with a password"), default=True)
    trust_provider_mfa = BooleanField(_l("Skip our two-step verification when the provider has done one"))
    mfa_acr_values = StringField(_l("acr values that count as two-step verification"),
                                 validators=[Length(max=300)],
                                 description=_l("Comma-separated; an amr claim with mfa counts anyway."))
