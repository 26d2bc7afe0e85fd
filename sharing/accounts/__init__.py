"""Accounts: municipalities, units, sites, users and roles (the ground floor)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from sharing.accounts import admin_views, cli, demo, notification_views, notifications, sessions, views
from sharing.accounts.auth import purge_expired
from sharing.accounts.geocoding import views as geocoding_views
from sharing.accounts.labels import (
    browser_text,
    coordinates_label,
    describe_events,
    message_text,
    notification_text,
    role_labels,
)
from sharing.accounts.mail_preferences import views as mail_preference_views
from sharing.accounts.personal_data import labels as personal_data_labels
from sharing.accounts.personal_data import views as personal_data_views
from sharing.accounts.sso import labels as sso_labels
from sharing.accounts.sso import rules as sso_rules
from sharing.accounts.sso import views as sso_views
from sharing.cli import add_demo_loader
from sharing.clock import utcnow
from sharing.db import new_session
from sharing.jobs import Job, add_job
from sharing.web.nav import add_nav_item, add_shortcut
from sharing.web.templating import add_template_helpers

# How long the purge keeps what it purges (the privacy page states these very periods).
LOGIN_ATTEMPTS_KEPT = timedelta(days=1)  # failed logins hold an IP address
SESSIONS_KEPT = timedelta(days=30)  # counted from a session's last use, ended or not
SSO_REFUSALS_KEPT = timedelta(days=90)  # a refused sign-in's subject and reason (an address, maybe)


def purge_account_data() -> None:
    """Drop expired tokens, failed logins older than a day, sessions unused for a month, known
    sign-in addresses unused for LOGIN_KNOWN_ADDRESS_DAYS, and blank refused sign-ins' details."""
    with new_session() as session:
        purge_expired(session, now=utcnow(), attempts_older_than=LOGIN_ATTEMPTS_KEPT,
                      sessions_older_than=SESSIONS_KEPT,
                      addresses_older_than=timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"]))
        sso_rules.forget_refusal_details(session, now=utcnow(), older_than=SSO_REFUSALS_KEPT)
        session.commit()


def purge_old_notifications() -> None:
    """Notifications may name people's units and things: none is kept past its retention (read
    ones READ_RETENTION after reading, all RETENTION after sending)."""
    with new_session() as session:
        notifications.purge_old(session, now=utcnow())
        session.commit()


def init_app(app: Flask) -> None:
    sessions.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(admin_views.blueprint)
    app.register_blueprint(notification_views.blueprint)
    app.register_blueprint(mail_preference_views.blueprint)
    app.register_blueprint(personal_data_views.blueprint)
    app.register_blueprint(geocoding_views.blueprint)
    personal_data_labels.register()
    sso_views.init_app(app)
    sso_labels.describe_events()
    describe_events()
    app.cli.add_command(cli.municipality_cli)
    app.cli.add_command(cli.user_cli)
    add_template_helpers(app, names={"role_labels": role_labels, "coordinates_label": coordinates_label,
                                     "browser_text": browser_text,
                                     "unread_notifications": notification_views.unread_notifications},
                         filters={"notification_text": notification_text, "message_text": message_text})
    add_nav_item(app, _l("Administration"), "admin.index", section=("admin.",))
    add_shortcut(app, _l("Administration"), "admin.index", _l("Users, units, sites and settings of your municipality."))
    add_job(app, Job("purge-account-data", purge_account_data, timedelta(hours=1)))
    add_job(app, Job("purge-notifications", purge_old_notifications, timedelta(days=1)))
    add_demo_loader(app, demo.load)
