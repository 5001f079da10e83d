"""The database engine, its tuning, and the glue to Alembic migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout; write transactions that
read first ask for ``BEGIN IMMEDIATE`` so that two writers queue instead of failing on a lock
upgrade. PostgreSQL goes through psycopg 3, with a ``lock_timeout`` so that a table locked by a
migration or a stuck session makes a request fail after a while instead of hanging.

:func:`busy` and :func:`worth_retrying` sort the database's refusals: waited too long for a
lock (say so, try again later) and deadlock or serialization failure (run the transaction
again at once).
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
from sqlalchemy.exc import DBAPIError

ALEMBIC_DIR = Path(__file__).parent / "alembic"


class NotMigrated(RuntimeError):
    """The database schema is older than the code (or absent)."""


def create_db_engine(url: str, *, pool_size: int = 10, lock_timeout: float = 30.0) -> Engine:
    """An engine for ``url``, with SQLite tuned for many short transactions.

    ``lock_timeout`` (seconds) is how long a statement waits for a lock held by another
    connection before failing (SQLite's busy timeout, PostgreSQL's ``lock_timeout``).
    """
    milliseconds = max(int(lock_timeout * 1000), 1)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": lock_timeout},
            pool_size=pool_size,
            max_overflow=20,
            hide_parameters=True,
        )
        _tune_sqlite(engine, milliseconds)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,  # errors (and so logs) never carry addresses or names
    )
    _tune_postgresql(engine, milliseconds)
    return engine


def _tune_postgresql(engine: Engine, lock_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {lock_timeout_ms}")
        cursor.close()
        # Committed, so that the pool's rollback when the connection returns keeps it.
        dbapi_connection.commit()


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_options() -> dict[str, Any]:
    """Execution options for a transaction that will write after reading."""
    return {"sqlite_immediate": True}


# SQLSTATEs: lock_not_available (lock_timeout), query_canceled (statement_timeout).
_PG_BUSY = frozenset({"55P03", "57014"})
# serialization_failure, deadlock_detected: the transaction may simply be run again.
_PG_RETRY = frozenset({"40001", "40P01"})
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def _driver_error(exc: BaseException) -> BaseException:
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def busy(exc: BaseException) -> bool:
    """True when the database refused for want of a lock: it answers again in a moment.

    A lock held beyond the timeout (SQLite's "database is locked", PostgreSQL's
    ``lock_timeout`` or ``statement_timeout``), a deadlock or a serialization failure.
    """
    error = _driver_error(exc)
    if getattr(error, "sqlstate", None) in _PG_BUSY | _PG_RETRY:
        return True
    return type(error).__name__ == "OperationalError" and str(error).startswith(_SQLITE_BUSY)


def worth_retrying(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure: the same transaction may run again at once
    (the other party has gone ahead). A lock timeout is not: we already waited for it."""
    return getattr(_driver_error(exc), "sqlstate", None) in _PG_RETRY


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
