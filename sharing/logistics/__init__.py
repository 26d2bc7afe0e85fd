"""Logistics: transport requests, vehicles and planned pickup and delivery routes."""

from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("logistics", __name__, url_prefix="/logistics", template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
