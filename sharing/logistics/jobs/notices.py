"""Transport jobs follow the requests they serve, and coordinators hear of planned jobs that change.

Two receivers, each run after the commit of what it follows, in a session of its own:

- ``logistics.transport_jobs`` follows loans' events (approved, declined, cancelled, extended,
  handed over, returned, closed): it brings the request's jobs in line with the request
  (``rules.follow_request``), which is safe to do twice;
- ``logistics.tell-coordinators`` follows logistics' own events: a job cancelled, moved, no
  longer needed or failed while it was planned is told to the coordinators who see it (but not
  to whoever changed it), in the service, and by e-mail to those who keep that kind of notice
  on; a failure with the driver's reason and note.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts import notifications
from sharing.accounts.mail_preferences.rules import add_mail_kind, wants_mail
from sharing.clock import utcnow
from sharing.events import DomainEvent, add_receiver
from sharing.i18n import N_
from sharing.loans import events as loans_events
from sharing.logistics import events
from sharing.logistics.jobs import rules
from sharing.logistics.jobs.models import TransportJob
from sharing.logistics.labels import FAILURE_TERMS
from sharing.logistics.plans.models import FailureReason, PlannedStop
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
# A failure as the driver reported it: the reason, and the note when there is one.
FAILED_BECAUSE = N_("The driver could not carry “%(goods)s” on %(day)s (reason: %(reason)s): plan it again.")
FAILED_WITH_NOTE = N_("The driver could not carry “%(goods)s” on %(day)s (reason: %(reason)s; the driver's "
                      "note: “%(note)s”): plan it again.")
SUBJECT = _l("Delningstjänsten: a planned transport has changed")



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
    reason = _reason(event.payload)
    if event.name == events.JOB_FAILED and reason is not None:
        params["reason"] = notifications.term(*FAILURE_TERMS[reason])
        note = _note(session, event.payload)
        message = FAILED_WITH_NOTE if note else FAILED_BECAUSE
        if note:
            params["note"] = note
    url = path_for("transport_jobs.detail", job_id=job.id)
    for user in rules.coordinators_told(session, job):
        if user.id is None or user.id == event.actor_id:
            continue
        notifications.notify(session, user_id=user.id, message=message, params=params, url=url, now=now)
        if wants_mail(session, user.id, MAIL_KIND):
            queue_mail(session, to=user.email, subject=SUBJECT, locale=user.locale,
                       template="logistics/mail/job_changed.txt", user=user, message=message, params=params,
                       job_id=job.id)


def _reason(payload: dict[str, Any]) -> FailureReason | None:
    try:
        return FailureReason(str(payload.get("reason")))
    except ValueError:  # none given, or one of a newer version
        return None


def _note(session: Session, payload: dict[str, Any]) -> str:
    """The driver's note on the failed stop, as it is now (scrubbed of names, or gone, by then)."""
    stop = session.get(PlannedStop, payload["stop_id"]) if isinstance(payload.get("stop_id"), int) else None
    return stop.failure_note if stop is not None else ""


def register() -> None:
    add_mail_kind(MAIL_KIND, _l("A planned transport job is cancelled, moved or no longer needed"))
    add_receiver("logistics.transport_jobs", FOLLOWED, follow)
    add_receiver("logistics.tell-coordinators", list(TOLD), tell)

