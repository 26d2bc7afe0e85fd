"""Logistics' part of a person's data (see accounts/personal_data): the transport jobs they
added by hand. Erasing them keeps every job as it is (a job carries pieces between sites, not a
person), but where someone named them in a job's goods or notes for the driver, the name (or
address) is replaced. The notes themselves go ``jobs.rules.NOTES_KEPT`` after the job's day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data.rules import Records, bounded, mentions_of
from sharing.logistics.jobs.models import TransportJob


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    jobs = session.scalars(bounded(select(TransportJob).where(col(TransportJob.created_by_id) == user_id)
                                   .order_by(col(TransportJob.created_at).desc())))
    return {"transport_jobs": [{"id": job.id, "kind": job.kind, "status": job.status, "goods": job.goods,
                                "quantity": job.quantity, "day": job.day, "notes": job.notes,
                                "created_at": job.created_at} for job in jobs]}


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    mentions = mentions_of(session, user_id)
    for job in session.scalars(select(TransportJob).where(or_(mentions.found_in(TransportJob.goods),
                                                              mentions.found_in(TransportJob.notes)))).all():
        job.goods = mentions.scrub(job.goods)[:300]
        job.notes = mentions.scrub(job.notes)[:500]
        session.add(job)
