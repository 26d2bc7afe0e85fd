"""What other domains know of a request, said on its page without loans knowing them: a domain
that serves requests (logistics: their transport) registers what it says (``add_request_facts``),
as receivers of events are registered."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from sharing.loans.requests.models import LoanRequest

# The request's page's lines, in the reader's language (called while the page is rendered).
Facts = Callable[[Session, LoanRequest], list[str]]

_sources: dict[str, Facts] = {}


def add_request_facts(name: str, facts: Facts) -> None:
    """Registering the same name again replaces it (an app built twice, in tests)."""
    _sources[name] = facts


def facts_of(session: Session, request: LoanRequest) -> list[str]:
    return [line for name in sorted(_sources) for line in _sources[name](session, request)]
