"""Loans, swaps and transfers: reservations, approvals, handovers and returns."""

from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("loans", __name__, url_prefix="/loans", template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
