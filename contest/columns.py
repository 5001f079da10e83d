"""Column types shared by every package's tables: timestamps stored in UTC, read back aware."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC; refuses naive datetimes on the way in."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else _in_utc(value).replace(tzinfo=None)

    def bind_processor(self, dialect: sa.Dialect) -> Callable[[datetime | None], object] | None:
        """On SQLite, the text SQLAlchemy would store ("2026-12-04 15:30:00.000000"), written by
        ``datetime.isoformat`` in C rather than through two Python steps: the entry writer
        binds several timestamps per entry."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return _in_utc(value).isoformat(" ", "microseconds")[:-6]  # without "+00:00"

        return process

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
