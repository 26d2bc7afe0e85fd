"""Logistics' part of a person's data (see accounts/personal_data): the transport jobs they
added by hand, and the stops of routes they reported as a driver.

Erasing them keeps every job, route and stop as it is (they carry pieces between sites, not
people): the note they wrote on a stop they could not serve goes, and where someone named them
in a job's goods or notes for the driver, or a stop's note, the name (or address) is replaced.
A job's notes go ``jobs.rules.NOTES_KEPT`` after its day anyway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data.rules import Records, bounded, mentions_of
from sharing.logistics.jobs.models import TransportJob
from sharing.logistics.plans.models import PlannedStop


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    jobs = session.scalars(bounded(select(TransportJob).where(col(TransportJob.created_by_id) == user_id)
                                   .order_by(col(TransportJob.created_at).desc())))
    stops = session.execute(bounded(
        select(PlannedStop, col(TransportJob.goods)).join(TransportJob, col(TransportJob.id) == PlannedStop.job_id)
        .where(col(PlannedStop.done_by_id) == user_id).order_by(col(PlannedStop.done_at).desc())))
    return {"transport_jobs": [{"id": job.id, "kind": job.kind, "status": job.status, "goods": job.goods,
                                "quantity": job.quantity, "day": job.day, "notes": job.notes,
                                "created_at": job.created_at} for job in jobs],
            "route_stops": [{"job_id": stop.job_id, "goods": goods, "action": stop.action, "status": stop.status,
                             "failure_reason": stop.failure_reason, "failure_note": stop.failure_note,
                             "done_at": stop.done_at} for stop, goods in stops]}


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    mentions = mentions_of(session, user_id)
    for job in session.scalars(select(TransportJob).where(or_(mentions.found_in(TransportJob.goods),
                                                              mentions.found_in(TransportJob.notes)))).all():
        job.goods = mentions.scrub(job.goods)[:300]
        job.notes = mentions.scrub(job.notes)[:500]
        session.add(job)
    session.execute(update(PlannedStop).where(col(PlannedStop.done_by_id) == user_id,
                                              col(PlannedStop.failure_note) != "").values(failure_note=""))
    for stop in session.scalars(select(PlannedStop).where(mentions.found_in(PlannedStop.failure_note))).all():
        stop.failure_note = mentions.scrub(stop.failure_note)[:300]
        session.add(stop)
