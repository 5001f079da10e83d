"""Rate limits kept in the database, so every app process shares them.

A bucket is a string such as ``login:network:203.0.113.0``. Two kinds share the table:

- a fixed window (:class:`Limit`): each window of ``window`` seconds allows ``limit`` hits;
  the row is reset when a new window starts. One upsert per hit.
- a growing delay (:class:`Backoff`): a few failures are free, then each one doubles the wait
  before the next try. The row holds the time of the last failure (``window_start``) and the
  failures since the bucket was last forgotten (``hits``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables


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
    rate = tables.ratelimit
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
    return hit_many(connection, [(bucket, rule)], now)[bucket]


def hit_many(
    connection: Connection, buckets: list[tuple[str, Limit]], now: datetime
) -> dict[str, int]:
    """Counts one hit in each bucket with one statement; returns each bucket's new count."""
    return add_hits(connection, {bucket: (rule, 1) for bucket, rule in buckets}, now)


def add_hits(
    connection: Connection, hits: dict[str, tuple[Limit, int]], now: datetime
) -> dict[str, int]:
    """Adds ``hits[bucket] = (rule, n)`` hits to each bucket with one statement; returns each
    bucket's count after them."""
    if not hits:
        return {}
    statement = _upsert(len(hits))
    params: dict[str, object] = {}
    for n, (bucket, (rule, times)) in enumerate(hits.items()):
        params[f"b{n}"], params[f"w{n}"] = bucket, _window_start(now, rule.window)
        params[f"n{n}"] = times
    return {row.bucket: int(row.hits) for row in connection.execute(statement, params)}


@functools.cache
def _upsert(rows: int) -> Any:
    """The upsert of ``rows`` buckets, written once as SQL (the same on SQLite and PostgreSQL):
    it runs with every entry group, and a textual statement skips SQL compilation."""
    rate = tables.ratelimit
    values = ", ".join(f"(:b{n}, :w{n}, :n{n})" for n in range(rows))
    statement = sa.text(
        f"INSERT INTO ratelimit (bucket, window_start, hits) VALUES {values} "
        "ON CONFLICT (bucket) DO UPDATE SET "
        "hits = CASE WHEN ratelimit.window_start = excluded.window_start "
        "THEN ratelimit.hits + excluded.hits ELSE excluded.hits END, "
        "window_start = excluded.window_start "
        "RETURNING bucket, hits"
    )
    moments = [sa.bindparam(f"w{n}", type_=rate.c.window_start.type) for n in range(rows)]
    return statement.bindparams(*moments).columns(rate.c.bucket, rate.c.hits)


def parse_limit(text: str) -> Limit | None:
    """``"60/10m"`` is 60 hits per 10 minutes (units s, m, h, d); ``"0"`` or ``"off"`` is none."""
    text = text.strip().lower()
    if text in {"0", "off", "none"}:
        return None
    count, _, period = text.partition("/")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        limit = int(count)
        unit = units[period[-1]] if period and period[-1] in units else 1
        amount = int(period[:-1] if period and period[-1] in units else period)
    except (KeyError, ValueError):
        raise ValueError(f"a rate limit looks like 60/10m, not {text!r}") from None
    if limit <= 0 or amount <= 0:
        raise ValueError(f"a rate limit needs positive numbers, not {text!r}")
    return Limit(limit, timedelta(seconds=amount * unit))


def retry_after(now: datetime, rule: Limit) -> int:
    """Seconds until the current window ends."""
    end = _window_start(now, rule.window) + rule.window
    return max(int((end - now).total_seconds()), 1)


@dataclass(frozen=True)
class Backoff:
    """``free`` failures, then a wait of ``first_wait`` doubled with each further failure, at
    most ``longest_wait``; the failures are forgotten ``forget_after`` the last one."""

    free: int
    first_wait: timedelta
    longest_wait: timedelta
    forget_after: timedelta

    def wait(self, failures: int) -> timedelta:
        """How long after the last of ``failures`` failures the next try must wait."""
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 32)  # the cap is reached long before
        return min(self.first_wait * (1 << doublings), self.longest_wait)


def backoff_wait(connection: Connection, bucket: str, rule: Backoff, now: datetime) -> int:
    """Seconds before the bucket allows a try (0: now)."""
    rate = tables.ratelimit
    row = connection.execute(
        sa.select(rate.c.window_start, rate.c.hits).where(rate.c.bucket == bucket)
    ).first()
    if row is None or now - row.window_start >= rule.forget_after:
        return 0
    last_failure: datetime = row.window_start
    remaining = (last_failure + rule.wait(int(row.hits)) - now).total_seconds()
    return max(math.ceil(remaining), 0)


def backoff_failure(connection: Connection, bucket: str, rule: Backoff, now: datetime) -> int:
    """Counts one failure at ``now`` (after forgetting those older than ``forget_after``);
    returns the failures the bucket holds."""
    rate = tables.ratelimit
    statement = sa.text(
        "INSERT INTO ratelimit (bucket, window_start, hits) VALUES (:bucket, :now, 1) "
        "ON CONFLICT (bucket) DO UPDATE SET "
        "hits = CASE WHEN ratelimit.window_start > :forgotten THEN ratelimit.hits + 1 ELSE 1 END, "
        "window_start = excluded.window_start "
        "RETURNING hits"
    ).bindparams(
        sa.bindparam("now", type_=rate.c.window_start.type),
        sa.bindparam("forgotten", type_=rate.c.window_start.type),
    )
    params = {"bucket": bucket, "now": now, "forgotten": now - rule.forget_after}
    return int(connection.execute(statement, params).scalar_one())


def forget(connection: Connection, bucket: str) -> None:
    """Removes one bucket (its count starts again from nothing)."""
    rate = tables.ratelimit
    connection.execute(sa.delete(rate).where(rate.c.bucket == bucket))


def forget_prefixed(connection: Connection, prefix: str) -> int:
    """Removes every bucket whose name starts with ``prefix``; returns how many."""
    rate = tables.ratelimit
    return connection.execute(
        sa.delete(rate).where(rate.c.bucket.startswith(prefix, autoescape=True))
    ).rowcount
