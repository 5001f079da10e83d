"""Fixed-window rate limits kept in the database, so every app process shares them.

A bucket is a string such as ``login:ip:203.0.113.0``. Each window of ``window`` seconds
allows ``limit`` hits; the row is reset when a new window starts. One upsert per hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from contest.contests import table


@dataclass(frozen=True)
class Limit:
    limit: int
    window: timedelta


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hits(connection: Connection, bucket: str, rule: Limit, now: datetime) -> int:
    """How many hits the bucket has in the current window (0 when none)."""
    rate = table("ratelimit")
    row = connection.execute(
        sa.select(rate.c.window_start, rate.c.hits).where(rate.c.bucket == bucket)
    ).first()
    if row is None or row.window_start != _window_start(now, rule.window):
        return 0
    return int(row.hits)


def exceeded(connection: Connection, bucket: str, rule: Limit, now: datetime) -> bool:
    return hits(connection, bucket, rule, now) >= rule.limit


def hit(connection: Connection, bucket: str, rule: Limit, now: datetime) -> int:
    """Counts one hit and returns the bucket's count in the current window."""
    rate = table("ratelimit")
    start = _window_start(now, rule.window)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(rate).values(bucket=bucket, window_start=start, hits=1)
    statement = statement.on_conflict_do_update(
        index_elements=[rate.c.bucket],
        set_={
            "hits": sa.case(
                (rate.c.window_start == statement.excluded.window_start, rate.c.hits + 1),
                else_=1,
            ),
            "window_start": statement.excluded.window_start,
        },
    )
    connection.execute(statement)
    return hits(connection, bucket, rule, now)


def retry_after(now: datetime, rule: Limit) -> int:
    """Seconds until the current window ends."""
    end = _window_start(now, rule.window) + rule.window
    return max(int((end - now).total_seconds()), 1)
