"""API of the caller's own notifications (read only: opening them is for the web pages)."""

from __future__ import annotations

from datetime import datetime

from flask import Response
from flask_login import current_user
from pydantic import BaseModel, Field

from sharing.access import SIGNED_IN, allow
from sharing.accounts import notifications
from sharing.accounts.labels import notification_text
from sharing.api import blueprint
from sharing.api.common import page_args, page_response
from sharing.api.openapi import documented
from sharing.db import db_session
from sharing.typed import id_of


class NotificationOut(BaseModel):
    id: int
    text: str = Field(description="The message in the caller's language")
    url: str = Field(description="A path within the service, or empty")
    created_at: datetime
    read_at: datetime | None


@blueprint.get("/notifications")
@allow(SIGNED_IN)
@documented("Your notifications, newest first", tag="notifications", response=NotificationOut, paginated=True)
def list_notifications() -> Response:
    page, per_page = page_args()
    rows, total = notifications.newest(db_session, user_id=current_user.id, page=page, per_page=per_page)
    items = [NotificationOut(id=id_of(n), text=notification_text(n), url=n.url, created_at=n.created_at,
                             read_at=n.read_at) for n in rows]
    return page_response(items, total=total, page=page, per_page=per_page, schema=NotificationOut)
