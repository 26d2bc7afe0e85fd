"""Telling a sustainability officer how their proposed correction of figures was decided: in the
service, and by e-mail unless they turned that kind of mail off; and the system administrators,
in the service, that a proposal waits for them.

A receiver of the catalog's own events (``sharing.events``): it runs after the decision's commit,
in a session of its own, so a failure here is retried later and never undoes the decision.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts import notifications
from sharing.accounts.mail_preferences.rules import add_mail_kind, wants_mail
from sharing.accounts.models import Role, RoleGrant, User
from sharing.catalog import events
from sharing.catalog.categories.models import Category, FigureProposal
from sharing.events import DomainEvent, add_receiver
from sharing.i18n import N_
from sharing.mail import queue_mail
from sharing.typed import id_of
from sharing.web.paths import path_for

MAIL_KIND = "catalog.figures_proposal"
TOLD = {
    events.FIGURES_PROPOSAL_ACCEPTED: N_("Your proposed correction of the figures of “%(category)s” is accepted: "
                                         "version %(version)s is in use."),
    events.FIGURES_PROPOSAL_DECLINED: N_("Your proposed correction of the figures of “%(category)s” is declined."),
}
SUBJECT = _l("Delningstjänsten: your proposed correction of figures is decided")
WAITING = N_("A proposed correction of the figures of “%(category)s” waits for your decision.")


def tell_proposer(session: Session, event: DomainEvent) -> None:
    proposal = session.get(FigureProposal, event.subject_id) if event.subject_id is not None else None
    if proposal is None or proposal.proposed_by_id is None:
        return
    proposer = session.get(User, proposal.proposed_by_id)
    if proposer is None or not proposer.active or proposer.erased_at is not None:
        return
    category = session.get_one(Category, proposal.category_id)
    message = TOLD[event.name]
    params = {"category": category.name, "version": event.payload.get("version", "")}
    notifications.notify(session, user_id=proposal.proposed_by_id, message=message, params=params,
                         url=path_for("categories.proposal", proposal_id=proposal.id), now=event.occurred_at)
    if wants_mail(session, proposal.proposed_by_id, MAIL_KIND):
        queue_mail(session, to=proposer.email, subject=SUBJECT, locale=proposer.locale,
                   template="catalog/mail/proposal_decided.txt", user=proposer, message=message, params=params,
                   proposal=proposal)


def tell_system_admins(session: Session, event: DomainEvent) -> None:
    proposal = session.get(FigureProposal, event.subject_id) if event.subject_id is not None else None
    if proposal is None:
        return
    category = session.get_one(Category, proposal.category_id)
    deciders = session.scalars(select(User).join(RoleGrant, col(RoleGrant.user_id) == col(User.id)).where(
        col(RoleGrant.role) == Role.SYSTEM_ADMIN.value, col(User.active), col(User.erased_at).is_(None)))
    for decider in deciders:
        if decider.id == proposal.proposed_by_id:
            continue  # not told of one's own
        notifications.notify(session, user_id=id_of(decider), message=WAITING, params={"category": category.name},
                             url=path_for("categories.proposal", proposal_id=proposal.id), now=event.occurred_at)


def register() -> None:
    add_mail_kind(MAIL_KIND, _l("Your proposed correction of a category's figures is decided"))
    add_receiver("catalog.tell-proposer", list(TOLD), tell_proposer)
    add_receiver("catalog.tell-system-admins", [events.FIGURES_PROPOSED], tell_system_admins)
