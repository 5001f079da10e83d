"""Instant win that anyone can check: winning moments fixed, and committed to, before anyone
enters; each won by the first entry confirmed at or after it.

At publication (:func:`fix_moments`) a random 32-byte salt is drawn and one moment per prize
unit is derived from it (:func:`derive_moments`): uniformly over the open period (from the
opening, or from the publication if later: no moment has passed before anyone could enter),
or, with the ``daily`` spread, the units dealt to the days in turn and each moment uniform
within its day.
Sorted, moment ``p`` is for prize unit ``p`` in prize order (prize line 1's units first). Only
the commitment is published then: the SHA-256 of the salt and the sorted moments
(:func:`commitment`); the salt stays secret, so the moments cannot be guessed.

The win is decided at confirmation, so the double opt-in still holds (:func:`claim_moment`):
the entry takes the earliest moment that is due (``at`` <= now) and not yet won. An entry that
is never confirmed never wins: its moment stays open for the next confirmation. On PostgreSQL
the moment row is taken ``FOR UPDATE SKIP LOCKED`` (two confirmations at once cannot take the
same one; the second takes the next due moment, if any); SQLite serialises writers. A moment
still unwon at the close is a leftover: drawn after the close among the confirmed entries that
won nothing (``final_draw``), or not awarded (``lost``), as the rules say.

After the close the record (:func:`record`, ``contest-instant-win/1``) publishes the salt, the
moments, their winners' tickets and every confirmation before the close (ticket and time, no
personal data), and ``contest verify-instant-win RECORD.json`` (:func:`verify`) checks, with no
database: the commitment, that the moments are those the salt gives, and that each moment went
to the first confirmation at or after it (confirmations at the same instant may take them in
either order).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contest import tables
from contest.contests import ContestView
from contest.contests.fields import INSTANT_WIN
from contest.models import EntryStatus

FORMAT = "contest-instant-win/1"
COMMIT_TAG = "contest-instant-win/commitment/v1"
MOMENT_TAG = "contest-instant-win/moment/v1"
DAY = timedelta(days=1)
_moment_t, _entry, _contest = tables.instantmoment, tables.entry, tables.contest


def is_instant(contest: ContestView) -> bool:
    return contest.game == INSTANT_WIN


def iso(moment: datetime) -> str:
    """A moment as the record writes it: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _fraction(salt: str, index: int) -> float:
    """A number in [0, 1) from the salt, the same on every machine: 53 bits of an HMAC."""
    digest = hmac.new(bytes.fromhex(salt), f"{MOMENT_TAG}/{index}".encode(), hashlib.sha256)
    return (int.from_bytes(digest.digest()[:8], "big") >> 11) / float(1 << 53)


def _within(start: datetime, end: datetime, fraction: float) -> datetime:
    span = (end - start) // timedelta(microseconds=1)
    return start + timedelta(microseconds=int(fraction * span))


def derive_moments(
    salt: str, opens_at: datetime, closes_at: datetime, units: int, spread: str
) -> list[datetime]:
    """The ``units`` winning moments the salt gives, sorted, all in [opens_at, closes_at)."""
    if units <= 0 or closes_at <= opens_at:
        return []
    if spread == "daily":
        days = []
        start = opens_at
        while start < closes_at:
            days.append((start, min(start + DAY, closes_at)))
            start += DAY
        found = [_within(*days[i % len(days)], _fraction(salt, i)) for i in range(units)]
    else:
        found = [_within(opens_at, closes_at, _fraction(salt, i)) for i in range(units)]
    return sorted(found)


def commitment(salt: str, moments: Iterable[datetime]) -> str:
    """SHA-256 of the tag, the salt and the sorted moments, one per line."""
    lines = [COMMIT_TAG, salt, *(iso(m) for m in sorted(moments))]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def prize_units(contest: ContestView) -> list[int]:
    """The prize line rank of each prize unit, in prize order."""
    return [
        prize.rank
        for prize in sorted(contest.prizes, key=lambda p: p.rank)
        for _ in range(max(prize.quantity, 0))
    ]


def fix_moments(connection: Connection, contest: ContestView, now: datetime) -> str | None:
    """Draws the salt and stores the moments of an instant-win contest, once (at publication,
    ``now``): over [max(opening, publication), close), so that no moment has passed before
    anyone could enter. Returns the commitment, or None when the contest is not an instant
    win or has its moments already."""
    if not is_instant(contest) or contest.opens_at is None or contest.closes_at is None:
        return None
    done = connection.execute(
        sa.select(_contest.c.instant_commitment).where(_contest.c.id == contest.id)
    ).scalar_one()
    if done is not None:
        return None
    salt = secrets.token_hex(32)
    units = prize_units(contest)
    start = max(contest.opens_at, now)
    moments = derive_moments(salt, start, contest.closes_at, len(units), contest.instant_spread)
    committed = commitment(salt, moments)
    connection.execute(
        sa.update(_contest)
        .where(_contest.c.id == contest.id)
        .values(instant_salt=salt, instant_commitment=committed)
    )
    if moments:
        connection.execute(
            sa.insert(_moment_t),
            [
                {"contest_id": contest.id, "position": p, "at": at, "prize_rank": rank}
                for p, (at, rank) in enumerate(zip(moments, units, strict=True), start=1)
            ],
        )
    return committed


@dataclass(frozen=True)
class Won:
    """A moment an entry won: its place in time order and the prize line it gives."""

    position: int
    prize_rank: int
    at: datetime


def claim_moment(
    connection: Connection, contest: ContestView, entry_id: int, now: datetime
) -> Won | None:
    """The moment this just-confirmed entry wins, taken for it; None when no moment is due
    and unwon, or the contest is closed (then the leftovers follow the rules)."""
    if not is_instant(contest) or (contest.closes_at is not None and now >= contest.closes_at):
        return None
    due = (
        sa.select(_moment_t.c.id, _moment_t.c.position, _moment_t.c.prize_rank, _moment_t.c.at)
        .where(
            _moment_t.c.contest_id == contest.id,
            _moment_t.c.entry_id.is_(None),
            _moment_t.c.at <= now,
        )
        .order_by(_moment_t.c.at, _moment_t.c.position)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    # The row is ours until commit (locked on PostgreSQL; SQLite has one writer at a time):
    # the guard on ``entry_id`` only keeps a caller outside a write transaction honest.
    row = connection.execute(due).first()
    if row is None:
        return None
    taken = connection.execute(
        sa.update(_moment_t)
        .where(_moment_t.c.id == row.id, _moment_t.c.entry_id.is_(None))
        .values(entry_id=entry_id, won_at=now)
    ).rowcount
    return Won(row.position, row.prize_rank, row.at) if taken else None


def won_by(connection: Connection, contest_id: int, entry_id: int) -> Won | None:
    row = connection.execute(
        sa.select(_moment_t.c.position, _moment_t.c.prize_rank, _moment_t.c.at).where(
            _moment_t.c.contest_id == contest_id, _moment_t.c.entry_id == entry_id
        )
    ).first()
    return None if row is None else Won(row.position, row.prize_rank, row.at)


def leftover_ranks(connection: Connection, contest_id: int) -> list[int]:
    """The prize line rank of each moment nobody won, in time order."""
    return list(
        connection.execute(
            sa.select(_moment_t.c.prize_rank)
            .where(_moment_t.c.contest_id == contest_id, _moment_t.c.entry_id.is_(None))
            .order_by(_moment_t.c.position)
        ).scalars()
    )


def winners_clause() -> sa.ColumnElement[bool]:
    """True for an entry that won a moment (left out of a final draw)."""
    return sa.exists().where(_moment_t.c.entry_id == _entry.c.id)


# --- The record, published after the close ------------------------------------------------


def record(connection: Connection, contest: ContestView, now: datetime) -> dict[str, Any] | None:
    """The instant-win record of a closed contest, or None before the close (the moments
    stay secret while they can still be won) or for a contest that is not an instant win."""
    if (
        not is_instant(contest)
        or contest.closes_at is None
        or contest.opens_at is None
        or now < contest.closes_at
    ):
        return None
    salt, committed = connection.execute(
        sa.select(_contest.c.instant_salt, _contest.c.instant_commitment).where(
            _contest.c.id == contest.id
        )
    ).one()
    if salt is None:
        return None
    published = connection.execute(  # the moments start at the opening, or at publication
        sa.select(sa.func.min(tables.rulesversion.c.published_at)).where(
            tables.rulesversion.c.contest_id == contest.id
        )
    ).scalar_one()
    starts = max(contest.opens_at, published) if published is not None else contest.opens_at
    moments = connection.execute(
        sa.select(_moment_t.c.position, _moment_t.c.at, _moment_t.c.prize_rank,
                  _moment_t.c.won_at, _entry.c.public_id)
        .select_from(_moment_t.outerjoin(_entry, _entry.c.id == _moment_t.c.entry_id))
        .where(_moment_t.c.contest_id == contest.id)
        .order_by(_moment_t.c.position)
    ).all()  # fmt: skip
    confirmations = connection.execute(
        sa.select(_entry.c.public_id, _entry.c.confirmed_at)
        .where(
            _entry.c.contest_id == contest.id,
            _entry.c.status == EntryStatus.CONFIRMED,
            _entry.c.confirmed_at < contest.closes_at,
        )
        .order_by(_entry.c.confirmed_at, _entry.c.public_id)
    ).all()
    return {
        "format": FORMAT,
        "contest": contest.slug,
        "opens_at": iso(contest.opens_at),
        "starts_at": iso(starts),
        "closes_at": iso(contest.closes_at),
        "spread": contest.instant_spread,
        "leftover": contest.instant_leftover,
        "commitment": committed,
        "salt": salt,
        "moments": [
            {
                "position": row.position,
                "at": iso(row.at),
                "prize_rank": row.prize_rank,
                "ticket": row.public_id,
                "won_at": iso(row.won_at) if row.won_at else None,
            }
            for row in moments
        ],
        "confirmations": [
            {"ticket": row.public_id, "confirmed_at": iso(row.confirmed_at)}
            for row in confirmations
        ],
    }


def record_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def verify(data: dict[str, Any]) -> list[str]:
    """What does not hold in an instant-win record ([] when everything does)."""
    problems: list[str] = []
    try:
        if data.get("format") != FORMAT:
            return [f"unknown format {data.get('format')!r}"]
        salt = str(data["salt"])
        opens = parse_iso(data.get("starts_at") or data["opens_at"])
        closes = parse_iso(data["closes_at"])
        moments = sorted(data["moments"], key=lambda m: int(m["position"]))
        at = [parse_iso(m["at"]) for m in moments]
        confirmations = [(c["ticket"], parse_iso(c["confirmed_at"])) for c in data["confirmations"]]
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the record is not readable: {exc}"]
    if commitment(salt, at) != data.get("commitment"):
        problems.append("the moments and the salt do not give the published commitment")
    if at != derive_moments(salt, opens, closes, len(at), str(data.get("spread"))):
        problems.append("the moments are not those the salt gives")
    confirmed_at = dict(confirmations)
    winners = [m.get("ticket") for m in moments if m.get("ticket")]
    if len(set(winners)) != len(winners):
        problems.append("an entry won more than one moment")
    won = set(winners)
    times = sorted(confirmations, key=lambda c: c[1])
    for moment, due in zip(moments, at, strict=True):
        problems.extend(_check_moment(moment, due, confirmed_at, won, times))
    won_times = [
        (m["position"], confirmed_at[m["ticket"]])
        for m in moments
        if m.get("ticket") in confirmed_at
    ]
    for (earlier, first), (later, second) in zip(won_times, won_times[1:], strict=False):
        if second < first:  # the later moment's winner should have taken the earlier one
            problems.append(f"moments {earlier} and {later}: won out of order")
    return problems


def _check_moment(
    moment: dict[str, Any],
    due: datetime,
    confirmed_at: dict[str, datetime],
    won: set[str],
    times: Sequence[tuple[str, datetime]],
) -> list[str]:
    """A moment went to the first confirmation at or after it: no confirmation that won
    nothing came between the moment and its winner's (or after it, if nobody won it)."""
    position, ticket = moment["position"], moment.get("ticket")
    if ticket is not None:
        when = confirmed_at.get(ticket)
        if when is None:
            return [f"moment {position}: its winner {ticket} is not among the confirmations"]
        if when < due:
            return [f"moment {position}: {ticket} confirmed before the moment"]
        if moment.get("won_at") != iso(when):
            return [f"moment {position}: won at another time than {ticket}'s confirmation"]
        skipped = [t for t, c in times if due <= c < when and t not in won]
    else:
        skipped = [t for t, c in times if c >= due and t not in won]
    if skipped:
        return [f"moment {position}: {skipped[0]} confirmed first and won nothing"]
    return []
