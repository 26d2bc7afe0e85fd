"""How requests' codes read in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.loans.requests.models import HandoverMethod, RequestKind, RequestStatus

KIND_LABELS = {
    RequestKind.BORROW: _l("Borrow"),
    RequestKind.TAKE_OVER: _l("Take over for good"),
    RequestKind.SWAP: _l("Swap"),
}
REQUEST_STATUS_LABELS = {
    RequestStatus.REQUESTED: _l("Requested"),
    RequestStatus.APPROVED: _l("Approved"),
    RequestStatus.DECLINED: _l("Declined"),
    RequestStatus.CANCELLED: _l("Cancelled"),
    RequestStatus.HANDED_OVER: _l("Handed over"),
    RequestStatus.RETURNED: _l("Returned"),
    RequestStatus.CLOSED: _l("Closed"),
}
METHOD_LABELS = {
    HandoverMethod.PICKUP: _l("Fetched by the requester"),
    HandoverMethod.TRANSPORT: _l("By transport"),
}
