"""The bot guard: when a contest's entry form asks for a proof of work (contest.proofofwork).

The challenge is off for normal traffic: nobody pays for a flood that is not happening. It is
required on a contest when one of three signals rises over the last minutes, and turned off
again when all have fallen back, with a margin and a minimum time on (hysteresis), so that it
does not flicker:

- **rate**: the entries of the last ``RECENT`` reach ``RATE_ON`` and ``SURGE`` times the
  contest's usual pace (its entries of the hour before, brought to the same length);
- **disposable**: ``DISPOSABLE_ON`` of the recent entries use a disposable address;
- **unconfirmed**: ``UNCONFIRMED_ON`` of the entries old enough to have been confirmed
  (``RECENT`` to ``HOUR`` ago) are still pending.

Invitations always ask for it. The facts are counted in the database (an index on the
contest's entries by creation time), and the decision is kept there (``challengestate``), so
that every app process agrees; each process keeps what it read for ``CACHE_FOR`` seconds.

**Without JavaScript the form still works.** A form sent without a solution (the widget never
ran: no JavaScript, or its file is not installed) is taken while the challenge is on, under a
stricter limit per network (``UNPROVEN_PER_NETWORK``, counted with the entry's own rate
limits), with the double opt-in as the guard behind it. A form that sends a solution that does
not prove anything (forged, wrong, expired, for another form, already used) is refused, nothing
written. Both refusals are counted per contest (``stopped_entries``, ``stopped_invitations``)
for the dashboard.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.models import EntryStatus
from contest.proofofwork import ChallengeFailed, Proof, spend
from contest.ratelimit import Limit, hit
from contest.storage import write_options
from viral.fraud import is_disposable

RECENT = timedelta(minutes=10)  # the sliding window the signals judge
HOUR = timedelta(hours=1)  # the usual pace is the hour's entries before the recent ones
RATE_ON, RATE_OFF = 60, 30  # recent entries: at least this many to turn on, fewer to turn off
SURGE = 4.0  # times the usual pace, to turn on (half of it keeps it on)
MIN_SAMPLE = 20  # entries needed before a share means anything
DISPOSABLE_ON, DISPOSABLE_OFF = 0.30, 0.15
UNCONFIRMED_ON, UNCONFIRMED_OFF = 0.90, 0.75
SAMPLE = 200  # the most recent entries whose addresses are looked at
MIN_ON = timedelta(minutes=15)  # once on, it stays on at least this long
RECHECK = timedelta(seconds=15)  # the facts are counted again at most this often
CACHE_FOR = 5.0  # seconds a process trusts the state it read
# Forms sent without a solution while the challenge is on, per network (added to the limits).
UNPROVEN_PER_NETWORK = Limit(5, timedelta(minutes=10))
UNPROVEN_INVITATIONS_PER_NETWORK = Limit(3, timedelta(hours=1))

RATE, DISPOSABLE, UNCONFIRMED = "rate", "disposable", "unconfirmed"


@dataclass(frozen=True)
class Traffic:
    """A contest's entries of the last hour, as the decision judges them."""

    recent: int  # entries of the last RECENT
    earlier: int  # entries of the HOUR before those (old enough to have been confirmed)
    unconfirmed: int  # ... of which still pending
    sampled: int = 0  # recent entries whose address was looked at (at most SAMPLE)
    disposable: int = 0  # ... of which with a disposable address


@dataclass(frozen=True)
class Decision:
    required: bool
    reason: str = ""  # the signal that turned it on, while on


def decide(
    traffic: Traffic, previous: Decision, switched_at: datetime | None, now: datetime
) -> Decision:
    """Whether the challenge is required now, from the recent traffic and the state before.

    A signal turns the challenge on at its ``_ON`` threshold; once on, it stays on while any
    signal is over its ``_OFF`` threshold (lower), and at least ``MIN_ON`` in any case."""
    on = previous.required
    usual = traffic.earlier * (RECENT / (HOUR - RECENT))  # the usual pace over RECENT

    def rate(threshold: int, surge: float) -> bool:
        return traffic.recent >= threshold and traffic.recent >= surge * usual

    def share(part: int, whole: int, threshold: float) -> bool:
        return whole >= MIN_SAMPLE and part >= threshold * whole

    signals = {
        RATE: rate(RATE_OFF, SURGE / 2) if on else rate(RATE_ON, SURGE),
        DISPOSABLE: share(
            traffic.disposable, traffic.sampled, DISPOSABLE_OFF if on else DISPOSABLE_ON
        ),
        UNCONFIRMED: share(
            traffic.unconfirmed, traffic.earlier, UNCONFIRMED_OFF if on else UNCONFIRMED_ON
        ),
    }
    raised = [name for name, up in signals.items() if up]
    if raised:
        return Decision(True, previous.reason if on and previous.reason in raised else raised[0])
    if on and switched_at is not None and now - switched_at < MIN_ON:
        return previous
    return Decision(False)


def traffic(connection: Connection, contest_id: int, now: datetime) -> Traffic:
    """Counts a contest's entries of the last hour (from the index on their creation time)."""
    entry, person = tables.entry, tables.person
    recent_since, hour_since = now - RECENT, now - HOUR
    is_recent = entry.c.created_at >= recent_since
    counts = connection.execute(
        sa.select(
            sa.func.count(sa.case((is_recent, 1))),
            sa.func.count(sa.case((~is_recent, 1))),
            sa.func.count(sa.case((sa.and_(~is_recent, entry.c.status == EntryStatus.PENDING), 1))),
        ).where(
            entry.c.contest_id == contest_id,
            entry.c.created_at >= hour_since,
            entry.c.created_at <= now,
        )
    ).one()
    recent, earlier, unconfirmed = (int(n) for n in counts)
    keys = connection.execute(
        sa.select(person.c.email_key)
        .join(person, person.c.id == entry.c.person_id)
        .where(entry.c.contest_id == contest_id, is_recent, entry.c.created_at <= now)
        .order_by(entry.c.created_at.desc())
        .limit(SAMPLE)
    ).scalars()
    sampled = disposable = 0
    for key in keys:
        sampled += 1
        disposable += is_disposable(key)
    return Traffic(recent, earlier, unconfirmed, sampled, disposable)


@dataclass(frozen=True)
class ChallengeReport:
    """What the dashboard shows: whether the challenge is on, why, and what it stopped."""

    required: bool
    reason: str
    stopped_entries: int
    stopped_invitations: int


def report(connection: Connection, contest_id: int) -> ChallengeReport:
    state = tables.challengestate
    row = connection.execute(sa.select(state).where(state.c.contest_id == contest_id)).first()
    if row is None:
        return ChallengeReport(False, "", 0, 0)
    return ChallengeReport(row.required, row.reason, row.stopped_entries, row.stopped_invitations)


def stored(connection: Connection, contest_id: int, now: datetime) -> Decision | None:
    """The contest's decision as stored, or None when it is older than ``RECHECK`` (or was
    never made): then :func:`refresh` judges it again."""
    state = tables.challengestate
    row = connection.execute(
        sa.select(state.c.required, state.c.reason, state.c.checked_at).where(
            state.c.contest_id == contest_id
        )
    ).first()
    if row is None or not timedelta(0) <= now - row.checked_at < RECHECK:
        return None
    return Decision(row.required, row.reason)


def refresh(connection: Connection, contest_id: int, now: datetime) -> Decision:
    """Judges the contest's decision again from the facts, and stores it for every process
    (in a write transaction)."""
    state = tables.challengestate
    _ensure_state(connection, contest_id, now)
    row = connection.execute(sa.select(state).where(state.c.contest_id == contest_id)).one()
    if timedelta(0) <= now - row.checked_at < RECHECK:
        return Decision(row.required, row.reason)  # another process just judged it
    previous = Decision(row.required, row.reason)
    decision = decide(traffic(connection, contest_id, now), previous, row.switched_at, now)
    switched_at = now if decision.required != previous.required else row.switched_at
    connection.execute(
        sa.update(state)
        .where(state.c.contest_id == contest_id)
        .values(
            required=decision.required,
            reason=decision.reason,
            switched_at=switched_at,
            checked_at=now,
        )
    )
    return decision


def count_stopped(
    connection: Connection, contest_id: int, now: datetime, invitation: bool = False
) -> None:
    """Counts one entry (or invitation) the challenge stopped."""
    state = tables.challengestate
    column = state.c.stopped_invitations if invitation else state.c.stopped_entries
    _ensure_state(connection, contest_id, now)
    connection.execute(
        sa.update(state).where(state.c.contest_id == contest_id).values({column: column + 1})
    )


def _ensure_state(connection: Connection, contest_id: int, now: datetime) -> None:
    """Adds the contest's row (off, to be judged) unless a process already did."""
    state = tables.challengestate
    statement = sa.text(
        "INSERT INTO challengestate (contest_id, required, reason, checked_at, "
        "stopped_entries, stopped_invitations) VALUES (:contest_id, :off, '', :never, 0, 0) "
        "ON CONFLICT (contest_id) DO NOTHING"
    ).bindparams(
        sa.bindparam("never", type_=state.c.checked_at.type),
        sa.bindparam("off", type_=state.c.required.type),
    )
    connection.execute(statement, {"contest_id": contest_id, "off": False, "never": now - HOUR})


def admit(
    connection: Connection,
    contest_id: int,
    proof: Proof | None,
    now: datetime,
    invitation: bool = False,
) -> bool:
    """Spends a verified solution (``proof``) sent with a contest's form; when there is none
    (it did not verify) or it was used before, counts the form as stopped and returns False."""
    if proof is not None:
        try:
            spend(connection, proof)
        except ChallengeFailed:
            proof = None
    if proof is None:
        count_stopped(connection, contest_id, now, invitation)
        return False
    return True


def admit_unproven(
    connection: Connection, contest_id: int, bucket: str, rule: Limit, now: datetime
) -> bool:
    """Counts an invitation form sent without a solution against its network's stricter limit
    (``bucket``); past it, counts the invitation as stopped and returns False."""
    if hit(connection, bucket, rule, now) <= rule.limit:
        return True
    count_stopped(connection, contest_id, now, invitation=True)
    return False


class ChallengeGate:
    """Whether a contest's entry form asks for the proof of work now, as stored in the
    database, kept by this process for ``CACHE_FOR`` seconds (and no longer than that on the
    app's clock, which the tests move)."""

    def __init__(self, engine: Engine, cache_for: float = CACHE_FOR) -> None:
        self._engine = engine
        self._cache_for = cache_for
        self._lock = threading.Lock()
        self._items: dict[int, tuple[float, datetime, bool]] = {}

    def cached(self, contest_id: int, now: datetime) -> bool | None:
        """The decision this process holds, while fresh; None when it must be read."""
        hit = self._items.get(contest_id)
        if (
            hit is not None
            and hit[0] > time.monotonic()
            and timedelta(0) <= now - hit[1] < RECHECK / 3
        ):
            return hit[2]
        return None

    def required(self, contest_id: int, now: datetime) -> bool:
        """The decision, read (and judged again when due) from the database when the copy
        this process holds is stale: the web layer calls it off the event loop."""
        kept = self.cached(contest_id, now)
        if kept is not None:
            return kept
        moment = time.monotonic()
        with self._engine.connect() as connection:
            decision = stored(connection, contest_id, now)
        if decision is None:
            with self._engine.connect().execution_options(**write_options()) as connection:
                with connection.begin():
                    decision = refresh(connection, contest_id, now)
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[contest_id] = (moment + self._cache_for, now, decision.required)
        return decision.required
