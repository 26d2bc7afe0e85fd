"""Transport jobs follow the requests they serve, and coordinators hear of planned jobs that change.

Two receivers, each run after the commit of what it follows, in a session of its own:

- ``logistics.transport_jobs`` follows loans' events (approved, declined, cancelled, extended,
  handed over, returned, closed): it brings the request's jobs in line with the request
  (``rules.follow_request``), which is safe to do twice;
- ``logistics.tell-coordinators`` follows logistics' own events: a job cancelled, moved, no
  longer needed or failed while it was planned is told to the coordinators who see it (but not
  to whoever changed it), in the service, and by e-mail to those who keep that kind of notice
  on; a failure with the driver's reason (the note they wrote stays on the job's page, which
  the retention scrubs: no notice or mail copies it);
- ``logistics.tell-request`` tells the people of the request a job serves that its transport
  failed (with the driver's reason, not the note) and will be planned again, then the day it is
  planned again for: its requester and the owner's facility managers (read through loans'
  rows), in the service and by e-mail as they keep loans' handover notices. The notice that
  the pieces come tomorrow is settled, read, for them; and the request's page says it
  (``transport_facts``, given to loans by ``add_request_facts``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts import notifications
from sharing.accounts.labels import message_text
from sharing.accounts.mail_preferences.rules import add_mail_kind, wants_mail
from sharing.clock import utcnow
from sharing.events import DomainEvent, add_receiver
from sharing.i18n import N_
from sharing.loans import events as loans_events
from sharing.loans import mail_kinds as loans_mail_kinds
from sharing.loans.reminders.notices import DELIVERY_SOON
from sharing.loans.requests.facts import add_request_facts
from sharing.loans.requests.models import LoanRequest
from sharing.loans.requests.notices import owner_managers, requester
from sharing.logistics import events
from sharing.logistics.jobs import rules
from sharing.logistics.jobs.models import JobKind, JobStatus, TransportJob
from sharing.logistics.labels import FAILURE_TERMS
from sharing.logistics.plans.models import FailureReason
from sharing.mail import queue_mail
from sharing.web.paths import path_for

FOLLOWED = (loans_events.APPROVED, loans_events.DECLINED, loans_events.CANCELLED, loans_events.EXTENDED,
            loans_events.HANDED_OVER, loans_events.RETURNED, loans_events.CLOSED)
MAIL_KIND = "logistics.job_changed"
TOLD = {
    events.JOB_CANCELLED: N_("The planned transport of “%(goods)s” on %(day)s is cancelled."),
    events.JOB_CHANGED: N_("The planned transport of “%(goods)s” has moved from %(from)s to %(to)s: plan it again."),
    events.JOB_DONE: N_("The planned transport of “%(goods)s” on %(day)s is no longer needed: the pieces have "
                        "already changed hands."),
    events.JOB_FAILED: N_("The driver could not carry “%(goods)s” on %(day)s: plan it again."),
}
# A failure as the driver reported it: the reason (their note is read on the job's page).
FAILED_BECAUSE = N_("The driver could not carry “%(goods)s” on %(day)s (reason: %(reason)s): plan it again.")
SUBJECT = _l("Delningstjänsten: a planned transport has changed")
# To the people of the request.
REQUEST_FAILED = N_("The transport of “%(goods)s” on %(day)s could not be carried out (reason: %(reason)s). "
                    "It will be planned again: you will be told the new day.")
REQUEST_PLANNED_AGAIN = N_("The transport of “%(goods)s” that could not be carried out is planned again, "
                           "for %(day)s.")


def follow(session: Session, event: DomainEvent) -> None:
    if event.subject_id is not None:
        rules.follow_request(session, request_id=event.subject_id, now=utcnow())


def tell(session: Session, event: DomainEvent) -> None:
    """Tell the coordinators who see the job what became of it, if it changed while planned."""
    if event.name not in TOLD or not event.payload.get("changed_after_planning") or event.subject_id is None:
        return
    job = session.get(TransportJob, event.subject_id)
    if job is None:
        return
    changes = event.payload.get("changes", {})
    before, after = changes.get("day", [job.day.isoformat(), job.day.isoformat()])
    params: dict[str, Any] = {"goods": job.goods, "day": event.payload.get("day", job.day.isoformat()),
                              "from": before, "to": after}
    message, now = TOLD[event.name], event.occurred_at  # dated by the change
    reason = _reason(event.payload.get("reason"))
    if event.name == events.JOB_FAILED and reason is not None:
        params["reason"] = notifications.term(*FAILURE_TERMS[reason])
        message = FAILED_BECAUSE
    url = path_for("transport_jobs.detail", job_id=job.id)
    for user in rules.coordinators_told(session, job):
        if user.id is None or user.id == event.actor_id:
            continue
        notifications.notify(session, user_id=user.id, message=message, params=params, url=url, now=now)
        if wants_mail(session, user.id, MAIL_KIND):
            queue_mail(session, to=user.email, subject=SUBJECT, locale=user.locale,
                       template="logistics/mail/job_changed.txt", user=user, message=message, params=params,
                       job_id=job.id)


def _reason(value: object) -> FailureReason | None:
    try:
        return FailureReason(str(value))
    except ValueError:  # none given, or one of a newer version
        return None


def tell_request(session: Session, event: DomainEvent) -> None:
    """Tell the requester and the owner's facility managers that the transport of their request
    failed and will be planned again, or the day it is planned again for."""
    if event.subject_id is None or not event.payload.get("request_id"):
        return
    reason = _reason(event.payload.get("reason"))
    if event.name == events.JOB_FAILED and reason is not None:
        message = REQUEST_FAILED
    elif (event.name in (events.JOB_REOPENED, events.JOB_CHANGED)  # by a coordinator, or with the request
          and event.payload.get("from") == JobStatus.FAILED.value):
        message = REQUEST_PLANNED_AGAIN
    else:
        return
    job = session.get(TransportJob, event.subject_id)
    request = session.get(LoanRequest, event.payload["request_id"])
    if job is None or request is None:
        return
    params: dict[str, Any] = {"goods": job.goods, "day": str(event.payload.get("day", job.day.isoformat()))}
    if reason is not None:
        params["reason"] = notifications.term(*FAILURE_TERMS[reason])
    url, now = path_for("loans.detail", request_id=request.id), event.occurred_at
    # Once each: a facility manager who asked their own municipality is on both sides.
    told = list({user.id: user for user in requester(session, request, event.actor_id)
                 + owner_managers(session, request, event.actor_id)}.values())
    for user in told:
        assert user.id is not None
        notifications.notify(session, user_id=user.id, message=message, params=params, url=url, now=now)
        if wants_mail(session, user.id, loans_mail_kinds.HANDOVER):
            queue_mail(session, to=user.email, subject=_l("Delningstjänsten: the transport of “%(goods)s”",
                                                          goods=job.goods),
                       locale=user.locale, template="logistics/mail/request_transport.txt", user=user,
                       message=message, params=params, request_id=request.id)
    if message == REQUEST_FAILED and job.kind in (JobKind.DELIVERY.value, JobKind.EXCHANGE.value):
        # "It comes tomorrow" no longer holds.
        notifications.settle(session, url=url, user_ids=[user.id for user in told if user.id is not None],
                             sent_from=request.created_at, sent_by=now, now=now, messages=list(DELIVERY_SOON))


def transport_facts(session: Session, request: LoanRequest) -> list[str]:
    """What the request's page says of its transport while a job of it failed: failed, or
    planned again for its new day (as the notices said it)."""
    said = []
    for job in session.scalars(select(TransportJob).where(col(TransportJob.request_id) == request.id)
                               .order_by(col(TransportJob.id))):
        if job.status not in (JobStatus.FAILED.value, JobStatus.OPEN.value, JobStatus.PLANNED.value):
            continue
        failure = rules.last_failure(session, job)
        if failure is None:
            continue
        if job.status == JobStatus.FAILED.value:
            reason = _reason(failure.failure_reason)
            said.append(message_text(REQUEST_FAILED, {
                "goods": job.goods, "day": job.day.isoformat(),
                "reason": notifications.term(*FAILURE_TERMS[reason]) if reason is not None else "–"}))
        else:
            said.append(message_text(REQUEST_PLANNED_AGAIN, {"goods": job.goods, "day": job.day.isoformat()}))
    return said


def register() -> None:
    add_mail_kind(MAIL_KIND, _l("A planned transport job is cancelled, moved or no longer needed"))
    add_receiver("logistics.transport_jobs", FOLLOWED, follow)
    add_receiver("logistics.tell-coordinators", list(TOLD), tell)
    add_receiver("logistics.tell-request", [events.JOB_FAILED, events.JOB_REOPENED, events.JOB_CHANGED], tell_request)
    add_request_facts("logistics.transport", transport_facts)
