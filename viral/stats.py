"""Viral statistics of a contest: invitations, clicks, the viral coefficient, generations.

Every figure is an SQL aggregate over indexed columns (``entry`` by contest and status,
``referral`` by contest and status, ``linkclick`` by contest and kind, ``invitation`` by
contest); Python only divides a handful of aggregated numbers and never loops over entries.
The queries are written once for SQLite and PostgreSQL (``WITH RECURSIVE``, window functions);
the only dialect-specific piece is the number of seconds between two timestamps.

Words used below: a *participant* is a confirmed entry (double opt-in done); a *referral entry*
is an entry with a referrer (``entry.referrer_entry_id`` set), whatever its referral row says;
a *referrer* is a participant with at least one confirmed referral entry. Days are UTC dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest.columns import UTCDateTime
from viral import fraud, models
from viral.referrals import BONUS_OFF, CAP_REACHED

COHORT_DAYS = 30
# Reason codes left by the fraud checks; CAP_REACHED and BONUS_OFF are rules, not fraud.
FRAUD_REASONS = (
    fraud.SELF_REFERRAL,
    fraud.DISPOSABLE_DOMAIN,
    fraud.IP_BURST,
    fraud.REFERRAL_RING,
)
# Referral chains only grow forward in time, so this never binds; it keeps a corrupt
# referrer loop from making the recursive query run forever.
MAX_GENERATIONS = 1000


class Cohort(NamedTuple):
    """Participants confirmed on ``day`` and the confirmed referral entries they brought.

    ``k`` = ``referred`` / ``participants``: ``referred`` counts confirmed referral entries
    whose referrer was confirmed on ``day`` (whenever the referred entry itself confirmed).
    """

    day: date
    participants: int
    referred: int
    k: float


@dataclass(frozen=True)
class ViralStats:
    """The viral figures of one contest. A ratio whose denominator is zero is ``None``.

    - ``invitations_sent``: ``invitation`` rows of the contest (platform-sent invitations).
    - ``referral_clicks``: ``linkclick`` rows of the contest with ``kind = 'referral'``.
    - ``referral_entries``: entries with a referrer, pending or confirmed.
    - ``referral_confirmations``: confirmed entries with a referrer.
    - ``participants``: confirmed entries.
    - ``k``: the viral coefficient, ``referral_confirmations / participants``.
    - ``cohorts``: per UTC day of confirmation (see :class:`Cohort`), the ``COHORT_DAYS`` most
      recent days with at least one confirmation on or before ``as_of``'s UTC date, oldest
      first.
    - ``generations``: confirmed entries per generation, index = generation. A participant
      without referrer is generation 0, the participants they brought generation 1, and so
      on; pending entries are not counted (they cannot refer anyone). Empty without
      participants.
    - ``depth``: the highest generation reached (``len(generations) - 1``, 0 when empty).
    - ``cycle_time_seconds``: the median, over referrers, of the time from the referrer's
      confirmation to the confirmation of their first confirmed referral entry; each referrer
      counts once; the mean of the two middle values for an even count; rounded to the
      millisecond.
    - ``referrers``: participants with at least one confirmed referral entry.
    - ``top_referrers``: ``ceil(referrers / 100)``, the top 1% (at least one when there is a
      referrer), ranked by confirmed referral entries (ties: the earlier entry first).
    - ``top_referrer_share``: the confirmed referral entries brought by the top referrers,
      over ``referral_confirmations``.
    - ``referrals``: ``referral`` rows of the contest, any status.
    - ``fraud_removed``: referral rows in ``review`` or ``rejected``, or ``not_credited`` with
      a fraud reason (``FRAUD_REASONS``) and neither ``CAP_REACHED`` nor ``BONUS_OFF`` (those
      two mean the referral went through crediting: an organizer cleared it, so the fraud
      checks did not remove it).
    - ``fraud_share``: ``fraud_removed / referrals``.
    """

    contest_id: int
    as_of: datetime
    invitations_sent: int
    referral_clicks: int
    referral_entries: int
    referral_confirmations: int
    participants: int
    k: float | None
    cohorts: tuple[Cohort, ...]
    generations: tuple[int, ...]
    depth: int
    cycle_time_seconds: float | None
    referrers: int
    top_referrers: int
    top_referrer_share: float | None
    referrals: int
    fraud_removed: int
    fraud_share: float | None


@dataclass(frozen=True)
class LeaderboardRow:
    """``rank`` from 1; ``display_name`` from :func:`display_name`; credited referrals."""

    rank: int
    display_name: str
    credited: int


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _seconds_between(
    dialect: str, start: sa.ColumnElement[Any], end: sa.ColumnElement[Any]
) -> sa.ColumnElement[Any]:
    """``end - start`` in seconds, as SQL for SQLite or PostgreSQL."""
    if dialect == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    if dialect == "postgresql":
        return sa.extract("epoch", end - start)
    raise NotImplementedError(
        f"viral statistics are written for SQLite and PostgreSQL, not {dialect}"
    )


def _counts(connection: Connection, contest_id: int) -> tuple[int, int, int, int, int]:
    """Invitations sent, referral link clicks, confirmed participants, entries through a
    referral and those confirmed: two statements."""
    entry = models.engine_table("entry")
    confirmed = entry.c.status == "confirmed"
    referred = entry.c.referrer_entry_id.is_not(None)

    invitation, linkclick = models.invitation, models.linkclick
    invitations_sent, referral_clicks = connection.execute(
        sa.select(
            sa.select(sa.func.count())
            .select_from(invitation)
            .where(invitation.c.contest_id == contest_id)
            .scalar_subquery(),
            sa.select(sa.func.count())
            .select_from(linkclick)
            .where(linkclick.c.contest_id == contest_id, linkclick.c.kind == "referral")
            .scalar_subquery(),
        )
    ).one()

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    participants, referral_entries, referral_confirmations = connection.execute(
        sa.select(count_if(confirmed), count_if(referred), count_if(sa.and_(confirmed, referred)))
        .select_from(entry)
        .where(entry.c.contest_id == contest_id)
    ).one()
    return (
        int(invitations_sent),
        int(referral_clicks),
        int(participants),
        int(referral_entries),
        int(referral_confirmations),
    )


def viral_stats(connection: Connection, contest_id: int, now: datetime) -> ViralStats:
    """The figures of :class:`ViralStats` for one contest, as of ``now`` (for the cohorts).

    Refuses a naive ``now`` (ValueError): the cohorts are UTC days. An unknown or empty
    contest gives zeros, empty tuples and ``None`` ratios.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    (
        invitations_sent,
        referral_clicks,
        participants,
        referral_entries,
        referral_confirmations,
    ) = _counts(connection, contest_id)

    referrers, top_referrers, top_sum = _top_referrers(connection, contest_id)
    generations = _generations(connection, contest_id)
    removed, referrals = _fraud(connection, contest_id)
    return ViralStats(
        contest_id=contest_id,
        as_of=now,
        invitations_sent=invitations_sent,
        referral_clicks=referral_clicks,
        referral_entries=referral_entries,
        referral_confirmations=referral_confirmations,
        participants=participants,
        k=_ratio(referral_confirmations, participants),
        cohorts=_cohorts(connection, contest_id, now),
        generations=generations,
        depth=max(len(generations) - 1, 0),
        cycle_time_seconds=_cycle_time(connection, contest_id),
        referrers=referrers,
        top_referrers=top_referrers,
        top_referrer_share=_ratio(top_sum, referral_confirmations),
        referrals=referrals,
        fraud_removed=removed,
        fraud_share=_ratio(removed, referrals),
    )


def _cohorts(connection: Connection, contest_id: int, now: datetime) -> tuple[Cohort, ...]:
    """The cohorts, counted per day in windows of days that end at the latest confirmation:
    one window when the last ``COHORT_DAYS`` days each had a confirmation, another one further
    back for every gap. Each window is read without sorting the participants (see
    :func:`_participants_per_day` and :func:`_referred_per_day`)."""
    entry = models.engine_table("entry")
    confirmed = (entry.c.contest_id == contest_id, entry.c.status == "confirmed")
    before = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    cohorts: dict[date, tuple[int, int]] = {}
    while len(cohorts) < COHORT_DAYS:
        # The latest confirmation before ``before``: one look-up at the end of the index for
        # the participants without referrer, a scan of the (fewer) referral entries for the rest.
        latest = [
            connection.execute(
                sa.select(sa.func.max(entry.c.confirmed_at)).where(
                    *confirmed, branch, entry.c.confirmed_at < before
                )
            ).scalar_one()
            for branch in (
                entry.c.referrer_entry_id.is_(None),
                entry.c.referrer_entry_id.is_not(None),
            )
        ]
        found = [moment for moment in latest if moment is not None]
        if not found:
            break
        last_day = max(found).astimezone(UTC).date()
        days = [last_day - timedelta(days=n) for n in range(COHORT_DAYS - len(cohorts) - 1, -1, -1)]
        participants = _participants_per_day(connection, contest_id, days)
        referred = _referred_per_day(connection, contest_id, days)
        for day in days:
            if participants.get(day):
                cohorts[day] = (participants[day], referred.get(day, 0))
        before = _midnight(days[0])
    return tuple(
        Cohort(day, participants, referred, referred / participants)
        for day, (participants, referred) in sorted(cohorts.items())
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _participants_per_day(
    connection: Connection, contest_id: int, days: list[date]
) -> dict[date, int]:
    """Participants confirmed on each of ``days`` (consecutive UTC days, oldest first).

    Those without referrer are one range of the index on (contest, status, referrer,
    confirmation time) per day; those with a referrer are grouped by day (they are fewer)."""
    entry = models.engine_table("entry")
    confirmed = (entry.c.contest_id == contest_id, entry.c.status == "confirmed")
    bounds = (
        sa.values(
            sa.column("position", sa.Integer),
            sa.column("since", UTCDateTime()),
            sa.column("until", UTCDateTime()),
            name="bounds",
        )
        .data(
            [
                (position, _midnight(day), _midnight(day + timedelta(days=1)))
                for position, day in enumerate(days)
            ]
        )
        .cte("bounds")
    )
    without_referrer = (
        sa.select(sa.func.count())
        .where(
            *confirmed,
            entry.c.referrer_entry_id.is_(None),
            entry.c.confirmed_at >= bounds.c.since,
            entry.c.confirmed_at < bounds.c.until,
        )
        .scalar_subquery()
    )
    counts = {
        days[int(position)]: int(count)
        for position, count in connection.execute(sa.select(bounds.c.position, without_referrer))
    }
    day = sa.func.date(entry.c.confirmed_at, type_=sa.Date)
    with_referrer = connection.execute(
        sa.select(day, sa.func.count())
        .where(
            *confirmed,
            entry.c.referrer_entry_id.is_not(None),
            entry.c.confirmed_at >= _midnight(days[0]),
            entry.c.confirmed_at < _midnight(days[-1] + timedelta(days=1)),
        )
        .group_by(day)
    )
    for when, count in with_referrer:
        counts[when] = counts.get(when, 0) + int(count)
    return counts


def _referred_per_day(connection: Connection, contest_id: int, days: list[date]) -> dict[date, int]:
    """Confirmed referral entries per day of their referrer's confirmation, within ``days``.

    They are counted per referrer first (the index on (contest, status, referrer) in order),
    then each referrer is looked up once by its id. A referred entry is always of its
    referrer's contest, so the referrer needs no contest filter (one would lead SQLite to
    scan the contest's participants instead)."""
    entry = models.engine_table("entry")
    referrer = entry.alias("referrer")
    per_referrer = _per_referrer(contest_id)
    day = sa.func.date(referrer.c.confirmed_at, type_=sa.Date)
    rows = connection.execute(
        sa.select(day, sa.func.sum(per_referrer.c.brought))
        .select_from(per_referrer.join(referrer, referrer.c.id == per_referrer.c.referrer_id))
        .where(
            referrer.c.status == "confirmed",
            referrer.c.confirmed_at >= _midnight(days[0]),
            referrer.c.confirmed_at < _midnight(days[-1] + timedelta(days=1)),
        )
        .group_by(day)
    )
    return {when: int(count) for when, count in rows}


def _per_referrer(contest_id: int) -> sa.Subquery:
    """(referrer_id, brought): confirmed referral entries of the contest per referrer."""
    entry = models.engine_table("entry")
    return (
        sa.select(
            entry.c.referrer_entry_id.label("referrer_id"),
            sa.func.count().label("brought"),
        )
        .where(
            entry.c.contest_id == contest_id,
            entry.c.status == "confirmed",
            entry.c.referrer_entry_id.is_not(None),
        )
        .group_by(entry.c.referrer_entry_id)
        .subquery("per_referrer")
    )


def _generations(connection: Connection, contest_id: int) -> tuple[int, ...]:
    entry = models.engine_table("entry")
    parent, grandparent, child = (
        entry.alias("parent"),
        entry.alias("grandparent"),
        entry.alias("child"),
    )
    confirmed = (entry.c.contest_id == contest_id, entry.c.status == "confirmed")
    referred = (*confirmed, entry.c.referrer_entry_id.is_not(None))
    roots = connection.execute(
        sa.select(sa.func.count()).where(*confirmed, entry.c.referrer_entry_id.is_(None))
    ).scalar_one()
    if not roots:
        return ()
    # Generations are found from the (fewer) referral entries, each looking its referrer up by
    # id, rather than from every participant looking for children. Generation 1 is counted
    # alone; the walk down the index on referrer_entry_id starts at generation 2, so the many
    # generation-1 entries without children are never looked at twice. A referred entry is
    # always of its referrer's contest, so no contest filter is needed past the first step (one
    # would lead SQLite to scan the contest per tree row).
    first = connection.execute(
        sa.select(sa.func.count())
        .select_from(entry.join(parent, parent.c.id == entry.c.referrer_entry_id))
        .where(*referred, parent.c.status == "confirmed", parent.c.referrer_entry_id.is_(None))
    ).scalar_one()
    if not first:
        return (int(roots),)
    tree = (
        sa.select(entry.c.id, sa.literal_column("2", sa.Integer).label("generation"))
        .select_from(
            entry.join(parent, parent.c.id == entry.c.referrer_entry_id).join(
                grandparent, grandparent.c.id == parent.c.referrer_entry_id
            )
        )
        .where(
            *referred,
            parent.c.status == "confirmed",
            grandparent.c.status == "confirmed",
            grandparent.c.referrer_entry_id.is_(None),
        )
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(
        sa.select(child.c.id, tree.c.generation + 1)
        .select_from(tree.join(child, child.c.referrer_entry_id == tree.c.id))
        .where(child.c.status == "confirmed", tree.c.generation < MAX_GENERATIONS)
    )
    rows = connection.execute(
        sa.select(tree.c.generation, sa.func.count())
        .group_by(tree.c.generation)
        .order_by(tree.c.generation)
    ).all()
    return (int(roots), int(first), *(int(count) for _generation, count in rows))


def _cycle_time(connection: Connection, contest_id: int) -> float | None:
    entry = models.engine_table("entry")
    referrer = entry.alias("referrer")
    first = (
        sa.select(
            entry.c.referrer_entry_id.label("referrer_id"),
            sa.func.min(entry.c.confirmed_at).label("first_at"),
        )
        .where(
            entry.c.contest_id == contest_id,
            entry.c.status == "confirmed",
            entry.c.referrer_entry_id.is_not(None),
            entry.c.confirmed_at.is_not(None),
        )
        .group_by(entry.c.referrer_entry_id)
        .subquery("first_referral")
    )
    delay = _seconds_between(connection.dialect.name, referrer.c.confirmed_at, first.c.first_at)
    delays = (
        sa.select(delay.label("delay"))
        .select_from(first.join(referrer, referrer.c.id == first.c.referrer_id))
        .where(referrer.c.confirmed_at.is_not(None))
        .cte("delays")
    )
    # The middle delay (odd count) or the two middle ones (even count), found by sorting the
    # delays once: cheaper in SQLite than numbering them with window functions, and than
    # fetching them one row each into Python.
    total = sa.select(sa.func.count()).select_from(delays).scalar_subquery()
    middle = (
        sa.select(delays.c.delay)
        .order_by(delays.c.delay)
        .limit(2 - total % 2)
        .offset((total - 1) // 2)
        .subquery("middle")
    )
    median = connection.execute(sa.select(sa.func.avg(middle.c.delay))).scalar_one()
    return None if median is None else round(float(median), 3)


def _top_referrers(connection: Connection, contest_id: int) -> tuple[int, int, int]:
    """(referrers, size of the top 1%, confirmed referral entries the top 1% brought)."""
    per_referrer = _per_referrer(contest_id)
    referrers = int(
        connection.execute(sa.select(sa.func.count()).select_from(per_referrer)).scalar_one()
    )
    top = (referrers + 99) // 100  # ceil(1%): 120 referrers -> 2
    if top == 0:
        return 0, 0, 0
    best = (
        sa.select(per_referrer.c.brought)
        .order_by(per_referrer.c.brought.desc(), per_referrer.c.referrer_id)
        .limit(top)
        .subquery("best")
    )
    brought = connection.execute(sa.select(sa.func.sum(best.c.brought))).scalar_one()
    return referrers, top, int(brought or 0)


def _fraud(connection: Connection, contest_id: int) -> tuple[int, int]:
    """(referrals removed by the fraud checks, all referrals of the contest)."""
    referral = models.referral
    # reasons is a JSON list of codes; its text holds each code in double quotes, on both
    # databases, so a quoted code is matched exactly.
    reasons = sa.cast(referral.c.reasons, sa.Text)

    def any_reason(codes: tuple[str, ...]) -> sa.ColumnElement[bool]:
        return sa.or_(*(reasons.contains(f'"{code}"', autoescape=True) for code in codes))

    removed = sa.or_(
        referral.c.status.in_(("review", "rejected")),
        sa.and_(
            referral.c.status == "not_credited",
            any_reason(FRAUD_REASONS),
            sa.not_(any_reason((CAP_REACHED, BONUS_OFF))),
        ),
    )
    total, fraudulent = connection.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((removed, 1), else_=0)), 0),
        )
        .select_from(referral)
        .where(referral.c.contest_id == contest_id)
    ).one()
    return int(fraudulent), int(total)


def display_name(first_name: str) -> str:
    """The first word of the first name, plus the initial of the second word if any.

    "Marie Dupont" -> "Marie D."; "jean" -> "jean". Words holding an "@" are dropped, so an
    address typed in the first-name field is never shown; empty when nothing is left.
    """
    words = [word for word in first_name.split() if "@" not in word]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[1][0].upper()}."


def leaderboard(
    connection: Connection, contest_id: int, limit: int = 10
) -> tuple[LeaderboardRow, ...]:
    """The referrers with the most credited referrals, best first, at most ``limit`` rows.

    Only referrers with at least one ``credited`` referral appear. Ties go to whoever got
    there first: the earlier last credit (``decided_at``, else the referral's creation), then
    the earlier entry. Names come from :func:`display_name`; no e-mail address is read.
    Refuses a ``limit`` below 1 (ValueError).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    referral, entry, person = (
        models.referral,
        models.engine_table("entry"),
        models.engine_table("person"),
    )
    credited = sa.func.count()
    last_credit = sa.func.max(sa.func.coalesce(referral.c.decided_at, referral.c.created_at))
    # The best referrers first, then only their names: each referral row is read once, and
    # only ``limit`` referrers are looked up (every referral's entry exists: foreign keys).
    best = (
        sa.select(
            referral.c.referrer_entry_id.label("referrer_id"),
            credited.label("credited"),
            last_credit.label("last_credit"),
        )
        .where(referral.c.contest_id == contest_id, referral.c.status == "credited")
        .group_by(referral.c.referrer_entry_id)
        .order_by(credited.desc(), last_credit, referral.c.referrer_entry_id)
        .limit(limit)
        .subquery("best")
    )
    rows = connection.execute(
        sa.select(person.c.first_name, best.c.credited)
        .select_from(
            best.join(entry, entry.c.id == best.c.referrer_id).join(
                person, person.c.id == entry.c.person_id
            )
        )
        .order_by(best.c.credited.desc(), best.c.last_credit, best.c.referrer_id)
    ).all()
    return tuple(
        LeaderboardRow(rank, display_name(row.first_name), int(row.credited))
        for rank, row in enumerate(rows, start=1)
    )
