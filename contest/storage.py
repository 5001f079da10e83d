"""The database engine, its tuning, and the glue to Alembic migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout; write transactions that
read first ask for ``BEGIN IMMEDIATE`` so that two writers queue instead of failing on a lock
upgrade. PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

ALEMBIC_DIR = Path(__file__).parent / "alembic"


class NotMigrated(RuntimeError):
    """The database schema is older than the code (or absent)."""


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url``, with SQLite tuned for many short transactions."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=20,
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True, pool_recycle=1800
    )


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_options() -> dict[str, Any]:
    """Execution options for a transaction that will write after reading."""
    return {"sqlite_immediate": True}


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["database_url"] = url
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the schema to the latest revision; returns (before, after)."""
    before = current_revision(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to go on with a schema that is missing or older than the code."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise NotMigrated(
            f"The database is {state}; this version needs revision {head}. "
            "Run `contest migrate` first."
        )
