"""Demo reuse, so that ``make run`` shows a populated dashboard: take-overs completed over the
past year between the demo municipalities, made through the loans' own rules (their events
reach the ledger through its real receiver), and a transport of some of them. Made once (none
when the ledger has entries)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from sharing import events
from sharing.accounts.models import Municipality, Site, User
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import DomainError
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.reports.ledger.models import ReuseEntry
from sharing.reports.ledger.rules import TRANSPORT_COMPLETED

PAIRS = [("Ystad", "Trelleborg"), ("Skurup", "Ystad"), ("Trelleborg", "Skurup"), ("Ystad", "Skurup"),
         ("Skurup", "Trelleborg"), ("Trelleborg", "Ystad")]


def load(session: Session) -> dict[str, int]:
    if session.scalar(select(func.count()).select_from(ReuseEntry)):
        return {"take-overs for the reuse statistics": 0}
    now = utcnow()
    made = []
    for n in range(12):
        giver, taker = PAIRS[n % len(PAIRS)]
        at = now - timedelta(days=30 * n + 7)
        requester = session.scalar(select(User).where(col(User.email) == f"medarbetare@{taker.lower()}.example"))
        manager = session.scalar(select(User).where(col(User.email) == f"lokalforsorjning@{giver.lower()}.example"))
        listing = session.scalar(
            select(Listing).join(Municipality, col(Municipality.id) == Listing.municipality_id)
            .where(col(Municipality.name) == giver, col(Listing.give_away), col(Listing.kind) == "thing",
                   col(Listing.status) == ListingStatus.PUBLISHED.value, col(Listing.quantity) >= 2,
                   col(Listing.published_at) < at - timedelta(days=2))  # listed before it was asked for
            .order_by(col(Listing.id)).offset(n // len(PAIRS)))
        site = session.scalar(select(Site).where(col(Site.municipality_id) == (requester.municipality_id
                                                                               if requester else 0)))
        if requester is None or manager is None or listing is None or site is None:
            continue
        # delivered, as its handover says
        details = loans.RequestDetails(kind=RequestKind.TAKE_OVER, quantity=1, first_day=today_in_sweden(at),
                                       last_day=None, delivery_site_id=site.id or 0, transport_needed=True,
                                       message="Vi har användning för det i verksamheten och tar gärna över det.")
        try:
            with session.begin_nested():
                request = loans.ask(session, listing_id=listing.id or 0, details=details, by=requester,
                                    now=at - timedelta(days=2))
                if request.status == "requested":
                    loans.approve(session, request, by=manager, now=at - timedelta(days=1))
                # the receiving side records the handover (either side may), so the givers' trail stays theirs
                loans.hand_over(session, request, condition=None, method=HandoverMethod.TRANSPORT, by=requester,
                                now=at)
                # and the givers confirm it, which closes the take-over: a year's history is done, not open
                loans.confirm(session, request, by=manager, now=at + timedelta(hours=3))
                made.append((request, at))
        except DomainError:
            continue  # a listing whose rules the demo's dates do not fit: leave it out
    if made:
        request, at = made[0]
        events.record(session, TRANSPORT_COMPLETED, subject_type="logistics.route", subject_id=None, now=at,
                      municipality_id=request.owner_municipality_id, payload={
                          "route_id": 0, "day": today_in_sweden(at).isoformat(), "km": 24.0, "co2e_kg": 5.8,
                          "factor_source": "Demo: lätt lastbil, diesel", "method": "distance",
                          "attributions": [{"request_id": request.id, "km": 24.0, "co2e_kg": 5.8}]})
    return {"take-overs for the reuse statistics": len(made)}
