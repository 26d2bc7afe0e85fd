"""Plans are made off the request: the page that asks for one commits a queued plan and hands
it here; a thread of the web process plans it (``rules.run_plan``), writing its progress as it
goes, in sessions of its own. A plan whose process stopped is picked up by the
``logistics-plans`` job. With PLANNING_IN_BACKGROUND off (tests), the same rule runs at once.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask, current_app
from sqlmodel import Session

from sharing.accounts.models import User
from sharing.clock import utcnow
from sharing.db import new_session
from sharing.i18n import N_
from sharing.logistics.planning.distances import DistanceMatrix, Osrm, StraightLine
from sharing.logistics.plans import rules
from sharing.logistics.plans.models import PlanStatus, RoutePlan
from sharing.typed import app_object

log = logging.getLogger("sharing.logistics.plans")
LEFT_BEHIND = timedelta(minutes=2)  # queued this long, or running this long past its time: no one is at it
GONE = N_("The coordinator who asked for the plan is gone.")
STOPPED = N_("The planning stopped before it was done: plan the day again.")
_threads: list[threading.Thread] = []
_lock = threading.Lock()


def matrix_from(app: Flask) -> DistanceMatrix:
    """The distances the settings ask for: OSRM when its URL is set, else straight lines."""
    url = app.config.get("SHARING_ROUTING_OSRM_URL", "")
    if url:
        return Osrm(url)
    return StraightLine(detour_factor=app.config.get("SHARING_ROUTING_DETOUR_FACTOR", 1.3),
                        speed_kmh=app.config.get("SHARING_ROUTING_SPEED_KMH", 50.0))


def run(plan_id: int) -> None:
    """Plan one queued plan, if no one else took it, in sessions of its own."""
    app = app_object()
    with new_session() as session:
        if not rules.claim(session, plan_id, from_status=PlanStatus.QUEUED):
            session.rollback()
            return
        session.commit()
        _plan(app, session, plan_id)


def _plan(app: Flask, session: Session, plan_id: int) -> None:
    plan = session.get_one(RoutePlan, plan_id)
    user = session.get(User, plan.created_by_id) if plan.created_by_id is not None else None

    def progress(fraction: float) -> None:
        with new_session() as other:
            rules.set_progress(other, plan_id, fraction)
            other.commit()

    try:
        if user is None:
            rules.fail(session, plan, GONE, utcnow())
        else:
            rules.run_plan(session, plan, by=user, now=utcnow(), matrix=matrix_from(app), progress=progress,
                           clock=utcnow)
        session.commit()
    except Exception as error:  # noqa: BLE001 - the plan says it failed, whatever the cause
        log.exception("plan %s failed", plan_id)
        session.rollback()
        failed = session.get_one(RoutePlan, plan_id)
        rules.fail(session, failed, f"{type(error).__name__}: {error}", utcnow())
        session.commit()


def start(plan_id: int) -> None:
    """Plan it in a thread of this process, or at once when PLANNING_IN_BACKGROUND is off."""
    if not current_app.config.get("PLANNING_IN_BACKGROUND", True):
        run(plan_id)
        return
    app = app_object()

    def work() -> None:
        with app.app_context():
            run(plan_id)

    thread = threading.Thread(target=work, name=f"plan {plan_id}", daemon=False)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()


def pick_up_left_behind() -> None:
    """The ``logistics-plans`` job: plan what was queued and never started; a plan running far
    past its time limit (its process stopped) is failed, to be asked for again."""
    now = utcnow()
    with new_session() as session:
        waiting = rules.left_behind(session)
        session.commit()
    for plan in waiting:
        if plan.status == PlanStatus.QUEUED.value and plan.created_at <= now - LEFT_BEHIND:
            log.info("plan %s left queued: planning it now", plan.id)
            run(plan.id or 0)
        elif (plan.status == PlanStatus.RUNNING.value and plan.started_at is not None
              and plan.started_at <= now - LEFT_BEHIND - timedelta(seconds=plan.seconds)):
            with new_session() as session:
                stopped = session.get_one(RoutePlan, plan.id)
                rules.fail(session, stopped, STOPPED, now)
                session.commit()
