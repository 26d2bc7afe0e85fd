"""Who plans what.

A transport coordinator plans for their own municipality: the transport jobs picked up or
delivered there, with its vehicles and the vehicles any partner marks as shared. A
municipality may also choose, by its administrators, to plan jointly with the partners: the
coordinators of every municipality that plans jointly then see and plan the jobs and vehicles
of them all, so one coordinator (or a few) can plan for several municipalities, and a job
between two of them is on one plan. A municipality that does not join keeps its jobs to its
own coordinators (and those of the other end of each job).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role, RoleGrant, User
from sharing.errors import NotAllowed
from sharing.events import record
from sharing.logistics import events
from sharing.logistics.coordination.models import JointPlanning


def is_coordinator(user: Actor) -> bool:
    return user.has_role(Role.TRANSPORT_COORDINATOR)


def can_choose(user: Actor) -> bool:
    """A municipality's administrators choose whether it plans jointly."""
    return user.has_role(Role.MUNICIPALITY_ADMIN)


def joint_planners(session: Session) -> frozenset[int]:
    """The municipalities that plan their transport jointly."""
    return frozenset(session.scalars(select(col(JointPlanning.municipality_id))))


def plans_jointly(session: Session, municipality_id: int) -> bool:
    return session.get(JointPlanning, municipality_id) is not None


def scope_of(session: Session, user: Actor) -> frozenset[int]:
    """The municipalities whose transport the user plans: their own, and every one that plans
    jointly if theirs does."""
    joint = joint_planners(session)
    return joint | {user.municipality_id} if user.municipality_id in joint else frozenset({user.municipality_id})


def municipalities_seeing(session: Session, municipality_ids: Iterable[int]) -> frozenset[int]:
    """The municipalities whose coordinators see a job between these municipalities: theirs, and
    every one that plans jointly if one of these does."""
    ids = frozenset(municipality_ids)
    joint = joint_planners(session)
    return ids | joint if ids & joint else ids


# Built once: every change to a planned job asks.
_COORDINATORS_IN = select(User).join(RoleGrant).where(
    col(User.municipality_id).in_(bindparam("municipality_ids", expanding=True)),
    col(RoleGrant.role) == Role.TRANSPORT_COORDINATOR.value, col(User.active)).order_by(col(User.id))


def coordinators_of(session: Session, municipality_ids: Iterable[int]) -> list[User]:
    """The active transport coordinators of these municipalities."""
    ids = sorted(set(municipality_ids))
    return list(session.scalars(_COORDINATORS_IN, {"municipality_ids": ids})) if ids else []


def set_joint_planning(session: Session, *, joined: bool, by: Actor, now: datetime) -> bool:
    """Join the joint planning with the administrator's municipality, or leave it; False if it
    already was so."""
    if not can_choose(by):
        raise NotAllowed("joint planning")
    member = session.get(JointPlanning, by.municipality_id)
    if (member is not None) == joined:
        return False
    if joined:
        session.add(JointPlanning(municipality_id=by.municipality_id, joined_at=now, joined_by_id=by.id))
    else:
        session.delete(member)
    session.flush()
    record(session, events.JOINT_PLANNING_JOINED if joined else events.JOINT_PLANNING_LEFT,
           subject_type=events.JOINT_PLANNING_SUBJECT, subject_id=by.municipality_id, now=now, actor_id=by.id,
           municipality_id=by.municipality_id)
    return True
