"""Time as the service keeps it: instants in UTC, days as they are in Sweden.

Rules take ``now`` as an argument (never read the clock themselves), so tests and jobs can
say when "now" is; views and jobs pass ``utcnow()``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SWEDEN = ZoneInfo("Europe/Stockholm")  # the partners' time zone: a "day" is a Swedish day


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (what we store)."""
    return datetime.now(timezone.utc)


def today_in_sweden(now: datetime) -> date:
    """The date in Sweden at the instant ``now`` (a wanted item's "needed by", a loan's due day)."""
    return now.astimezone(SWEDEN).date()
