"""Demo requests, so that the demo users find requests to decide, hand over and follow: each
made through the loans' own rules, once (none are made when any request exists)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Site, User
from sharing.catalog.demo import DEMO_MARK
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import DomainError
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import LoanRequest, RequestKind

# (requester's e-mail, the owner's municipality, kind, how many, first day from today, days, how far it gets,
# hours ago it was asked: their notices read as sent over the last day, not all at once; what they wrote,
# which suits whatever the listing is)
DEMO_REQUESTS = [
    ("medarbetare@skurup.example", "Trelleborg", RequestKind.BORROW, 1, 7, 14, "approved", 26,
     "Till en temavecka hos oss. Går det att få det levererat?"),
    ("medarbetare@ystad.example", "Skurup", RequestKind.TAKE_OVER, 1, 5, None, "requested", 5,
     "Vi inreder ett nytt personalrum och tar gärna över det."),
    ("medarbetare@trelleborg.example", "Ystad", RequestKind.BORROW, 1, 3, 30, "requested", 2,
     "Vi behöver det under en period hos oss. Passar de datumen?"),
]
DECIDED_AFTER = timedelta(hours=1)


def working_day(day: date, *, earlier: bool = False) -> date:
    """The day, or the Monday after it (``earlier``: the Friday before) if it falls on a weekend:
    the sites are open then. A loan's last day goes earlier, so it never outlasts its listing's limit."""
    while day.weekday() >= 5:
        day += timedelta(days=-1 if earlier else 1)
    return day


def load(session: Session) -> dict[str, int]:
    if session.scalar(select(func.count()).select_from(LoanRequest)):
        return {"requests": 0}
    now = utcnow()
    today = today_in_sweden(now)
    made = 0
    for email, owner, kind, quantity, start, days, reached, hours, message in DEMO_REQUESTS:
        requester = session.scalar(select(User).where(col(User.email) == email))
        offer = {RequestKind.BORROW: Listing.lend, RequestKind.TAKE_OVER: Listing.give_away}[kind]
        listing = session.scalar(
            select(Listing).join(Municipality, col(Municipality.id) == Listing.municipality_id)
            .where(col(Municipality.name) == owner, col(offer), col(Listing.kind) == "thing",
                   col(Listing.status) == ListingStatus.PUBLISHED.value,
                   col(Listing.inventory_number).like(f"{DEMO_MARK}0%"))  # not the guided demo's chairs
            .order_by(col(Listing.id)))
        site = session.scalar(select(Site).where(col(Site.municipality_id) == (requester.municipality_id
                                                                               if requester else 0)))
        if requester is None or listing is None or site is None:
            continue
        first = working_day(today + timedelta(days=start))
        details = loans.RequestDetails(kind=kind, quantity=quantity, first_day=first,
                                       last_day=working_day(first + timedelta(days=days - 1), earlier=True)
                                       if days else None,
                                       delivery_site_id=site.id or 0, transport_needed=kind == RequestKind.BORROW,
                                       message=message)
        try:
            with session.begin_nested():
                asked = now - timedelta(hours=hours)
                request = loans.ask(session, listing_id=listing.id or 0, details=details, by=requester, now=asked)
                if reached == "approved":
                    manager = session.scalar(select(User).where(
                        col(User.email) == f"lokalforsorjning@{owner.lower()}.example"))
                    if manager is not None:
                        loans.approve(session, request, by=manager, now=asked + DECIDED_AFTER)
        except DomainError:
            continue  # a listing whose rules the demo's dates do not fit: leave it out
        made += 1
    return {"requests": made}
