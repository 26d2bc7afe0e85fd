"""What the service keeps about one person, gathered from every domain: extracted for them (a
register extract, *registerutdrag*) and erased when they have left.

Accounts is the ground floor and imports no domain above it, yet an extract and an erasure must
reach the catalog's, the loans', logistics' and the reports' tables. So each domain *contributes*, from its ``init_app``
(as it registers event receivers): ``extract(session, *, user_id)``, its records of the person
by section (``{"requests": [{...}, ...]}``, plain JSON values but for times), and
``erase(session, *, user_id, by, now)``, which removes or blanks what it keeps of them in its
own tables only. ``erase_user`` calls every contribution, the highest domain first, then makes
the account itself anonymous and records the erasure, all in the caller's session: one
transaction, committed once by the caller, so an erasure happens whole or not at all.

Why a registry rather than a domain event (``accounts.user.erased``) with receivers? Receivers
run after the commit, each in a transaction of its own, and a failing one is retried later: for
a while, or for good if it keeps failing, some of the person's data would outlive an erasure the
audit trail already shows as done, and the admin would have been told it was. Erasure must be
all or nothing, so the domains' parts run inside its transaction; an extract likewise reads
every domain's part in one consistent read. Like event receivers, a contribution registered
again under its name replaces the old one (an app built twice, in tests).

How a section reads (its title, its fields' labels, a value's wording) is said by the domain at
registration (``Section``), lazily translated: the rules here hold no words of their own, and
both the PDF and the JSON give a value in the words its domain gave (``Section.in_words``).

What an erasure keeps: the ids in the records that reports count (who asked, who decided: the
anonymous account's id), every figure, and the events, whose actor is then the anonymous account
(the trail shows a deleted user); payloads that held the person's words are blanked. Where
others named the person in text of their own, each domain replaces the name and address in its
tables (``Mentions``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar, Unpack

from sqlalchemy import ColumnElement, Select, Text, cast, false, or_
from sqlmodel import Session, col

from sharing import events
from sharing.accounts.audit import naming_only
from sharing.accounts.models import Actor, Role, User
from sharing.accounts.organisation import may_change
from sharing.errors import DomainError
from sharing.i18n import N_
from sharing.typed import id_of

Records = list[dict[str, Any]]
SelectT = TypeVar("SelectT", bound=Select[Unpack[tuple[Any, ...]]])
# The most records one section of an extract holds, newest first (a facility manager's audit
# entries of many years, say): the extract is made in memory, and says when a section is cut.
ROWS_MAX = 10_000

ERASED_NAME = "Borttagen användare"
ERASED = "accounts.user.erased"


class Extract(Protocol):
    def __call__(self, session: Session, *, user_id: int) -> dict[str, Records]: ...


class Erase(Protocol):
    def __call__(self, session: Session, *, user_id: int, by: Actor, now: datetime) -> None: ...


# How one field of a record reads in the reader's language, given the session to name what
# the record holds by id ("" if there is nothing to say).
Readable = Callable[[Session, dict[str, Any]], str]


@dataclass(frozen=True)
class Section:
    """How one section of an extract reads: a title and its fields' labels (lazy translations:
    str() them), in the order shown, and for some fields how a record's value reads (a status's
    label, a message in the reader's language); the others read as stored."""

    title: object
    fields: Mapping[str, object]
    readable: Mapping[str, Readable] = field(default_factory=dict)

    def in_words(self, session: Session, record: dict[str, Any]) -> dict[str, str]:
        """The record's fields that read otherwise than stored, in words. A value the words do
        not fit (a record of an older version, say) is left as stored, never an error."""
        words = {}
        for name, readable in self.readable.items():
            try:
                words[name] = readable(session, record)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                continue
        return {name: text for name, text in words.items() if text}


@dataclass(frozen=True)
class Contribution:
    name: str  # "loans", "catalog": stable, the registry's key
    extract: Extract
    erase: Erase
    sections: Mapping[str, Section]


_contributions: dict[str, Contribution] = {}


def contribute(name: str, *, extract: Extract, erase: Erase, sections: Mapping[str, Section]) -> None:
    """Add a domain's part of every extract and erasure (from its ``init_app``; the lower domains
    first, as the app builds them). ``extract`` returns only the sections named here."""
    _contributions[name] = Contribution(name, extract, erase, dict(sections))


def contributions() -> list[Contribution]:
    """In the order of registration: the ground floor first."""
    return list(_contributions.values())


def labelled(name: str, labels: Mapping[Any, object]) -> Readable:
    """How a code reads (a status, a kind): its label, or the code itself if it has none."""
    def readable(session: Session, record: dict[str, Any]) -> str:
        value = record.get(name)
        return str(labels.get(value, value)) if value is not None else ""
    return readable


def bounded(statement: SelectT) -> SelectT:
    """A section's query, at most ``ROWS_MAX`` rows (the caller orders it newest first)."""
    return statement.limit(ROWS_MAX)


@dataclass(frozen=True)
class PersonalData:
    """Everything of one person: each contribution's sections, in order, and which are cut at
    ``ROWS_MAX``."""

    user_id: int
    made_at: datetime
    parts: list[tuple[Contribution, dict[str, Records]]]

    @property
    def truncated(self) -> list[str]:
        return [name for _, sections in self.parts for name, records in sections.items() if len(records) >= ROWS_MAX]


def extract(session: Session, *, user_id: int, now: datetime) -> PersonalData:
    """What every domain keeps about the user, read in the session's one transaction."""
    parts = []
    for contribution in contributions():
        found = contribution.extract(session, user_id=user_id)
        parts.append((contribution, {name: found.get(name, []) for name in contribution.sections}))
    return PersonalData(user_id=user_id, made_at=now, parts=parts)


def as_json(session: Session, data: PersonalData) -> dict[str, Any]:
    """The extract as JSON values: sections by name, times as ISO 8601 in UTC. A field that
    reads otherwise than stored (a status, a notification) is in words, in the reader's
    language, and its stored value beside it as ``<field>_code``, for a machine."""
    with naming_only(data.user_id):  # the person's own extract: nobody else is named in it
        sections = {name: [_plain(_worded(contribution.sections[name].in_words(session, record), record))
                           for record in records]
                    for contribution, sections in data.parts for name, records in sections.items()}
    return {"user_id": data.user_id, "made_at": _plain(data.made_at), "truncated": data.truncated,
            "max_records_per_section": ROWS_MAX, "sections": sections}


def _worded(words: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
    worded = {}
    for name, value in record.items():
        worded[name] = words.get(name, value)
        if name in words and value is not None:
            worded[f"{name}_code"] = value
    return worded | {name: text for name, text in words.items() if name not in record}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# --- Erasure -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mentions:
    """The person's name and e-mail address as others may have written them (a facility manager's
    "ask Åsa Lindqvist at the desk"), found in a text column and replaced by ``ERASED_NAME``.

    Found case-insensitively (on SQLite, ASCII letters only: a name's Å must be written as it is
    stored), only as whole words, and only a name of four letters or more: a shorter one would
    take other words with it."""

    name: str
    email: str

    @property
    def _searched(self) -> list[str]:
        return [text for text in (self.name.strip(), self.email.strip()) if len(text) >= 4]

    def found_in(self, column: Any) -> ColumnElement[bool]:
        """A condition on a text column: it may mention the person (``scrub`` decides)."""
        return or_(false(), *(col(column).icontains(text, autoescape=True) for text in self._searched))

    def found_in_json(self, column: Any) -> ColumnElement[bool]:
        """The same for a JSON column, as the database stores it (non-ASCII letters escaped)."""
        stored = cast(column, Text)
        return or_(false(), *(stored.icontains(form, autoescape=True) for text in self._searched
                              for form in {text, json.dumps(text)[1:-1]}))

    def scrub(self, text: str) -> str:
        if not self._searched:
            return text
        # Whole words, a Swedish genitive's s included ("Åsa Lindqvists"): it stays, after the new name.
        pattern = "|".join(rf"(?<!\w){re.escape(searched)}(?=s?(?!\w))" for searched in self._searched)
        return re.sub(pattern, ERASED_NAME, text, flags=re.IGNORECASE)

    def scrub_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_json(item) for key, item in value.items()}
        return value


def mentions_of(session: Session, user_id: int) -> Mentions:
    """How the person is named, read before the account is made anonymous."""
    user = session.get_one(User, user_id)
    return Mentions(name=user.name, email=user.email)


def may_erase(by: Actor, user: User) -> bool:
    """A municipality's administrator erases its people; a system administrator anyone's."""
    if by.has_role(Role.SYSTEM_ADMIN):
        return True
    return by.has_role(Role.MUNICIPALITY_ADMIN) and by.municipality_id == user.municipality_id \
        and not user.has_role(Role.SYSTEM_ADMIN)


def erase_user(session: Session, *, user: User, by: Actor, now: datetime) -> None:
    """Erase a person who has left: every domain's part (the highest first), then the account
    itself, and the erasure recorded (by whom and when, naming the account by its id only).
    In the session's transaction: the caller commits once."""
    if user.erased_at is not None:
        raise DomainError(N_("This person is already erased."))
    if user.id == by.id:
        raise DomainError(N_("You cannot erase yourself. Ask another administrator."))
    if not may_change(by, user):
        raise DomainError(N_("Only a system administrator can change a system administrator's account."))
    if not may_erase(by, user):
        raise DomainError(N_("Only an administrator of the person's municipality can erase them."))
    user_id = id_of(user)
    for contribution in reversed(contributions()):
        contribution.erase(session, user_id=user_id, by=by, now=now)
    session.refresh(user)  # the contributions may have written to the account's own tables
    user.name = ERASED_NAME
    user.email = f"erased-{user_id}@invalid"  # unique, and no address (RFC 2606's .invalid)
    user.password_hash = None
    user.totp_secret = None
    user.totp_last_step = None
    user.locale = None
    user.last_login_at = None
    user.active = False
    user.erased_at = now
    user.role_grants = []
    session.add(user)
    events.record(session, ERASED, subject_type="user", subject_id=user_id, now=now, actor_id=by.id,
                  municipality_id=user.municipality_id)
