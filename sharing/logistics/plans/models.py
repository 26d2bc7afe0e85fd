"""A day's route plans: the routes of the vehicles, their stops in order, the jobs left over,
and the jobs a coordinator pinned to a vehicle.

Times of the day are kept as the planner gives them: seconds from the planned day's midnight,
Swedish time (``seconds_clock`` shows them). No `from __future__ import annotations` here:
SQLModel resolves types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class PlanStatus(StrEnum):
    QUEUED = "queued"  # asked for, waiting for the planner
    RUNNING = "running"
    DONE = "done"  # its routes are the day's plan
    FAILED = "failed"  # the planner failed, or its plan broke a rule: nothing was saved
    REPLACED = "replaced"  # a later plan of the day took its place


class RouteStatus(StrEnum):
    PLANNED = "planned"
    STARTED = "started"  # the driver has reported a stop
    COMPLETED = "completed"  # every stop reported


class StopStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class FailureReason(StrEnum):
    NOBODY_THERE = "nobody_there"
    CLOSED = "closed"
    WRONG_ADDRESS = "wrong_address"
    DAMAGED = "damaged"  # not in the state described: not taken (a receiver may refuse it too)
    PARTLY_THERE = "partly_there"  # fewer pieces than planned: the whole job is planned again
    OTHER = "other"


class RoutePlan(SQLModel, table=True):
    """A coordinator's planning of a day, for the municipalities they plan for: asked for
    (queued), planned in the background (running, ``progress`` 0..1), then done or failed."""

    __tablename__ = "logistics_route_plan"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_fraction"),
        Index("ix_logistics_route_plan_day_status", "day", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    day: date
    municipality_id: int = foreign_key("municipality.id")  # the coordinator's: the scope planned for
    status: str = Field(default=PlanStatus.QUEUED.value, sa_type=AutoString(length=10))
    progress: float = 0.0
    seed: int = 0
    seconds: float  # the solver's time limit
    vehicle_ids: str = Field(max_length=1000)  # the vehicles chosen, by id, comma-separated
    distance_m: Optional[int] = None
    error: str = Field(default="", max_length=1000)
    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class PlannedRoute(SQLModel, table=True):
    """One vehicle's day in a plan: from its depot at ``departure_s``, back at ``return_s``."""

    __tablename__ = "logistics_planned_route"
    __table_args__ = (UniqueConstraint("plan_id", "vehicle_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = foreign_key("logistics_route_plan.id", ondelete="CASCADE")
    vehicle_id: int = foreign_key("logistics_vehicle.id")
    departure_s: int
    return_s: int
    distance_m: int
    co2e_kg: float  # planned: the distance times the vehicle's CO2e per km
    status: str = Field(default=RouteStatus.PLANNED.value, sa_type=AutoString(length=10))
    completed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class PlannedStop(SQLModel, table=True):
    """A pickup or delivery of a job on a route, at ``position`` (1 first); ``leg_m`` the metres
    driven to it from the previous place (the depot for the first)."""

    __tablename__ = "logistics_planned_stop"
    __table_args__ = (UniqueConstraint("route_id", "position"), UniqueConstraint("route_id", "job_id", "action"))

    id: Optional[int] = Field(default=None, primary_key=True)
    route_id: int = foreign_key("logistics_planned_route.id", ondelete="CASCADE")
    job_id: int = foreign_key("logistics_transport_job.id")
    action: str = Field(sa_type=AutoString(length=10))  # planning.problem.StopAction
    position: int
    leg_m: int
    arrival_s: int
    start_s: int
    end_s: int
    status: str = Field(default=StopStatus.PENDING.value, sa_type=AutoString(length=10))
    failure_reason: Optional[str] = Field(default=None, sa_type=AutoString(length=20))
    failure_note: str = Field(default="", max_length=300)
    done_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    done_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")


class UnservedJob(SQLModel, table=True):
    """A job of the day the plan could not serve, and why (``planning.problem.UnservedReason``,
    or ``closed``: a site is closed that day)."""

    __tablename__ = "logistics_unserved_job"

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = foreign_key("logistics_route_plan.id", ondelete="CASCADE")
    job_id: int = foreign_key("logistics_transport_job.id")
    reason: str = Field(sa_type=AutoString(length=20))


class JobPin(SQLModel, table=True):
    """A coordinator's choice: this job goes on this vehicle, whenever its day is planned."""

    __tablename__ = "logistics_job_pin"

    job_id: int = Field(sa_column=Column(Integer, ForeignKey("logistics_transport_job.id", ondelete="CASCADE"),
                                         primary_key=True))
    vehicle_id: int = foreign_key("logistics_vehicle.id", ondelete="CASCADE")
    pinned_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    pinned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
