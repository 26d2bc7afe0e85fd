"""What the domains' rules raise, free of Flask: the web and the API show each the same way.

- ``DomainError``: a rule refused an action (a 4xx with its message, on the form's field);
- ``Refused``: refused for several reasons at once, a field each, so a form tells them all;
- ``Conflict``: a refusal because of the record's state now, not of what was asked (a 409 in
  the API: a step its status does not allow, pieces someone else booked first);
- ``NotVisible``: the record does not exist, or the user may not know that it does (a 404);
- ``NotAllowed``: the user may see the record but not do this to it (a 403).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sharing.i18n import Plural


class Term(str):
    """A word in a refusal that is itself a msgid (a status's name), translated when shown."""


class Figure(int):
    """A number in a refusal written as the reader writes numbers when shown ("5 000" in
    Swedish), and as digits in English to the API; a plain int is shown as it is (a year, a line)."""


class DomainError(Exception):
    """A rule refused an action; the message is English, marked for translation (``N_``, or
    ``NP_`` for one with a plural form, counted by its parameter ``num``).

    Views show it with ``error.shown(gettext, ngettext)`` (``web.forms.refusal``), or map it onto
    a field; ``in_english`` is the message as the API gives it.
    """

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        self.message = message
        self.field = field
        self.params = params
        super().__init__(self.in_english())

    def in_english(self) -> str:
        message = self.message.in_english(self.params["num"]) if isinstance(self.message, Plural) else self.message
        return message % self.params if self.params else message

    def shown(self, gettext: Callable[[str], str], ngettext: Callable[..., str],
              number: Callable[[int], str] = str) -> str:
        """The message in the reader's language, its ``Term`` words too, and its ``Figure``s as
        ``number`` writes them."""
        params = {name: gettext(value) if isinstance(value, Term) else number(value) if isinstance(value, Figure)
                  else value for name, value in self.params.items()}
        if isinstance(self.message, Plural):
            others = {name: value for name, value in params.items() if name != "num"}  # num: its own argument
            return ngettext(self.message, self.message.plural, params["num"], **others)
        return gettext(self.message) % params if params else gettext(self.message)


class Refused(DomainError):
    """Refused for every one of ``problems`` (a field each, in the form's order), so that what is
    wrong is corrected in one round; read as the first of them where one is enough."""

    def __init__(self, problems: Sequence[DomainError]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field, **first.params)
        self.problems = list(problems)


def refuse_any(problems: Sequence[DomainError]) -> None:
    """Raise ``Refused`` with these problems, if there are any."""
    if problems:
        raise Refused(problems)


def problems_of(error: DomainError) -> list[DomainError]:
    """Every problem a refusal tells: each of a ``Refused``, else the refusal itself. Whoever
    shows a refusal (a form, a flash, the API, the command line) shows all of these."""
    return list(error.problems) if isinstance(error, Refused) else [error]


class Conflict(DomainError):
    """The action does not fit the record's current state (which may have changed meanwhile)."""


class NotVisible(Exception):
    """No such record for this user: shown as "not found", whether it is missing or hidden."""


class NotAllowed(Exception):
    """The user may see the record, but their role or municipality does not let them do this."""
