"""Every domain's models, imported in one place for Alembic and the test schema."""

from sharing import events  # noqa: F401
from sharing.accounts import models as accounts  # noqa: F401
from sharing.catalog import models as catalog  # noqa: F401
from sharing.db import metadata

__all__ = ["metadata"]
