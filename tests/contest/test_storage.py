"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import contest.models  # noqa: F401
from contest.storage import current_revision, ensure_migrated, head_revision


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    ensure_migrated(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
