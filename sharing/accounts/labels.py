"""Role names as people read them, in the user's language."""

from __future__ import annotations

from typing import Iterable

from flask_babel import lazy_gettext as _l

from sharing.accounts.models import Role

ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.FACILITY_MANAGER: _l("Facility manager"),
    Role.DRIVER: _l("Driver"),
    Role.SUSTAINABILITY_OFFICER: _l("Sustainability officer"),
    Role.MUNICIPALITY_ADMIN: _l("Municipality administrator"),
    Role.SYSTEM_ADMIN: _l("System administrator"),
}


def role_labels(roles: Iterable[Role]) -> list[str]:
    """Labels in the fixed order of the roles, whatever order they come in."""
    held = set(roles)
    return [str(ROLE_LABELS[role]) for role in Role if role in held]
