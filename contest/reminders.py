"""The e-mails of a participant's journey that the worker sends on its own, each one a
contest may turn off. No HTTP here; the worker runs them each minute.

- The one reminder to confirm: an entry still unconfirmed 24 hours after its confirmation
  e-mail gets a second e-mail, once, while the contest is open.
- "Your friends confirmed": a referrer whose referrals were credited hears of it with their
  new chances, at most once a day (transactional: it reports on their own entry).

Never twice: the entry's ``reminded_at`` / ``friends_told_at`` is set in the transaction that
queues the e-mail, and concurrent workers skip the rows another one holds (PostgreSQL's
``FOR UPDATE SKIP LOCKED``; SQLite's writers queue).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from contest import outbox, tables
from contest.models import ContestStatus, EntryStatus, ReferralStatus
from contest.storage import write_options

AFTER = timedelta(hours=24)
# The confirmation link lives 7 days; past 6, a reminder would come too late to matter.
UNTIL = timedelta(days=6)
BATCH = 500


def remind_unconfirmed(engine: Engine, now: datetime, batch: int = BATCH) -> int:
    """Queues the reminder of every entry due for one (at most ``batch``); gives how many."""
    entry, contest, person = tables.entry, tables.contest, tables.person
    due = (
        sa.select(entry.c.id, entry.c.public_id, entry.c.language, person.c.email, contest.c.slug)
        .join(contest, contest.c.id == entry.c.contest_id)
        .join(person, person.c.id == entry.c.person_id)
        .where(
            entry.c.status == EntryStatus.PENDING,
            entry.c.reminded_at.is_(None),
            entry.c.confirmation_sent_at <= now - AFTER,
            entry.c.confirmation_sent_at > now - UNTIL,
            contest.c.confirm_reminder.is_(True),
            contest.c.status == ContestStatus.OPEN,
            sa.or_(contest.c.closes_at.is_(None), contest.c.closes_at > now),
            person.c.undeliverable.is_(False),
        )
        .order_by(entry.c.id)
        .limit(batch)
        .with_for_update(of=entry, skip_locked=True)
    )
    return _send_once(
        engine,
        due,
        "reminded_at",
        now,
        lambda row: outbox.message_row(
            key=f"reminder:{row.public_id}",
            template="confirm",
            recipient=row.email,
            language=row.language,
            payload={"entry": row.public_id, "slug": row.slug, "reminder": True},
            now=now,
        ),
    )


def _send_once(
    engine: Engine,
    due: sa.Select[Any],
    stamp: str,
    now: datetime,
    message: Callable[[Any], dict[str, Any]],
) -> int:
    """In one write transaction: the ``due`` entries (locked, others' skipped), their
    ``stamp`` column set to ``now`` and one message each queued; gives how many."""
    entry = tables.entry
    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            rows = connection.execute(due).all()
            if rows:
                ids = [row.id for row in rows]
                connection.execute(sa.update(entry).where(entry.c.id.in_(ids)).values({stamp: now}))
                outbox.enqueue_many(connection, [message(row) for row in rows])
    return len(rows)


DAILY = timedelta(days=1)


def tell_referrers(engine: Engine, now: datetime, batch: int = BATCH) -> int:
    """Queues "your friends confirmed" for every confirmed referrer credited since they were
    last told, if that was a day ago or more (at most ``batch``); gives how many."""
    entry, contest, person, referral = tables.entry, tables.contest, tables.person, tables.referral
    credited_at = sa.func.coalesce(referral.c.decided_at, referral.c.confirmed_at)
    untold = sa.or_(entry.c.friends_told_at.is_(None), credited_at > entry.c.friends_told_at)
    fresh = (
        sa.select(sa.func.count())
        .where(
            referral.c.referrer_entry_id == entry.c.id,
            referral.c.status == ReferralStatus.CREDITED,
            untold,
        )
        .scalar_subquery()
    )
    due = (
        sa.select(
            entry.c.id,
            entry.c.public_id,
            entry.c.language,
            entry.c.chances,
            person.c.email,
            contest.c.slug,
            fresh.label("friends"),
        )
        .join(contest, contest.c.id == entry.c.contest_id)
        .join(person, person.c.id == entry.c.person_id)
        .where(
            entry.c.status == EntryStatus.CONFIRMED,
            sa.or_(entry.c.friends_told_at.is_(None), entry.c.friends_told_at <= now - DAILY),
            contest.c.friend_mail.is_(True),
            contest.c.status == ContestStatus.OPEN,
            person.c.undeliverable.is_(False),
            fresh > 0,
        )
        .order_by(entry.c.id)
        .limit(batch)
        .with_for_update(of=entry, skip_locked=True)
    )
    return _send_once(
        engine,
        due,
        "friends_told_at",
        now,
        lambda row: outbox.message_row(
            key=f"friends:{row.public_id}:{now.date().isoformat()}",
            template="friends_confirmed",
            recipient=row.email,
            language=row.language,
            payload={
                "entry": row.public_id,
                "slug": row.slug,
                "friends": int(row.friends),
                "chances": int(row.chances),
            },
            now=now,
        ),
    )
