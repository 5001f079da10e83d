"""The organizer's figures for one contest, each one computed by the database.

Every number comes from an aggregate query (``COUNT``, ``SUM`` over ``CASE``, ``GROUP BY``);
Python only folds the grouped rows (a few per source, one per day, one per local hour),
never entry rows, and no query sorts entries. The queries read the indexes on entry (contest,
status, ...), (contest, source, status) and (contest, creation time, status) alone: a contest
of a million entries gives each figure in well under 300 ms on SQLite
(``python -m bench.dashboard``).

Local time. Timestamps are stored as naive UTC, and the local days and hours are computed
without any time zone support from the database, so SQLite and PostgreSQL agree:

- a local day is the interval between two local midnights. Python turns each midnight into
  its UTC instant (``zoneinfo``, so the 23- and 25-hour days of a DST change are exact) and
  the database counts each interval's entries, one index range each;
- a local hour is the UTC hour and minute plus the zone's offset at that instant. Python finds
  where the offset changes between the first and the last entry and, from that, the UTC
  instant where each local hour starts; the database counts the entries between two such
  instants (one range of the index each, no sort) and Python adds up the counts of each hour
  of the day (offsets such as +05:30 work). On the autumn change the repeated local hour
  (02:00-03:00 in Paris) gathers both real hours, as a wall clock shows them.

Limit: offset changes are looked for one day apart, then located to the second; a zone that
changed its offset and back within 24 hours would go unnoticed (no zone in the tz database
does that).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.columns import UTCDateTime
from contest.csvcells import safe_row
from contest.models import EntryStatus
from viral import links

REFERRAL = "referral"
PARTNER_PREFIX = "partner:"
UTM_PREFIX = "utm:"
CSV_COLUMNS = (
    "public_id",
    "status",
    "created_at",
    "confirmed_at",
    "source",
    "chances",
    "language",
)
_DAY_SECONDS = 86_400
# Local hours counted per statement (three parameters each, far below any database's limit).
_RANGES_PER_QUERY = 1000
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)  # the end of the last local hour


@dataclass(frozen=True)
class DayCount:
    """Entries created on one local day, by their current status."""

    day: date
    pending: int
    confirmed: int

    @property
    def entries(self) -> int:
        return self.pending + self.confirmed


@dataclass(frozen=True)
class HourCount:
    hour: int  # 0-23, local time
    entries: int


@dataclass(frozen=True)
class Totals:
    entries: int
    pending: int
    confirmed: int
    confirmed_chances: int  # the tickets in the draw: chances of confirmed entries


@dataclass(frozen=True)
class SourceCount:
    name: str
    entries: int
    confirmed: int


@dataclass(frozen=True)
class Sources:
    direct: SourceCount
    referral: SourceCount
    partner: SourceCount  # every ``partner:*`` together
    partners: tuple[SourceCount, ...]  # per link (named as the organizer named it), most first
    utm: SourceCount  # every ``utm:*`` together
    campaigns: tuple[SourceCount, ...]  # per utm campaign (or its links' names), most first
    other: SourceCount  # any other source value


@dataclass(frozen=True)
class Funnel:
    page_views: int
    form_starts: int
    entries: int
    confirmations: int
    invitations: int
    referral_entries: int


@dataclass(frozen=True)
class ContestStats:
    contest_id: int
    timezone: str
    as_of: datetime
    days: tuple[DayCount, ...]  # the last N local days, oldest first, zero days included
    hours: tuple[HourCount, ...]  # 24 items, hour 0 first
    totals: Totals
    sources: Sources
    funnel: Funnel
    viral_k: float | None


def no_invitations(connection: Connection, contest_id: int) -> int:
    """The invitation count until the referral module provides its own."""
    return 0


def contest_stats(
    connection: Connection,
    contest_id: int,
    now: datetime,
    tz: str = "Europe/Paris",
    *,
    days: int = 30,
    until: datetime | None = None,
    invitations: Callable[[Connection, int], int] = no_invitations,
) -> ContestStats:
    """The dashboard figures of a contest, as of ``now``, in the time zone ``tz``.

    ``days`` is the length of the daily series: the local day of ``now`` and the ones before
    it. Entries are counted by their current status on the day they were created. The other
    figures cover every entry of the contest. ``invitations`` counts the invitations sent
    (a hook for the referral module; none are counted until it exists).

    The viral coefficient is ``K = confirmed entries whose source is "referral" / confirmed
    entries``: the referred participants brought per participant. It is None when there is
    no confirmed entry.

    The ``days`` daily counts end on the day of ``until`` when it comes before ``now`` (a
    contest's close). Refuses (ValueError) a naive ``now`` and ``days`` below 1; an unknown
    ``tz`` raises ``zoneinfo.ZoneInfoNotFoundError``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if days < 1:
        raise ValueError("days must be at least 1")
    zone = ZoneInfo(tz)
    totals = _totals(connection, contest_id)
    sources = _sources(connection, contest_id)
    page_views, form_starts = _funnel_counts(connection, contest_id)
    funnel = Funnel(
        page_views=page_views,
        form_starts=form_starts,
        entries=totals.entries,
        confirmations=totals.confirmed,
        invitations=invitations(connection, contest_id),
        referral_entries=sources.referral.entries,
    )
    return ContestStats(
        contest_id=contest_id,
        timezone=tz,
        as_of=now,
        # A contest closed for a while: its last days, not an empty month since.
        days=_per_day(connection, contest_id, min(now, until or now), zone, days),
        hours=_per_hour(connection, contest_id, zone),
        totals=totals,
        sources=sources,
        funnel=funnel,
        viral_k=sources.referral.confirmed / totals.confirmed if totals.confirmed else None,
    )


def entries_csv(connection: Connection, contest_id: int) -> Iterator[str]:
    """The contest's entries as CSV text, in chunks, read from the database as they are sent.

    Only the entry's own facts (``CSV_COLUMNS``): no e-mail or name, whose export goes
    through the consent checks of the lead export. Times are ISO 8601 in UTC. A source
    starting with a spreadsheet formula character is prefixed with ``'``. The connection
    must stay open until the iterator is exhausted.
    """
    entry = tables.entry
    query = (
        sa.select(*(entry.c[name] for name in CSV_COLUMNS))
        .where(entry.c.contest_id == contest_id)
        .order_by(entry.c.id)
        .execution_options(yield_per=500)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    with connection.execute(query) as result:
        for rows in result.partitions():
            writer.writerows(_csv_row(row) for row in rows)
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


# --- Queries -----------------------------------------------------------------------------


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count(sa.case((condition, 1)))


def _sum_if(condition: sa.ColumnElement[bool], value: sa.ColumnElement[Any]) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def _totals(connection: Connection, contest_id: int) -> Totals:
    entry = tables.entry
    confirmed = entry.c.status == EntryStatus.CONFIRMED
    row = connection.execute(
        sa.select(
            sa.func.count(),
            _count_if(entry.c.status == EntryStatus.PENDING),
            _count_if(confirmed),
            _sum_if(confirmed, entry.c.chances),
        ).where(entry.c.contest_id == contest_id)
    ).one()
    return Totals(*(int(value) for value in row))


def _sources(connection: Connection, contest_id: int) -> Sources:
    entry = tables.entry
    rows = connection.execute(
        sa.select(
            entry.c.source,
            sa.func.count(),
            _count_if(entry.c.status == EntryStatus.CONFIRMED),
        )
        .where(entry.c.contest_id == contest_id)
        .group_by(entry.c.source)
    ).all()
    groups = [
        SourceCount(source, int(entries), int(confirmed)) for source, entries, confirmed in rows
    ]
    # A tracked link is shown by the name the organizer gave it, not by its code.
    names = links.source_names(links.link_sources(connection, [contest_id]))
    partners = _prefixed(groups, PARTNER_PREFIX, names)
    campaigns = _prefixed(groups, UTM_PREFIX, names)
    known = {"direct", REFERRAL}
    return Sources(
        direct=_together("direct", (g for g in groups if g.name == "direct")),
        referral=_together(REFERRAL, (g for g in groups if g.name == REFERRAL)),
        partner=_together("partner", partners),
        partners=partners,
        utm=_together("utm", campaigns),
        campaigns=campaigns,
        other=_together(
            "other",
            (
                g
                for g in groups
                if g.name not in known and not g.name.startswith((PARTNER_PREFIX, UTM_PREFIX))
            ),
        ),
    )


def _prefixed(
    groups: Iterable[SourceCount], prefix: str, names: Mapping[str, str]
) -> tuple[SourceCount, ...]:
    """The groups whose source starts with ``prefix``, most entries first, each named by
    ``names`` (a tracked link's name) or else by the source without its prefix."""
    found = [
        SourceCount(names.get(g.name) or g.name.removeprefix(prefix), g.entries, g.confirmed)
        for g in groups
        if g.name.startswith(prefix)
    ]
    return tuple(sorted(found, key=lambda g: (-g.entries, g.name)))


def _together(name: str, groups: Iterable[SourceCount]) -> SourceCount:
    entries = confirmed = 0
    for group in groups:
        entries += group.entries
        confirmed += group.confirmed
    return SourceCount(name, entries, confirmed)


def _funnel_counts(connection: Connection, contest_id: int) -> tuple[int, int]:
    funnel = tables.funnelcount
    page_views, form_starts = connection.execute(
        sa.select(
            _sum_if(funnel.c.metric == "page_view", funnel.c.count),
            _sum_if(funnel.c.metric == "form_start", funnel.c.count),
        ).where(funnel.c.contest_id == contest_id)
    ).one()
    return int(page_views), int(form_starts)


def _per_day(
    connection: Connection, contest_id: int, now: datetime, zone: ZoneInfo, days: int
) -> tuple[DayCount, ...]:
    entry = tables.entry
    today = now.astimezone(zone).date()
    local_days = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    # bounds[i] is the UTC instant of day i's local midnight; the last one ends today.
    bounds = [_midnight(day, zone) for day in [*local_days, today + timedelta(days=1)]]
    # One range of the index on (contest, creation time, status) per day, all in one
    # statement: each entry is read once and compared with its own day's bounds only.
    counts_of_day = [
        sa.select(
            sa.literal_column(str(index), sa.Integer).label("day_index"),
            _count_if(entry.c.status == EntryStatus.PENDING),
            _count_if(entry.c.status == EntryStatus.CONFIRMED),
        ).where(
            entry.c.contest_id == contest_id,
            entry.c.created_at >= bounds[index],
            entry.c.created_at < bounds[index + 1],
        )
        for index in range(days)
    ]
    rows = connection.execute(sa.union_all(*counts_of_day)).all()
    counts = {int(index): (int(pending), int(confirmed)) for index, pending, confirmed in rows}
    return tuple(DayCount(day, *counts.get(index, (0, 0))) for index, day in enumerate(local_days))


def _per_hour(connection: Connection, contest_id: int, zone: ZoneInfo) -> tuple[HourCount, ...]:
    entry = tables.entry
    mine = entry.c.contest_id == contest_id
    # Two scalar subqueries: each is then one look-up at an end of the index, where a single
    # SELECT of both min() and max() reads every entry.
    first, last = connection.execute(
        sa.select(
            sa.select(sa.func.min(entry.c.created_at)).where(mine).scalar_subquery(),
            sa.select(sa.func.max(entry.c.created_at)).where(mine).scalar_subquery(),
        )
    ).one()
    counts: dict[int, int] = {}
    if first is not None:
        hours = _local_hours(zone, first, last)
        # One range of the index on (contest, creation time, status) per local hour, counted
        # by a correlated subquery: the database reads each entry once in index order and
        # never sorts them (grouping by the minute of the day made SQLite sort every entry).
        for start in range(0, len(hours), _RANGES_PER_QUERY):
            chunk = hours[start : start + _RANGES_PER_QUERY]
            ends = [since for since, _hour in hours[start + 1 : start + len(chunk) + 1]]
            ends += [_END_OF_TIME] * (len(chunk) - len(ends))
            bounds = (
                sa.values(
                    sa.column("hour", sa.Integer),
                    sa.column("since", UTCDateTime()),
                    sa.column("until", UTCDateTime()),
                    name="bounds",
                )
                .data(
                    [(hour, since, until) for (since, hour), until in zip(chunk, ends, strict=True)]
                )
                .cte("bounds")
            )
            entries = (
                sa.select(sa.func.count())
                .where(
                    mine, entry.c.created_at >= bounds.c.since, entry.c.created_at < bounds.c.until
                )
                .scalar_subquery()
            )
            for hour, count in connection.execute(sa.select(bounds.c.hour, entries)):
                counts[int(hour)] = counts.get(int(hour), 0) + int(count)
    return tuple(HourCount(hour, counts.get(hour, 0)) for hour in range(24))


def _local_hours(zone: ZoneInfo, first: datetime, last: datetime) -> list[tuple[datetime, int]]:
    """Where each local hour from ``first`` to ``last`` starts (UTC), with its hour (0-23).

    The first one starts at ``first``; each one lasts until the next one starts, the last one
    for ever. An entry's local hour is the UTC hour and minute of its creation plus the zone's
    offset then (in whole minutes), modulo 24 hours: the hour changes where the offset does
    and, within one period of one offset, where the UTC minute plus the offset is a multiple
    of 60. On the autumn change the repeated local hour gets both real hours."""
    changes = _offset_changes(zone, first, last)
    starts: list[tuple[datetime, int]] = []
    for index, (since, offset) in enumerate(changes):
        until = changes[index + 1][0] if index + 1 < len(changes) else last + timedelta(hours=1)
        minute = since.hour * 60 + since.minute
        starts.append((since, (minute + offset) % 1440 // 60))
        at = since.replace(second=0, microsecond=0) + timedelta(minutes=60 - (minute + offset) % 60)
        while at < until and at <= last:
            starts.append((at, (at.hour * 60 + at.minute + offset) % 1440 // 60))
            at += timedelta(hours=1)
    return starts


# --- Time zone arithmetic ----------------------------------------------------------------


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _offset_minutes(epoch_seconds: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(epoch_seconds, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def _offset_changes(zone: ZoneInfo, first: datetime, last: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (minutes) at ``first``, then each change up to ``last``."""
    start, end = int(first.timestamp()), int(last.timestamp()) + 1
    changes = [(start, _offset_minutes(start, zone))]
    at = start
    while at < end:
        step = min(at + _DAY_SECONDS, end)
        current = changes[-1][1]
        if _offset_minutes(step, zone) == current:
            at = step
            continue
        before, after = at, step  # the change happens in (before, after]
        while after - before > 1:
            middle = (before + after) // 2
            if _offset_minutes(middle, zone) == current:
                before = middle
            else:
                after = middle
        changes.append((after, _offset_minutes(after, zone)))
        at = after
    return [(datetime.fromtimestamp(since, UTC), minutes) for since, minutes in changes]


# --- CSV ---------------------------------------------------------------------------------


def _csv_row(row: sa.Row[Any]) -> list[object]:
    confirmed_at = row.confirmed_at.isoformat() if row.confirmed_at is not None else ""
    return safe_row(
        [
            row.public_id,
            row.status,
            row.created_at.isoformat(),
            confirmed_at,
            row.source,
            row.chances,
            row.language,
        ]
    )


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
