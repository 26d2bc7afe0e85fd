"""What loans tell the rest of the service: the names of the domain events they record.

Subject: a request (``loans.request``); payload: ``listing_id``, ``kind``, ``quantity`` and what
the step adds. Logistics and reports register receivers for these names; loans never import them.
"""

from __future__ import annotations

SUBJECT = "loans.request"
REQUESTED = "loans.request.requested"
APPROVED = "loans.request.approved"
DECLINED = "loans.request.declined"
CANCELLED = "loans.request.cancelled"
HANDED_OVER = "loans.request.handed_over"
RETURNED = "loans.request.returned"
CLOSED = "loans.request.closed"
EXTENDED = "loans.request.extended"
OVERDUE = "loans.request.overdue"
TRANSFERRED = "loans.request.transferred"  # pieces taken over for good changed owner
SWAPPED = "loans.request.swapped"
CONFIRMED = "loans.request.confirmed"  # one side confirmed a handover or a return
MESSAGE = "loans.request.message"
