"""What logistics tells the rest of the service: the names of the domain events it records.

Subject: a transport job (``logistics.transport_job``); payload: ``kind``, ``status``,
``request_id``, ``day``, ``pickup_site_id``, ``delivery_site_id``, ``volume_l``, ``weight_kg``,
and what the change adds (``changes``: {field: [before, after]}; ``changed_after_planning``:
true when the job changed while it was planned, and its coordinators are told).
A vehicle (``logistics.vehicle``): ``name``, ``changes``. Joint planning
(``logistics.joint_planning``, the municipality's id): nothing more.
"""

from __future__ import annotations

JOB_SUBJECT = "logistics.transport_job"
JOB_CREATED = "logistics.transport_job.created"
JOB_CHANGED = "logistics.transport_job.changed"  # its day moved, or its notes changed
JOB_PLANNED = "logistics.transport_job.planned"
JOB_REOPENED = "logistics.transport_job.reopened"  # taken off a plan, or failed and to be tried again
JOB_DONE = "logistics.transport_job.done"
JOB_FAILED = "logistics.transport_job.failed"
JOB_CANCELLED = "logistics.transport_job.cancelled"

VEHICLE_SUBJECT = "logistics.vehicle"
VEHICLE_SAVED = "logistics.vehicle.saved"
VEHICLE_DEACTIVATED = "logistics.vehicle.deactivated"
VEHICLE_REACTIVATED = "logistics.vehicle.reactivated"

JOINT_PLANNING_SUBJECT = "logistics.joint_planning"
JOINT_PLANNING_JOINED = "logistics.joint_planning.joined"
JOINT_PLANNING_LEFT = "logistics.joint_planning.left"
