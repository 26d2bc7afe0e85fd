"""The application factory: it only wires the parts together."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from sharing import accounts, api, catalog, cli, db, events, jobs, legal, loans, logistics, mail, reports, web
from sharing.access import enforce_access
from sharing.config import load_config
from sharing.extensions import babel, csrf, login_manager
from sharing.web.arguments import RecordIdConverter


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; ``config`` overrides it (tests)."""
    # Uploads, the default SQLite file and the dev mail outbox live in the instance folder.
    app = Flask(__name__, instance_path=os.environ.get("SHARING_INSTANCE_PATH") or None)
    # Before any route is added: every <int:...> of a route is a record's id, bounded.
    app.url_map.converters["int"] = RecordIdConverter
    app.config.update(load_config(os.environ, Path(app.instance_path)))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_logging(app)
    register_extensions(app)
    register_domains(app)
    app.cli.add_command(cli.demo)
    app.cli.add_command(cli.outbox)
    app.cli.add_command(jobs.jobs_cli)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]  # Flask's documented way
    return app


def register_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sharing").setLevel(app.config["LOG_LEVEL"])


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    jobs.init_app(app)
    events.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    # Access is checked before CSRF, so a forbidden request is told 403, not 400.
    app.before_request(enforce_access)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=web.i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )


def register_domains(app: Flask) -> None:
    # The order is the order of dependence: each builds on those before it.
    web.init_app(app)
    accounts.init_app(app)
    catalog.init_app(app)
    loans.init_app(app)
    logistics.init_app(app)
    reports.init_app(app)
    api.init_app(app)
    legal.init_app(app)
