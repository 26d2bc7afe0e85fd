"""Who may use which view: every view states it, and one hook enforces it.

The core knows roles only by name; the accounts domain defines them and checks them
(``user.has_role``).

A view without a stated rule is refused (fail closed), and the route-walking test fails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from sharing.extensions import login_manager

log = logging.getLogger("sharing.security")
View = TypeVar("View", bound=Callable[..., object])


@dataclass(frozen=True)
class Access:
    """A view's access rule: open to all, to any signed-in user, or to some roles.

    It looks at a user's roles alone, never at who they are or where from: the menu is built
    once for each set of roles (web/nav.py). Rules about the municipality belong to the domains.
    """

    public: bool = False
    roles: frozenset[str] | None = None  # None: any signed-in user; else role names

    def permits(self, user: object) -> bool:
        if self.public:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        return self.roles is None or user.has_role(*self.roles)  # type: ignore[attr-defined]  # a signed-in User

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.roles is None:
            return "signed-in"
        return ", ".join(sorted(self.roles))


PUBLIC = Access(public=True)
SIGNED_IN = Access()
# Flask's own static files carry no decorator.
_BUILTIN_ENDPOINTS = {"static": PUBLIC}


def allow(*rule: Access | str) -> Callable[[View], View]:
    """State who may use a view: ``@allow(PUBLIC)``, ``@allow(SIGNED_IN)`` or roles
    (``@allow(Role.FACILITY_MANAGER)``: the accounts domain's roles are strings)."""
    if len(rule) == 1 and isinstance(rule[0], Access):
        access = rule[0]
    else:
        if not rule or not all(isinstance(r, str) for r in rule):
            raise TypeError("allow() takes one Access or one or more role names")
        access = Access(roles=frozenset(str(r) for r in rule))

    def decorate(view: View) -> View:
        view.access = access  # type: ignore[attr-defined]  # the rule rides on the view function
        return view

    return decorate


def access_for(endpoint: str) -> Access | None:
    """The rule stated for an endpoint, or None where none was stated."""
    if endpoint in _BUILTIN_ENDPOINTS:
        return _BUILTIN_ENDPOINTS[endpoint]
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access() -> ResponseReturnValue | None:
    """Before every request: refuse what the view's rule does not permit."""
    if request.endpoint is None:  # no route matched: the 404/405 handler answers
        return None
    access = access_for(request.endpoint)
    if access is None:
        log.error("endpoint %s states no access rule; refused", request.endpoint)
        abort(403)
    if access.permits(current_user):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    log.warning("forbidden: user %s to %s %s", current_user.get_id(), request.method, request.endpoint)
    abort(403)
