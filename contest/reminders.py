"""The one reminder to confirm an entry (issue of the participant's journey): an entry still
unconfirmed 24 hours after its confirmation e-mail gets a second e-mail, once, while the
contest is open and keeps the reminder on. No HTTP here; the worker runs it each minute.

Never a second reminder: the entry's ``reminded_at`` is set in the transaction that queues the
e-mail, and concurrent workers skip the rows another one holds (PostgreSQL's
``FOR UPDATE SKIP LOCKED``; SQLite's writers queue).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from contest import outbox, tables
from contest.models import ContestStatus, EntryStatus
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
    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            rows = connection.execute(due).all()
            if not rows:
                return 0
            connection.execute(
                sa.update(entry)
                .where(entry.c.id.in_([row.id for row in rows]))
                .values(reminded_at=now)
            )
            outbox.enqueue_many(
                connection,
                [
                    outbox.message_row(
                        key=f"reminder:{row.public_id}",
                        template="confirm",
                        recipient=row.email,
                        language=row.language,
                        payload={"entry": row.public_id, "slug": row.slug, "reminder": True},
                        now=now,
                    )
                    for row in rows
                ],
            )
    return len(rows)
