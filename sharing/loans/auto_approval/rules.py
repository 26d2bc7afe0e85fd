"""Auto-approval: which rule, if any, approves a request at once, and who may set the rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import ancestors
from sharing.catalog.listings.models import MAX_LOAN_DAYS, MAX_QUANTITY, Listing
from sharing.errors import DomainError, NotAllowed, NotVisible
from sharing.i18n import N_
from sharing.loans.auto_approval.models import AutoApproval
from sharing.loans.requests.models import LoanRequest, RequestKind


def can_manage(user: Actor) -> bool:
    """A municipality's facility managers and administrators set its rules."""
    return user.has_role(Role.FACILITY_MANAGER, Role.MUNICIPALITY_ADMIN)


def rules_of(session: Session, municipality_id: int) -> list[AutoApproval]:
    return list(session.scalars(select(AutoApproval).where(col(AutoApproval.municipality_id) == municipality_id)
                                .order_by(col(AutoApproval.id))))


def add_rule(session: Session, *, kind: RequestKind, category_id: int | None, max_quantity: int | None,
             max_days: int | None, by: Actor, now: datetime) -> AutoApproval:
    if not can_manage(by):
        raise NotAllowed("auto-approval rules")
    if category_id is not None and session.get(Category, category_id) is None:
        raise DomainError(N_("Choose a category from the list."), field="category_id")
    if max_quantity is not None and not 1 <= max_quantity <= MAX_QUANTITY:
        raise DomainError(N_("Enter at least 1 piece."), field="max_quantity")
    if max_days is not None and not 1 <= max_days <= MAX_LOAN_DAYS:
        raise DomainError(N_("Enter at least 1 day."), field="max_days")
    rule = AutoApproval(municipality_id=by.municipality_id, category_id=category_id, kind=kind.value,
                        max_quantity=max_quantity, max_days=max_days if kind == RequestKind.BORROW else None,
                        created_by_id=by.id, created_at=now)
    session.add(rule)
    session.flush()
    return rule


def remove_rule(session: Session, *, rule_id: int, by: Actor) -> None:
    rule = session.get(AutoApproval, rule_id)
    if rule is None or rule.municipality_id != by.municipality_id:
        raise NotVisible(f"auto-approval rule {rule_id}")
    if not can_manage(by):
        raise NotAllowed("auto-approval rules")
    session.delete(rule)
    session.flush()


def rule_for(session: Session, request: LoanRequest, listing: Listing) -> AutoApproval | None:
    """The owner's first rule that approves this request, or None. Most owners have none for
    most kinds: the listing's categories are looked up only when a rule names one."""
    rules = session.scalars(select(AutoApproval).where(
        col(AutoApproval.municipality_id) == request.owner_municipality_id,
        col(AutoApproval.kind) == request.kind).order_by(col(AutoApproval.id))).all()
    if not rules:
        return None
    categories: set[int | None] = set()
    if any(rule.category_id is not None for rule in rules):
        category = session.get(Category, listing.category_id)
        categories = {c.id for c in ancestors(session, category)} if category is not None else set()
    days = round((request.ends_at - request.starts_at).total_seconds() / 86400) if request.ends_at else None
    for rule in rules:
        if rule.category_id is not None and rule.category_id not in categories:
            continue
        if rule.max_quantity is not None and request.quantity > rule.max_quantity:
            continue
        if rule.max_days is not None and (days is None or days > rule.max_days):
            continue
        return rule
    return None
