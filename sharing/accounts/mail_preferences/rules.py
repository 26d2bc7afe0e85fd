"""The kinds of notifications a user may get by e-mail, and each user's choice among them.

The registry is filled by the domains that send (``add_mail_kind``, in their ``init_app``):
accounts knows a kind only by its name, its label and its default, never who sends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlmodel import Session, col

from sharing.accounts.mail_preferences.models import MailPreference

NAME_MAX = 40


@dataclass(frozen=True)
class MailKind:
    name: str  # stored with each user's choice: keep it stable
    label: object  # what the user reads on their page (a lazy translation)
    default: bool = True  # mailed unless the user turns it off


_kinds: dict[str, MailKind] = {}


def add_mail_kind(name: str, label: object, *, default: bool = True) -> None:
    """Declare a kind of notification users may get by e-mail; shown in the order declared.
    Declaring a name again replaces it (an app built twice, in tests)."""
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"a mail kind's name has 1 to {NAME_MAX} characters")
    _kinds[name] = MailKind(name, label, default)


def mail_kinds() -> list[MailKind]:
    return list(_kinds.values())


def _kind(name: str) -> MailKind:
    try:
        return _kinds[name]
    except KeyError:
        raise ValueError(f"no mail kind {name!r} is declared") from None


def choices_of(session: Session, user_id: int) -> dict[str, bool]:
    """Every declared kind, and whether the user gets it by e-mail."""
    stored = {kind: enabled for kind, enabled in session.execute(
        select(col(MailPreference.kind), col(MailPreference.enabled)).where(col(MailPreference.user_id) == user_id))}
    return {kind.name: stored.get(kind.name, kind.default) for kind in _kinds.values()}


# Built once: every notice asks.
_ENABLED = select(col(MailPreference.enabled)).where(col(MailPreference.user_id) == bindparam("user_id"),
                                                    col(MailPreference.kind) == bindparam("kind"))


def wants_mail(session: Session, user_id: int, kind: str) -> bool:
    """Whether the user gets notifications of this kind by e-mail too (in the service they always do)."""
    declared = _kind(kind)
    enabled = session.scalar(_ENABLED, {"user_id": user_id, "kind": kind})
    return declared.default if enabled is None else enabled


def choose(session: Session, user_id: int, *, mailed: Iterable[str], now: datetime) -> None:
    """Keep the user's choice: the kinds named are mailed, every other declared kind is not.
    Every declared kind gets a row, so a default changed later does not change a choice made."""
    chosen = set(mailed)
    for name in chosen:
        _kind(name)
    session.execute(delete(MailPreference).where(col(MailPreference.user_id) == user_id,
                                                 col(MailPreference.kind).in_(list(_kinds))))
    session.add_all(MailPreference(user_id=user_id, kind=kind.name, enabled=kind.name in chosen, updated_at=now)
                    for kind in _kinds.values())
    session.flush()
