"""Demo data: the three founding municipalities, their units, sites and a user per role.

Loading is idempotent: records are matched on their natural keys (municipality code,
names within a municipality, e-mail) and only what is missing is added.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts import organisation
from sharing.accounts.models import Municipality, Role, RoleGrant, Site, Unit, User
from sharing.accounts.passwords import hash_password
from sharing.clock import utcnow
from sharing.typed import id_of

DATA_FILE = Path(__file__).with_name("data.json")
# The demo's history (take-overs of the past year, listings published months ago) is its
# accounts' doing: they are made as if they had joined before any of it.
JOINED_BEFORE = timedelta(days=2 * 365)


def demo_data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def load(session: Session, data: dict[str, Any] | None = None) -> dict[str, int]:
    """Add what is missing of the demo data; returns how many records of each kind were added."""
    data = data or demo_data()
    joined = utcnow() - JOINED_BEFORE
    added = {"municipalities": 0, "units": 0, "sites": 0, "users": 0}
    password_hash: str | None = None
    for entry in data["municipalities"]:
        municipality = session.scalar(select(Municipality).where(Municipality.code == entry["code"]))
        if municipality is None:
            municipality = organisation.create_municipality(
                session, code=entry["code"], name=entry["name"], contact_email=entry.get("contact_email"), by=None,
                now=joined)
            municipality.created_at = joined
            added["municipalities"] += 1
        units = {u.name: u for u in session.scalars(select(Unit).where(col(Unit.municipality_id) == municipality.id))}
        for unit in entry["units"]:  # parents are listed before their children
            if unit["name"] not in units:
                parent = units[unit["parent"]].id if unit.get("parent") else None
                units[unit["name"]] = organisation.save_unit(
                    session, municipality=municipality, name=unit["name"], parent_id=parent, by=None, now=joined)
                units[unit["name"]].created_at = joined
                added["units"] += 1
        existing_sites = set(session.scalars(
            select(col(Site.name)).where(col(Site.municipality_id) == municipality.id)))
        for site in entry["sites"]:
            if site["name"] not in existing_sites:
                # With their coordinates: typed, never geocoded (the demo asks no one, online or not).
                made = organisation.save_site(session, municipality=municipality, geocoder=None, now=joined, by=None,
                                              details=organisation.SiteDetails(**site))
                made.created_at = joined
                added["sites"] += 1
        for person in entry["users"]:
            if session.scalar(select(col(User.id)).where(col(User.email) == person["email"])) is not None:
                continue
            password_hash = password_hash or hash_password(data["password"])
            user = User(
                municipality_id=id_of(municipality), unit_id=units[person["unit"]].id if person.get("unit") else None,
                email=person["email"], name=person["name"], password_hash=password_hash, created_at=joined,
            )
            user.role_grants = [RoleGrant(role=Role(role).value) for role in person["roles"]]  # type: ignore[call-arg]  # user_id: set at flush
            session.add(user)
            added["users"] += 1
    session.flush()
    return added
