"""One domain operation in one transaction: what a handler hands to a worker thread.

Domain functions take a connection (or a session) first, so that they compose inside one
transaction and tests can run them on their own. The web layer runs one of them with
``run_in_threadpool(writing, engine, operation, *arguments)``: the transaction begins, the
operation runs, and the transaction commits, or rolls back when the operation raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlmodel import Session

from contest.storage import write_options

P = ParamSpec("P")
T = TypeVar("T")


def reading(
    engine: Engine,
    operation: Callable[Concatenate[Connection, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Runs an operation that only reads."""
    with engine.connect() as connection:
        return operation(connection, *args, **kwargs)


def writing(
    engine: Engine,
    operation: Callable[Concatenate[Connection, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Runs an operation that reads then writes, in a transaction that takes the write lock
    from its start (SQLite's ``BEGIN IMMEDIATE``) rather than upgrading a read lock midway."""
    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            return operation(connection, *args, **kwargs)


def in_session(
    engine: Engine,
    operation: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Runs an operation written with SQLModel objects; it commits what it means to keep."""
    with Session(engine) as session:
        return operation(session, *args, **kwargs)


def in_write_session(
    engine: Engine,
    operation: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """:func:`in_session` for an operation that will write: each of its transactions takes
    the write lock from its start, so that concurrent writers queue (SQLite's busy timeout)
    instead of failing when a read lock cannot be upgraded."""
    with Session(engine.execution_options(**write_options())) as session:
        return operation(session, *args, **kwargs)
