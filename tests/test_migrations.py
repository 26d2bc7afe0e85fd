"""Migrations: one head, the schema they build is the models' schema, and they undo cleanly."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from sharing.db import described_by_models, make_engine
from sharing.models import metadata
from tests.conftest import ROOT, alembic_config

VERSIONS = ROOT / "migrations" / "versions"


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))  # reads the scripts only
    heads = script.get_heads()
    assert len(heads) == 1, f"more than one Alembic head, merge them: {heads}"


def test_upgrade_matches_the_models_and_downgrade_removes_everything(databases):
    url = databases.empty()
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []

        command.upgrade(config, "head")
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert set(metadata.tables) <= tables
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": described_by_models}
            )
            differences = compare_metadata(context, metadata)
        assert differences == [], (
            "the migrations and the models differ; write a migration (alembic revision --autogenerate):\n"
            + "\n".join(map(repr, differences))
        )

        command.downgrade(config, "base")
        with engine.connect() as connection:
            left = set(inspect(connection).get_table_names())
        assert left == {"alembic_version"}, f"downgrade to base left tables behind: {sorted(left)}"
    finally:
        engine.dispose()


def test_migration_files_are_named_by_date():
    files = sorted(p.name for p in Path(VERSIONS).glob("*.py") if p.name != "__init__.py")
    assert files, "no migrations found"
    misnamed = [name for name in files if not re.match(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])_", name)]
    assert misnamed == [], f"migration files must start with YYYYMMDD_: {misnamed}"
