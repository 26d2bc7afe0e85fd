"""Every domain's models, imported in one place for Alembic and the test schema."""

from sharing import events, jobs, mail  # noqa: F401
from sharing.accounts import models as accounts  # noqa: F401
from sharing.accounts.geocoding import models as geocoding  # noqa: F401
from sharing.accounts.mail_preferences import models as mail_preferences  # noqa: F401
from sharing.accounts.sso import models as sso  # noqa: F401
from sharing.api import idempotency  # noqa: F401
from sharing.catalog.categories import models as categories  # noqa: F401
from sharing.catalog.holds import models as holds  # noqa: F401
from sharing.catalog.imports import models as imports  # noqa: F401
from sharing.catalog.listings import models as listings  # noqa: F401
from sharing.catalog.photos import models as photos  # noqa: F401
from sharing.catalog.transfers import models as transfers  # noqa: F401
from sharing.catalog.wants import models as wants  # noqa: F401
from sharing.db import metadata
from sharing.loans.auto_approval import models as auto_approval  # noqa: F401
from sharing.loans.calendar_feed import models as calendar_feeds  # noqa: F401
from sharing.loans.queue import models as loan_queue  # noqa: F401
from sharing.loans.reminders import models as loan_reminders  # noqa: F401
from sharing.loans.requests import models as loan_requests  # noqa: F401
from sharing.logistics.coordination import models as joint_planning  # noqa: F401
from sharing.logistics.jobs import models as transport_jobs  # noqa: F401
from sharing.logistics.plans import models as route_plans  # noqa: F401
from sharing.logistics.vehicles import models as vehicles  # noqa: F401
from sharing.reports.ledger import models as reuse_ledger  # noqa: F401
from sharing.reports.subscriptions import models as report_subscriptions  # noqa: F401

__all__ = ["metadata"]
