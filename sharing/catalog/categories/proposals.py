"""Sustainability officers' proposed corrections of a category's figures, and their decision.

An officer (of any municipality) proposes new values for some of a category's figures, names
the source that supports them and says why. A system administrator accepts the proposal, which
makes a new version of the figures through ``rules.add_factor_version`` (the proposal's figures
over those in force, with the proposal's source, the version naming the proposal), or declines
it with a reason. A proposal is decided once: of two decisions at the same moment the second is
refused. The figures themselves change only as versions, so they stay the one source the
reports read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from sharing import events as domain_events
from sharing.accounts.models import Actor, Role, User
from sharing.catalog import events
from sharing.catalog.categories import rules
from sharing.catalog.categories.models import Category, CategoryFactor, FigureProposal, ProposalStatus
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.i18n import N_
from sharing.typed import id_of

CITATION_MAX, URL_MAX = 500, 500
REASON_MAX, DECLINE_REASON_MAX = 2000, 1000
SUBJECT = "figure_proposal"
ALREADY_DECIDED = N_("This proposal is already decided, perhaps by someone else at the same moment. Its decision "
                     "is shown below.")


@dataclass(frozen=True)
class ProposedFigures:
    """The figures an officer proposes: None keeps the figure in force."""

    weight_kg: float | None = None
    volume_m3: float | None = None
    new_price_sek: float | None = None
    co2e_new_kg: float | None = None
    co2e_kind: str | None = None  # what the CO2e figure is; only with a CO2e figure

    def given(self) -> dict[str, float]:
        return {field: value for field in rules.FIGURES if (value := getattr(self, field)) is not None}


def may_propose(actor: Actor) -> bool:
    return actor.has_role(Role.SUSTAINABILITY_OFFICER)


def may_decide(actor: Actor) -> bool:
    return actor.has_role(Role.SYSTEM_ADMIN)


def source_of(proposal: FigureProposal) -> str:
    """The source as the new version states it: the citation, then where it can be read."""
    return " – ".join(part for part in (proposal.citation, proposal.url) if part)


def _latest_version(session: Session, category_id: int) -> CategoryFactor | None:
    return session.scalars(select(CategoryFactor).where(col(CategoryFactor.category_id) == category_id)
                           .order_by(col(CategoryFactor.version).desc()).limit(1)).first()


def _url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise DomainError(N_("Enter a web address that begins with https:// or http://."), field="url")
    if len(url) > URL_MAX:
        raise DomainError(N_("The web address has at most %(max)s characters."), field="url", max=URL_MAX)
    return url


def _changes_something(figures: ProposedFigures, kind: str | None, current: CategoryFactor | None) -> bool:
    if current is None:
        return True
    if any(getattr(current, field) != value for field, value in figures.given().items()):
        return True
    return figures.co2e_new_kg is not None and current.co2e_kind != kind


def propose(session: Session, *, category: Category, figures: ProposedFigures, citation: str, url: str,
            reason: str, by: Actor, now: datetime) -> FigureProposal:
    """An open proposal to correct the category's figures; refused (on the field concerned) if a
    figure is not a number from 0 to its bound, no figure would change, there is no source or no
    reason."""
    if not may_propose(by):
        raise NotAllowed()
    given = figures.given()
    rules.check_figures(dict(given))
    if not given:
        raise DomainError(N_("Enter at least one figure you propose."), field="weight_kg")
    kind = rules.co2e_kind_of(figures.co2e_new_kg, figures.co2e_kind)
    current = rules.current_factor(session, id_of(category), at=now)
    if not _changes_something(figures, kind, current):
        raise DomainError(N_("The figures you propose are the ones in use now. Change at least one of them."),
                          field=next(iter(given)))
    citation, url, reason = (citation or "").strip(), _url(url or ""), (reason or "").strip()
    if not citation and not url:
        raise DomainError(N_("Name the source of the figures: the publication, its web address, or both."),
                          field="citation")
    if len(citation) > CITATION_MAX:
        raise DomainError(N_("The source has at most %(max)s characters."), field="citation", max=CITATION_MAX)
    if citation and url and len(citation) + len(url) + 3 > rules.SOURCE_MAX:
        # The new version states both in its source, which holds SOURCE_MAX characters.
        raise DomainError(N_("The source and its web address have at most %(max)s characters together."),
                          field="citation", max=rules.SOURCE_MAX - 3)
    if not reason:
        raise DomainError(N_("Say why the figures should change."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(N_("The reason has at most %(max)s characters."), field="reason", max=REASON_MAX)
    latest = _latest_version(session, id_of(category))
    values: dict[str, Any] = dict(given)
    proposal = FigureProposal(category_id=id_of(category), proposed_by_id=by.id, co2e_kind=kind, citation=citation,
                              url=url, reason=reason, based_on_version=latest.version if latest else None,
                              status=ProposalStatus.OPEN.value, created_at=now, **values)
    session.add(proposal)
    session.flush()
    domain_events.record(session, events.FIGURES_PROPOSED, subject_type=SUBJECT, subject_id=proposal.id, now=now,
                         actor_id=by.id, municipality_id=by.municipality_id,
                         payload={"category_id": proposal.category_id, "figures": sorted(given)})
    return proposal


def resulting_figures(session: Session, proposal: FigureProposal, *, at: datetime | None = None) -> ProposedFigures:
    """The figures a version made from the proposal would hold: those proposed, the others as
    in force (the category's own, or inherited: the new version is the category's own)."""
    current = rules.current_factor(session, proposal.category_id, at=at)
    values = {field: getattr(proposal, field) if getattr(proposal, field) is not None
              else (getattr(current, field) if current is not None else None) for field in rules.FIGURES}
    kind = proposal.co2e_kind if proposal.co2e_new_kg is not None else (current.co2e_kind if current else None)
    return ProposedFigures(**values, co2e_kind=kind)


def changed_since(session: Session, proposal: FigureProposal) -> bool:
    """Whether the category got a new version of its own figures after the proposal was made."""
    latest = _latest_version(session, proposal.category_id)
    return (latest.version if latest else None) != proposal.based_on_version


def _claim(session: Session, proposal: FigureProposal, status: ProposalStatus, *, by: Actor, now: datetime,
           decline_reason: str = "") -> None:
    """Decide the proposal, once: the row changes only while open as the database sees it now
    (not as this session read it), so of two decisions at once the second is refused."""
    if proposal.status != ProposalStatus.OPEN:
        raise Conflict(ALREADY_DECIDED)
    with session.no_autoflush:
        claimed = session.execute(
            update(FigureProposal).where(col(FigureProposal.id) == proposal.id,
                                         col(FigureProposal.status) == ProposalStatus.OPEN.value)
            .values(status=status.value, decided_at=now, decided_by_id=by.id, decline_reason=decline_reason)
            .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        session.refresh(proposal)
        raise Conflict(ALREADY_DECIDED)
    session.refresh(proposal)


def accept(session: Session, *, proposal: FigureProposal, by: Actor, now: datetime) -> CategoryFactor:
    """Make the new version of the category's figures the proposal asks for, in force from ``now``."""
    if not may_decide(by):
        raise NotAllowed()
    category = session.get_one(Category, proposal.category_id)
    figures = resulting_figures(session, proposal, at=now)
    _claim(session, proposal, ProposalStatus.ACCEPTED, by=by, now=now)
    factor = rules.add_factor_version(
        session, category=category, weight_kg=figures.weight_kg, volume_m3=figures.volume_m3,
        new_price_sek=figures.new_price_sek, co2e_new_kg=figures.co2e_new_kg, co2e_kind=figures.co2e_kind,
        source=source_of(proposal), by_user_id=by.id, now=now, proposal_id=proposal.id)
    domain_events.record(session, events.FIGURES_PROPOSAL_ACCEPTED, subject_type=SUBJECT, subject_id=proposal.id,
                         now=now, actor_id=by.id, municipality_id=_municipality_of_proposer(session, proposal),
                         payload={"category_id": proposal.category_id, "version": factor.version})
    return factor


def decline(session: Session, *, proposal: FigureProposal, reason: str, by: Actor, now: datetime) -> None:
    """Decline the proposal, saying why (the officer reads it)."""
    if not may_decide(by):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Say why the proposal is declined: its proposer reads it."), field="reason")
    if len(reason) > DECLINE_REASON_MAX:
        raise DomainError(N_("The reason has at most %(max)s characters."), field="reason", max=DECLINE_REASON_MAX)
    _claim(session, proposal, ProposalStatus.DECLINED, by=by, now=now, decline_reason=reason)
    domain_events.record(session, events.FIGURES_PROPOSAL_DECLINED, subject_type=SUBJECT, subject_id=proposal.id,
                         now=now, actor_id=by.id, municipality_id=_municipality_of_proposer(session, proposal),
                         payload={"category_id": proposal.category_id})


def _municipality_of_proposer(session: Session, proposal: FigureProposal) -> int | None:
    proposer = session.get(User, proposal.proposed_by_id) if proposal.proposed_by_id is not None else None
    return proposer.municipality_id if proposer is not None else None


# --- Reading -----------------------------------------------------------------------------

def visible_proposal(session: Session, proposal_id: int, *, by: Actor) -> FigureProposal:
    """The proposal, for a system administrator or its proposer; anyone else: not found."""
    proposal = session.get(FigureProposal, proposal_id)
    if proposal is None or not (may_decide(by) or (by.id is not None and proposal.proposed_by_id == by.id)):
        raise NotVisible()
    return proposal


def open_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FigureProposal)
                          .where(col(FigureProposal.status) == ProposalStatus.OPEN.value)) or 0


def open_proposals(session: Session) -> list[FigureProposal]:
    """Every open proposal, the oldest first (it has waited longest)."""
    return list(session.scalars(select(FigureProposal).where(col(FigureProposal.status) == ProposalStatus.OPEN.value)
                                .order_by(col(FigureProposal.created_at), col(FigureProposal.id))))


def decided_proposals(session: Session, *, limit: int = 50) -> list[FigureProposal]:
    """The latest decided proposals, newest decision first."""
    return list(session.scalars(select(FigureProposal).where(col(FigureProposal.status) != ProposalStatus.OPEN.value)
                                .order_by(col(FigureProposal.decided_at).desc(), col(FigureProposal.id).desc())
                                .limit(limit)))


def proposals_of(session: Session, *, user_id: int) -> list[FigureProposal]:
    """The user's own proposals, newest first."""
    return list(session.scalars(select(FigureProposal).where(col(FigureProposal.proposed_by_id) == user_id)
                                .order_by(col(FigureProposal.created_at).desc(), col(FigureProposal.id).desc())))


def version_of(session: Session, proposal: FigureProposal) -> CategoryFactor | None:
    """The version of the figures made from the proposal (None unless accepted)."""
    return session.scalar(select(CategoryFactor).where(col(CategoryFactor.proposal_id) == proposal.id))

