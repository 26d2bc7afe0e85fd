"""Transport jobs: made from requests' events and by coordinators, who sees them, their status,
and each job on its day as the planner needs it.

A request that needs transport gets its jobs once it is approved: the delivery of its pieces
from the owner's site to the requester's on its first day; for a loan, their return on its last
day; for a swap, the pieces offered in exchange, to the owner's site. From then on the jobs
follow the request (``follow_request``, run for each of its events): cancelled or declined, its
open jobs are cancelled; extended, the return moves; handed over or returned by the loans' own
steps, the job is done (unless its own route made the step, by its pickup: then the route
finishes it). A job that changes while it is planned is marked (``changed_after_planning``) and
its coordinators are told, by a receiver of the event recorded (``jobs.notices``).

Loads are in the planner's units (whole litres and kilograms, rounded up); time windows are the
sites' opening hours on the job's weekday, in seconds from that day's midnight, read anew
whenever a job is read (``scheduled``), never kept: a site whose hours change changes its jobs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Municipality, OpeningHours, Role, Site
from sharing.catalog.categories.rules import current_factor
from sharing.catalog.holds.rules import day_before
from sharing.catalog.listings.models import MAX_QUANTITY, Listing
from sharing.clock import SWEDEN, today_in_sweden
from sharing.db import Page
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible, Term
from sharing.events import record
from sharing.i18n import N_
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestStatus
from sharing.loans.requests.rules import BOOKING_HORIZON
from sharing.logistics import events
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.jobs.models import JobKind, JobStatus, LoadSource, TransportJob
from sharing.logistics.planning import problem
from sharing.logistics.plans.models import PlannedStop, StopStatus
from sharing.typed import id_of, relation

J = JobStatus
ACTIVE = (J.OPEN, J.PLANNED)  # still to be carried
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    J.OPEN: frozenset({J.PLANNED, J.DONE, J.CANCELLED}),
    J.PLANNED: frozenset({J.OPEN, J.DONE, J.FAILED, J.CANCELLED}),
    J.FAILED: frozenset({J.OPEN, J.DONE, J.CANCELLED}),
}
EVENT_OF = {J.PLANNED: events.JOB_PLANNED, J.OPEN: events.JOB_REOPENED, J.DONE: events.JOB_DONE,
            J.FAILED: events.JOB_FAILED, J.CANCELLED: events.JOB_CANCELLED}
# How a status is named inside a sentence.
STATUS_NAMES = {J.OPEN: N_("open"), J.PLANNED: N_("planned"), J.DONE: N_("done"), J.FAILED: N_("failed"),
                J.CANCELLED: N_("called off")}
GOODS_MAX, NOTES_MAX = 300, 500
MAX_VOLUME_M3 = 100.0
MAX_WEIGHT_KG = 40_000.0
WHOLE_DAY = problem.Window(0, 24 * 3600 - 1)
NOTES_KEPT = timedelta(days=90)  # after a job's day: what was written for its driver
FURTHEST_AHEAD = BOOKING_HORIZON  # a job added, or a day planned, no further ahead than a booking


# --- Loads -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Load:
    volume_l: int
    weight_kg: int
    source: LoadSource


def round_up(value: float) -> int:
    """Up to a whole number, past the float's noise (0.4 m³ × 3 is 1200 litres, not 1201)."""
    return math.ceil(round(value, 6))


def load_of(session: Session, *, listing: Listing, quantity: int, at: datetime) -> Load:
    """``quantity`` pieces of the listing: its own volume and weight per piece, or else its
    category's typical ones (as the catalog gives them, in force at ``at``); a figure neither
    has counts as nothing, and the load says so."""
    volume, weight = listing.volume_m3, listing.weight_kg
    source = LoadSource.LISTING
    if volume is None or weight is None:
        factor = current_factor(session, listing.category_id, at=at)
        if volume is None and factor is not None and factor.volume_m3 is not None:
            volume, source = factor.volume_m3, LoadSource.CATEGORY
        if weight is None and factor is not None and factor.weight_kg is not None:
            weight, source = factor.weight_kg, LoadSource.CATEGORY
    if volume is None or weight is None:
        source = LoadSource.UNKNOWN
    return Load(round_up((volume or 0) * 1000 * quantity), round_up((weight or 0) * quantity), source)


# --- Windows -----------------------------------------------------------------------------------

def seconds(moment: time) -> int:
    """A time of day as seconds from midnight (the planner's clock)."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def windows_on(hours: Iterable[OpeningHours], day: date) -> tuple[problem.Window, ...]:
    """A site's opening intervals on the day, earliest first; none: it is closed that day. A site
    with no opening hours on record takes pickups and deliveries at any hour (as a booking does)."""
    hours = list(hours)
    if not hours:
        return (WHOLE_DAY,)
    return tuple(problem.Window(seconds(h.opens), seconds(h.closes))
                 for h in sorted(hours, key=lambda h: h.opens) if h.weekday == day.weekday())


@dataclass(frozen=True)
class Stop:
    """One end of a job: its site, and the site's opening intervals on the job's day."""

    site_id: int
    municipality_id: int
    name: str
    street_address: str
    postal_code: str
    locality: str
    latitude: float
    longitude: float
    access_notes: str
    windows: tuple[problem.Window, ...]

    @property
    def closed(self) -> bool:
        """The site is closed on the job's day: the job cannot be served then."""
        return not self.windows

    @property
    def window(self) -> problem.Window | None:
        """The one window the planner takes: the longest interval (the earliest of equals)."""
        return max(self.windows, key=lambda w: w.end - w.start, default=None)


@dataclass(frozen=True)
class ScheduledJob:
    """A job on its day: the job, and its pickup and delivery stops with their windows."""

    job: TransportJob
    pickup: Stop
    delivery: Stop

    @property
    def closed(self) -> bool:
        """Either site is closed that day: the planner lists the job as unserved."""
        return self.pickup.closed or self.delivery.closed

    @property
    def load(self) -> tuple[int, int]:
        """The planner's load: litres, then kilograms."""
        return self.job.volume_l, self.job.weight_kg


def _stop(site: Site, day: date) -> Stop:
    return Stop(site_id=id_of(site), municipality_id=site.municipality_id, name=site.name,
                street_address=site.street_address, postal_code=site.postal_code, locality=site.locality,
                latitude=site.latitude, longitude=site.longitude, access_notes=site.access_notes,
                windows=windows_on(site.opening_hours, day))


def scheduled(session: Session, jobs: Sequence[TransportJob]) -> list[ScheduledJob]:
    """The jobs with their stops, in the order given (their sites and hours read in two queries)."""
    site_ids = {site_id for job in jobs for site_id in (job.pickup_site_id, job.delivery_site_id)}
    sites = {id_of(site): site for site in session.scalars(
        select(Site).where(col(Site.id).in_(site_ids)).options(selectinload(relation(Site.opening_hours))))
    } if site_ids else {}
    return [ScheduledJob(job, _stop(sites[job.pickup_site_id], job.day), _stop(sites[job.delivery_site_id], job.day))
            for job in jobs]


def shipment_of(entry: ScheduledJob, *, pickup: int, delivery: int, pickup_service_s: int = 0,
                delivery_service_s: int = 0) -> problem.Shipment | None:
    """The job as the planner takes it (``pickup`` and ``delivery``: its sites' places in the
    matrices); None when a site is closed that day: then it is no shipment, but listed as
    unserved by whoever builds the problem."""
    if entry.pickup.window is None or entry.delivery.window is None:
        return None
    return problem.Shipment(key=str(id_of(entry.job)), pickup=pickup, delivery=delivery, load=entry.load,
                            pickup_window=entry.pickup.window, delivery_window=entry.delivery.window,
                            pickup_service_s=pickup_service_s, delivery_service_s=delivery_service_s)


# --- Who sees what --------------------------------------------------------------------------------

def _in_scope(scope: frozenset[int]) -> Any:
    ids = sorted(scope)
    return or_(col(TransportJob.pickup_municipality_id).in_(ids), col(TransportJob.delivery_municipality_id).in_(ids))


def can_see(session: Session, user: Actor, job: TransportJob) -> bool:
    """The transport coordinators who plan for either end's municipality."""
    if not coordination.is_coordinator(user):
        return False
    scope = coordination.scope_of(session, user)
    return job.pickup_municipality_id in scope or job.delivery_municipality_id in scope


def can_carry(session: Session, user: Actor, job: TransportJob) -> bool:
    """The drivers of the municipalities whose coordinators see the job: they report it done or failed."""
    return user.has_role(Role.DRIVER) and user.municipality_id in coordination.municipalities_seeing(
        session, (job.pickup_municipality_id, job.delivery_municipality_id))


def job_to_see(session: Session, user: Actor, job_id: int) -> TransportJob:
    job = session.get(TransportJob, job_id)
    if job is None or not can_see(session, user, job):
        raise NotVisible(f"transport job {job_id}")
    return job


def coordinators_told(session: Session, job: TransportJob) -> list[Any]:
    """The coordinators who see the job (``coordination.municipalities_seeing``): those told of it."""
    return coordination.coordinators_of(session, coordination.municipalities_seeing(
        session, (job.pickup_municipality_id, job.delivery_municipality_id)))


# Which jobs a list shows: one status, those still to be carried, or all.
STATES = ("active", *(status.value for status in JobStatus), "all")


@dataclass
class JobFilters:
    """A list's filters: one day (else from ``from_day`` on, else every day), a state, one
    municipality of those the coordinator plans for."""

    day: date | None = None
    from_day: date | None = None
    state: str = "active"
    municipality_id: int | None = None
    changed_only: bool = False
    page: int = 1
    per_page: int = 50


def find_jobs(session: Session, *, by: Actor, filters: JobFilters) -> Page[ScheduledJob]:
    """The jobs the coordinator plans for, by day, then id."""
    if not coordination.is_coordinator(by):
        raise NotAllowed("transport jobs")
    scope = coordination.scope_of(session, by)
    if filters.municipality_id is not None:
        scope = scope & {filters.municipality_id}
    query = select(TransportJob).where(_in_scope(scope))
    if filters.day is not None:
        query = query.where(col(TransportJob.day) == filters.day)
    elif filters.from_day is not None:
        query = query.where(col(TransportJob.day) >= filters.from_day)
    if filters.state == "active":
        query = query.where(col(TransportJob.status).in_([s.value for s in ACTIVE]))
    elif filters.state != "all":
        query = query.where(col(TransportJob.status) == JobStatus(filters.state).value)
    if filters.changed_only:
        query = query.where(col(TransportJob.changed_after_planning))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(col(TransportJob.day), col(TransportJob.id))
                           .limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).all()
    return Page(items=scheduled(session, rows), total=total, page=filters.page, per_page=filters.per_page)


def jobs_for_day(session: Session, *, day: date, by: Actor,
                 statuses: Iterable[JobStatus] = ACTIVE) -> list[ScheduledJob]:
    """Every job of the day the coordinator plans for, by id, with its stops and windows: what a
    day's planning problem is made of (those ``closed`` are listed unserved)."""
    if not coordination.is_coordinator(by):
        raise NotAllowed("transport jobs")
    rows = session.scalars(select(TransportJob).where(
        _in_scope(coordination.scope_of(session, by)), col(TransportJob.day) == day,
        col(TransportJob.status).in_([JobStatus(s).value for s in statuses])).order_by(col(TransportJob.id))).all()
    return scheduled(session, rows)


def municipality_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row[0]: row[1] for row in session.execute(
        select(col(Municipality.id), col(Municipality.name)).where(col(Municipality.id).in_(wanted)))}


# --- Recording ------------------------------------------------------------------------------------

def _record(session: Session, name: str, job: TransportJob, *, by: Actor | None, now: datetime,
            extra: dict[str, Any] | None = None) -> None:
    record(session, name, subject_type=events.JOB_SUBJECT, subject_id=id_of(job), now=now,
           actor_id=by.id if by is not None else None, municipality_id=job.pickup_municipality_id,
           payload={"kind": job.kind, "status": job.status, "request_id": job.request_id,
                    "day": job.day.isoformat(), "pickup_site_id": job.pickup_site_id,
                    "delivery_site_id": job.delivery_site_id, "volume_l": job.volume_l, "weight_kg": job.weight_kg,
                    **(extra or {})})


def set_status(session: Session, job: TransportJob, to: JobStatus, *, by: Actor | None, now: datetime,
               extra: dict[str, Any] | None = None) -> None:
    """Move a job on (``TRANSITIONS``): planned, taken off a plan, done, failed, cancelled. ``by``
    None: the service itself, following a request. A planned job cancelled or done by anything
    but its plan is marked changed after planning, and its coordinators are told; planning it
    again clears the mark. Two steps at once from one status: the second is refused.

    Who: the coordinators who see the job; its drivers (``can_carry``) only report it done or failed."""
    if by is not None and not can_see(session, by, job):
        if not can_carry(session, by, job):
            raise NotVisible(f"transport job {job.id}")
        if to not in (J.DONE, J.FAILED):
            raise NotAllowed(f"transport job {job.id}")
    current = JobStatus(job.status)
    if to not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(N_("A transport job that is “%(current)s” cannot become “%(target)s”. "
                          "Reload the page to see it as it is now."),
                       current=Term(STATUS_NAMES[current]), target=Term(STATUS_NAMES[to]))
    with session.no_autoflush:
        moved = session.execute(update(TransportJob).where(col(TransportJob.id) == job.id,
                                                           col(TransportJob.status) == current.value)
                                .values(status=to.value).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
        session.refresh(job)
        raise Conflict(N_("Someone else changed this transport job meanwhile: it is now “%(current)s”."),
                       current=Term(STATUS_NAMES[JobStatus(job.status)]))
    extra = dict(extra or {})
    if to == J.PLANNED:
        job.changed_after_planning = False
    elif extra.get("changed_after_planning"):
        job.changed_after_planning = True
    job.status, job.updated_at = to.value, now
    session.add(job)
    session.flush()
    _record(session, EVENT_OF[to], job, by=by, now=now, extra={"from": current.value, **extra})


def _planner(user: Actor, job: TransportJob, session: Session) -> None:
    if not can_see(session, user, job):
        raise NotVisible(f"transport job {job.id}")


# --- Coordinators' own jobs -----------------------------------------------------------------------

@dataclass
class ManualJobDetails:
    """What a coordinator enters for a job of their own (types and lengths checked by the form or the API)."""

    pickup_site_id: int
    delivery_site_id: int
    day: date
    goods: str
    volume_m3: float
    weight_kg: float
    quantity: int = 1
    notes: str = ""


def _site(session: Session, site_id: int, *, field: str) -> Site:
    site = session.get(Site, site_id)
    if site is None or not site.active:
        raise DomainError(N_("Choose a site from the list."), field=field)
    return site


def _notes(notes: str) -> str:
    notes = notes.strip()
    if len(notes) > NOTES_MAX:
        raise DomainError(N_("Keep the notes under %(n)d characters."), field="notes", n=NOTES_MAX)
    return notes


def check_day(day: date, *, now: datetime, field: str = "day") -> None:
    """A day to carry or plan transport on: not past (in Sweden), nor more than about two years
    ahead (``FURTHEST_AHEAD``)."""
    today = today_in_sweden(now)
    if day < today:
        raise DomainError(N_("The day must not be in the past."), field=field)
    if day > today + FURTHEST_AHEAD:
        raise DomainError(N_("Choose a day no later than %(last)s."), field=field,
                          last=(today + FURTHEST_AHEAD).isoformat())


def add_manual_job(session: Session, *, details: ManualJobDetails, by: Actor, now: datetime) -> TransportJob:
    """A job a coordinator adds: between any two sites of the partners, one of them in a
    municipality they plan for, on a day not past nor more than about two years ahead."""
    if not coordination.is_coordinator(by):
        raise NotAllowed("transport jobs")
    pickup = _site(session, details.pickup_site_id, field="pickup_site_id")
    delivery = _site(session, details.delivery_site_id, field="delivery_site_id")
    if pickup.id == delivery.id:
        raise DomainError(N_("Deliver to another site than the one picked up from."), field="delivery_site_id")
    scope = coordination.scope_of(session, by)
    if pickup.municipality_id not in scope and delivery.municipality_id not in scope:
        raise DomainError(N_("Pick up or deliver at a site of a municipality you plan for."), field="pickup_site_id")
    check_day(details.day, now=now)
    goods = details.goods.strip()
    if not goods:
        raise DomainError(N_("Say what is to be carried."), field="goods")
    if len(goods) > GOODS_MAX:
        raise DomainError(N_("Keep the description under %(n)d characters."), field="goods", n=GOODS_MAX)
    if not 1 <= details.quantity <= MAX_QUANTITY:
        raise DomainError(N_("Enter at least 1 piece."), field="quantity")
    if not (math.isfinite(details.volume_m3) and 0 < details.volume_m3 <= MAX_VOLUME_M3):
        raise DomainError(N_("Give the volume in m³, more than 0 and at most %(max)s."), field="volume_m3",
                          max=int(MAX_VOLUME_M3))
    if not (math.isfinite(details.weight_kg) and 0 < details.weight_kg <= MAX_WEIGHT_KG):
        raise DomainError(N_("Give the weight in kg, more than 0 and at most %(max)s."), field="weight_kg",
                          max=int(MAX_WEIGHT_KG))
    job = TransportJob(kind=JobKind.MANUAL.value, quantity=details.quantity, goods=goods,
                       volume_l=round_up(details.volume_m3 * 1000), weight_kg=round_up(details.weight_kg),
                       load_source=LoadSource.ENTERED.value, pickup_site_id=id_of(pickup),
                       delivery_site_id=id_of(delivery), pickup_municipality_id=pickup.municipality_id,
                       delivery_municipality_id=delivery.municipality_id, day=details.day,
                       notes=_notes(details.notes), created_by_id=by.id, created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    _record(session, events.JOB_CREATED, job, by=by, now=now)
    return job


def may_cancel(user: Actor, job: TransportJob) -> bool:
    """Whether the user is of the municipality the job picks up from or delivers to, or added it
    (one planning jointly may add a job between two other municipalities: their mistake is
    theirs to undo)."""
    return (user.municipality_id in (job.pickup_municipality_id, job.delivery_municipality_id)
            or (user.id is not None and user.id == job.created_by_id))


def cancel_job(session: Session, job: TransportJob, *, by: Actor, now: datetime) -> None:
    """A coordinator of either end, or the one who added it, cancels a job added by hand; a
    request's jobs end with the request. One planning it jointly for another municipality
    carries it, but it is not theirs to call off."""
    _planner(by, job, session)
    if not may_cancel(by, job):
        raise NotAllowed(f"transport job {job.id}: not of the canceller's municipality")
    if job.kind != JobKind.MANUAL.value:
        raise Conflict(N_("A request's transport ends with the request: it is cancelled when the request is."))
    set_status(session, job, J.CANCELLED, by=by, now=now,
               extra={"changed_after_planning": True} if job.status == J.PLANNED.value else None)


def change_notes(session: Session, job: TransportJob, *, notes: str, by: Actor, now: datetime) -> None:
    """What the driver should know (the way in, who to ask for): no more personal data than that."""
    _planner(by, job, session)
    notes = _notes(notes)
    if notes == job.notes:
        return
    before, job.notes, job.updated_at = job.notes, notes, now
    session.add(job)
    session.flush()
    _record(session, events.JOB_CHANGED, job, by=by, now=now, extra={"changes": {"notes": [bool(before), bool(notes)]}})


def acknowledge_change(session: Session, job: TransportJob, *, by: Actor, now: datetime) -> None:
    """The coordinator has seen that the job changed after it was planned: the mark goes."""
    _planner(by, job, session)
    if job.changed_after_planning:
        job.changed_after_planning, job.updated_at = False, now
        session.add(job)
        session.flush()


def last_failure(session: Session, job: TransportJob) -> PlannedStop | None:
    """The job's stop last reported failed (a failed pickup fails its delivery with it: the
    pickup, reported first, stands for both), with the driver's reason and note."""
    return session.scalars(select(PlannedStop).where(
        col(PlannedStop.job_id) == job.id, col(PlannedStop.status) == StopStatus.FAILED.value)
        .order_by(col(PlannedStop.done_at).desc(), col(PlannedStop.id).desc())).first()


def delivered_by(session: Session, job: TransportJob) -> date | None:
    """The last day a request's delivery can still be made on: its loan's last day (None for a
    return, a manual job or a take-over)."""
    request = session.get(LoanRequest, job.request_id) if job.request_id is not None else None
    return last_day(request) if request is not None and job.kind != JobKind.RETURN.value else None


def plan_again(session: Session, job: TransportJob, *, day: date, by: Actor, now: datetime) -> None:
    """A coordinator who sees a failed job opens it to be planned again, on ``day`` (not past,
    nor too far ahead; a request's delivery no later than the loan's last day): the job is
    open on that day, and seen (no longer marked changed)."""
    _planner(by, job, session)
    if job.status != J.FAILED.value:
        raise Conflict(N_("Only a failed transport job is planned again this way. Reload the page to see it as "
                          "it is now."))
    end = delivered_by(session, job)
    if end is not None and end < today_in_sweden(now):  # no day is left to choose: not the day's fault
        raise Conflict(N_("The loan's last day has passed: extend the loan, or cancel the request, first."))
    check_day(day, now=now)
    if end is not None and day > end:
        raise DomainError(N_("Choose a day no later than %(last)s, the loan's last day."), field="day",
                          last=end.isoformat())
    before = job.day
    job.day, job.changed_after_planning = day, False  # written with the status, or refreshed away if refused
    set_status(session, job, J.OPEN, by=by, now=now,
               extra={"changes": {"day": [before.isoformat(), day.isoformat()]}} if day != before else None)


def clear_old_notes(session: Session, *, today: date) -> int:
    """Delete what was written for drivers ``NOTES_KEPT`` after the job's day; returns how many."""
    result = session.execute(update(TransportJob).where(col(TransportJob.day) < today - NOTES_KEPT,
                                                        col(TransportJob.notes) != "").values(notes=""))
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result is a CursorResult


# --- Following requests ---------------------------------------------------------------------------

def first_day(request: LoanRequest) -> date:
    return request.starts_at.astimezone(SWEDEN).date()


def last_day(request: LoanRequest) -> date | None:
    """A loan's last day (it ends at the midnight after it); None for good."""
    return day_before(request.ends_at) if request.ends_at is not None else None


@dataclass
class _Wanted:
    """A job a request should have: its kind, pieces, ends and day."""

    kind: JobKind
    listing: Listing
    quantity: int
    pickup: Site
    delivery: Site
    day: date
    extra: dict[str, Any] = field(default_factory=dict)


def _wanted(session: Session, request: LoanRequest) -> list[_Wanted]:
    listing = session.get(Listing, request.listing_id)
    requester_site = session.get(Site, request.delivery_site_id)
    if listing is None or requester_site is None:
        return []
    owner_site = session.get_one(Site, listing.site_id)
    wanted = [_Wanted(JobKind.DELIVERY, listing, request.quantity, owner_site, requester_site, first_day(request))]
    end = last_day(request)
    if request.kind == RequestKind.BORROW.value and end is not None:
        wanted.append(_Wanted(JobKind.RETURN, listing, request.quantity, requester_site, owner_site, end))
    if request.kind == RequestKind.SWAP.value and request.offered_listing_id is not None:
        offered = session.get(Listing, request.offered_listing_id)
        if offered is not None:
            wanted.append(_Wanted(JobKind.EXCHANGE, offered, request.offered_quantity or 1,
                                  session.get_one(Site, offered.site_id), owner_site, first_day(request)))
    return wanted


# Which of a request's jobs are still to be carried at each of its statuses (the others are
# done by the loans' own steps, or never needed); none while it is asked, or once it ended unmet.
S = RequestStatus
_CARRIED = {S.APPROVED: {JobKind.DELIVERY, JobKind.EXCHANGE, JobKind.RETURN}, S.HANDED_OVER: {JobKind.RETURN}}
_DONE_BY_STEP = {S.HANDED_OVER: {JobKind.DELIVERY, JobKind.EXCHANGE},
                 S.RETURNED: {JobKind.DELIVERY, JobKind.EXCHANGE, JobKind.RETURN},
                 S.CLOSED: {JobKind.DELIVERY, JobKind.EXCHANGE, JobKind.RETURN}}


def follow_request(session: Session, *, request_id: int, now: datetime) -> list[TransportJob]:
    """Bring a request's jobs in line with the request as it is now; returns the jobs changed or
    made. It reads the request rather than trusting the event that asks, so that handling an
    event twice, or late, or out of order, changes nothing wrongly: a job of each kind is made
    at most once (the database holds it to that too), and only while the request needs it."""
    request = session.get(LoanRequest, request_id)
    if request is None or not request.transport_needed:
        return []
    status = RequestStatus(request.status)
    jobs = {JobKind(job.kind): job for job in session.scalars(
        select(TransportJob).where(col(TransportJob.request_id) == request_id))}
    changed: list[TransportJob] = []
    if status in (S.DECLINED, S.CANCELLED):
        for job in jobs.values():
            if JobStatus(job.status) in (*ACTIVE, J.FAILED):
                set_status(session, job, J.CANCELLED, by=None, now=now,
                           extra={"changed_after_planning": job.status == J.PLANNED.value, "because": status.value})
                changed.append(job)
        return changed
    carried, done = _CARRIED.get(status, set()), _DONE_BY_STEP.get(status, set())
    if not carried and not done:
        return []
    for wanted in _wanted(session, request):
        found = jobs.get(wanted.kind)
        if found is None:
            if wanted.kind in carried:
                changed.append(_make(session, request, wanted, now=now))
            continue
        job = found
        if (wanted.kind in carried and job.day != wanted.day and JobStatus(job.status) in (*ACTIVE, J.FAILED)
                # A job that failed has its coordinator's day since (``plan_again``): the request's
                # day takes it no earlier (a loan extended moves its return on, not back).
                and not (wanted.day < job.day and last_failure(session, job) is not None)):
            _move(session, job, wanted.day, now=now)
            changed.append(job)
        elif wanted.kind in done and JobStatus(job.status) in (*ACTIVE, J.FAILED) and not _on_its_way(session, job):
            _done_by_step(session, job, request, now=now)
            changed.append(job)
    return changed


def _on_its_way(session: Session, job: TransportJob) -> bool:
    """The job's own route has picked its pieces up (the driver's report made the loans' step):
    the job is its route's to finish, done when its delivery is, and no change to its plan."""
    return session.scalar(select(col(PlannedStop.id)).where(
        col(PlannedStop.job_id) == job.id, col(PlannedStop.action) == problem.StopAction.PICKUP.value,
        col(PlannedStop.status) == StopStatus.DONE.value).limit(1)) is not None


def _make(session: Session, request: LoanRequest, wanted: _Wanted, *, now: datetime) -> TransportJob:
    load = load_of(session, listing=wanted.listing, quantity=wanted.quantity, at=now)
    job = TransportJob(kind=wanted.kind.value, request_id=request.id, listing_id=wanted.listing.id,
                       quantity=wanted.quantity, goods=wanted.listing.title[:GOODS_MAX], volume_l=load.volume_l,
                       weight_kg=load.weight_kg, load_source=load.source.value,
                       pickup_site_id=id_of(wanted.pickup), delivery_site_id=id_of(wanted.delivery),
                       pickup_municipality_id=wanted.pickup.municipality_id,
                       delivery_municipality_id=wanted.delivery.municipality_id, day=wanted.day,
                       created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    _record(session, events.JOB_CREATED, job, by=None, now=now)
    return job


def _move(session: Session, job: TransportJob, day: date, *, now: datetime) -> None:
    """The request's day moved: so does the job. A planned one is open again (its plan was for
    the other day), marked, and its coordinators told."""
    before, was_planned, was_failed = job.day, job.status == J.PLANNED.value, job.status == J.FAILED.value
    job.day, job.updated_at = day, now
    if was_planned or was_failed:
        job.status = J.OPEN.value
    if was_planned:
        job.changed_after_planning = True
    session.add(job)
    session.flush()
    # A failed job moved with its request is planned again, on its new day: told as such.
    _record(session, events.JOB_CHANGED, job, by=None, now=now,
            extra={"changes": {"day": [before.isoformat(), day.isoformat()]}, "changed_after_planning": was_planned,
                   **({"from": J.FAILED.value} if was_failed else {})})


def _done_by_step(session: Session, job: TransportJob, request: LoanRequest, *, now: datetime) -> None:
    """The loans' own step (a handover, a return) says the pieces moved. A planned trip the
    pieces did not take (they moved before its day, or were fetched without transport) is not
    needed: its coordinators are told."""
    fetched = (request.handover_method == HandoverMethod.PICKUP.value
               and job.kind in (JobKind.DELIVERY.value, JobKind.EXCHANGE.value))
    needless = job.status == J.PLANNED.value and (today_in_sweden(now) < job.day or fetched)
    set_status(session, job, J.DONE, by=None, now=now,
               extra={"changed_after_planning": needless, "because": request.status})
