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

# The queue for a listing. Subject: a queue entry (``loans.queue_entry``); payload: ``listing_id``,
# ``quantity``, ``first_day``, ``last_day`` (None: for good).
QUEUE_SUBJECT = "loans.queue_entry"
QUEUE_JOINED = "loans.queue_entry.joined"
QUEUE_TOLD = "loans.queue_entry.told"  # enough pieces came free for the entry's period
QUEUE_LEFT = "loans.queue_entry.left"  # left by its user, or asked for after being told
