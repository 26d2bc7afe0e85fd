"""Subscribing to the monthly report, when a month's report is due, and the claim that mails
it once.

A month's report is due from ``SEND_FROM`` (Swedish time) on the first working day of the next
month, and stays due for the rest of that month (a scheduler that was down sends it late, once).
It goes to the subscriptions made before that month ended: one made later waits for its first
whole month. Plain functions of a session: nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role, User
from sharing.catalog.categories.models import Category
from sharing.clock import SWEDEN
from sharing.errors import DomainError, NotAllowed
from sharing.i18n import N_
from sharing.reports.dashboard.rules import Selection
from sharing.reports.subscriptions.models import ReportMailing, ReportSubscription
from sharing.reports.subscriptions.working_days import first_working_day
from sharing.typed import id_of

SEND_FROM = time(7, 0)  # Swedish time: nobody needs a report at midnight
MAX_CATEGORIES = 50
SUBSCRIBERS = (Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN)


def subscription_of(session: Session, user_id: int | None) -> ReportSubscription | None:
    return session.scalars(select(ReportSubscription).where(col(ReportSubscription.user_id) == user_id)).first()


def category_ids(subscription: ReportSubscription) -> tuple[int, ...]:
    return tuple(int(n) for n in subscription.category_ids.split(",") if n)


def subscribe(session: Session, *, category_ids: Sequence[int], by: Actor, now: datetime) -> ReportSubscription:
    """Subscribe ``by`` to the monthly report of their municipality and the categories (none:
    all); a second call changes the categories of the one subscription."""
    if not any(by.has_role(role) for role in SUBSCRIBERS):
        raise NotAllowed("monthly report")
    chosen = sorted(set(category_ids))
    if len(chosen) > MAX_CATEGORIES:
        raise DomainError(N_("Choose at most %(n)d categories."), field="categories", n=MAX_CATEGORIES)
    known = set(session.scalars(select(col(Category.id)).where(col(Category.id).in_(chosen)))) if chosen else set()
    if known != set(chosen):
        raise DomainError(N_("Choose categories from the list."), field="categories")
    subscription = subscription_of(session, by.id)
    if subscription is None:
        subscription = ReportSubscription(user_id=id_of(by), municipality_id=by.municipality_id, created_at=now,
                                          updated_at=now)
        session.add(subscription)
    subscription.municipality_id = by.municipality_id
    subscription.category_ids = ",".join(str(n) for n in chosen)
    subscription.updated_at = now
    session.flush()
    return subscription


def unsubscribe(session: Session, *, by: Actor) -> bool:
    """End ``by``'s subscription (and its record of reports sent); False if there was none."""
    subscription = subscription_of(session, by.id)
    if subscription is None:
        return False
    for mailing in session.scalars(select(ReportMailing)
                                   .where(col(ReportMailing.subscription_id) == subscription.id)):
        session.delete(mailing)
    session.delete(subscription)
    session.flush()
    return True


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def previous_month(day: date) -> int:
    return month_of(day.replace(day=1) - timedelta(days=1))


def month_days(month: int) -> tuple[date, date]:
    first = date(month // 100, month % 100, 1)
    next_first = (first + timedelta(days=31)).replace(day=1)
    return first, next_first - timedelta(days=1)


def month_due(now: datetime) -> int | None:
    """The month (yyyymm) whose report is due at ``now``, if any: the previous month's, from
    ``SEND_FROM`` on the first working day of this one."""
    local = now.astimezone(SWEDEN)
    today = local.date()
    first = first_working_day(today.year, today.month)
    if today < first or (today == first and local.time() < SEND_FROM):
        return None
    return previous_month(today)


def due(session: Session, *, month: int) -> list[int]:
    """The subscriptions (ids) that are to get ``month``'s report and have not got it: those made
    before the month ended."""
    _first, last = month_days(month)
    month_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=SWEDEN)
    sent = select(col(ReportMailing.subscription_id)).where(col(ReportMailing.month) == month)
    return list(session.scalars(
        select(col(ReportSubscription.id)).where(col(ReportSubscription.created_at) < month_end,
                                                 col(ReportSubscription.id).not_in(sent))
        .order_by(col(ReportSubscription.id))))


def selection(subscription: ReportSubscription, month: int) -> Selection:
    first, last = month_days(month)
    return Selection(first, last, municipality_ids=(subscription.municipality_id,),
                     category_ids=category_ids(subscription))


def claim(session: Session, *, subscription_id: int, month: int, now: datetime) -> bool:
    """Record that ``month``'s report is sent to the subscription, in the session's transaction:
    True if this transaction may send it, False if another has (or is about to, once it commits).

    INSERT ... ON CONFLICT DO NOTHING on the unique (subscription_id, month): on PostgreSQL a
    second transaction inserting the same row waits for the first to end and then inserts
    nothing; on SQLite it is the transaction's first write, which waits for the database's write
    lock and then sees the first's row. Call it first in its transaction, before the mail is queued."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(insert(ReportMailing).values(subscription_id=subscription_id, month=month,
                                                            sent_at=now)
                               .on_conflict_do_nothing(index_elements=["subscription_id", "month"])
                               .returning(col(ReportMailing.id)))
    return inserted.first() is not None


def still_wanted(session: Session, subscription: ReportSubscription) -> bool:
    """Whether its user may still have it: active, in that municipality, with a reader's role."""
    user = session.get(User, subscription.user_id)
    return (user is not None and user.active and user.municipality_id == subscription.municipality_id
            and any(user.has_role(role) for role in SUBSCRIBERS))

