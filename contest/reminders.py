"""The e-mails of a participant's journey that the worker sends on its own, each one a
contest may turn off. No HTTP here; the worker runs them each minute.

- The one reminder to confirm: an entry still unconfirmed 24 hours after its confirmation
  e-mail gets a second e-mail, once, while the contest is open.
- "Your friends confirmed": a referrer whose referrals were credited hears of it with their
  new chances, at most once a day (transactional: it reports on their own entry).
- "Three days left": a marketing e-mail, so only to participants whose consent to the
  organizer's offers stands (confirmed, not withdrawn) and who were not contacted for marketing
  in the last ``MARKETING_EVERY``; it is recorded as a contact, carries the RFC 8058
  List-Unsubscribe headers, and goes out once per entry.
- The results, after the draw, to every confirmed participant (transactional: it reports on
  their entry), with the contest's consolation offer for those not drawn.

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
from contest.draw.results import DRAWN
from contest.leads.consents import current_consents
from contest.leads.pressure import ContactPolicy, over_limit, policy_of, record_contact
from contest.models import ContestStatus, EntryStatus, ReferralStatus
from contest.officialrules import PUBLICATION
from contest.storage import write_options

AFTER = timedelta(hours=24)
# The confirmation link lives 7 days; past 6, a reminder would come too late to matter.
UNTIL = timedelta(days=6)
BATCH = 500
# Contests whose entrants are told of a change: published and not yet drawn.
TOLD_OF_CHANGES = frozenset({ContestStatus.SCHEDULED, ContestStatus.OPEN, ContestStatus.CLOSED})


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
    contact: str | None = None,
) -> int:
    """In one write transaction: the ``due`` entries (locked, others' skipped), their
    ``stamp`` column set to ``now`` and one message each queued, each recorded as a marketing
    contact of kind ``contact`` if given (``due`` then selects ``organizer_id`` and
    ``person_id``); gives how many."""
    entry = tables.entry
    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            rows = connection.execute(due).all()
            if rows:
                ids = [row.id for row in rows]
                connection.execute(sa.update(entry).where(entry.c.id.in_(ids)).values({stamp: now}))
                outbox.enqueue_many(connection, [message(row) for row in rows])
                if contact is not None:
                    for row in rows:
                        record_contact(connection, row.organizer_id, row.person_id, contact, now)
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


LAST_DAYS = timedelta(days=3)


def tell_last_days(engine: Engine, now: datetime, batch: int = BATCH) -> int:
    """Queues "three days left, share your link" for the consenting participants of every
    open contest closing within ``LAST_DAYS`` (at most ``batch`` per contest); gives how many."""
    contest = tables.contest
    with engine.connect() as connection:
        closing = connection.execute(
            sa.select(contest.c.id, contest.c.organizer_id).where(
                contest.c.status == ContestStatus.OPEN,
                contest.c.last_days_mail.is_(True),
                contest.c.closes_at > now,
                contest.c.closes_at <= now + LAST_DAYS,
            )
        ).all()
        policies = {row.organizer_id: policy_of(connection, row.organizer_id) for row in closing}
    return sum(
        _send_once(
            engine,
            _last_days_due(row.id, row.organizer_id, policies[row.organizer_id], now, batch),
            "last_days_at",
            now,
            lambda row: outbox.message_row(
                key=f"last-days:{row.public_id}",
                template="last_days",
                recipient=row.email,
                language=row.language,
                payload={
                    "entry": row.public_id,
                    "slug": row.slug,
                    "person": row.person_id,
                    "code": row.referral_code,
                    "chances": int(row.chances),
                },
                now=now,
            ),
            contact="last_days",
        )
        for row in closing
    )


def _last_days_due(
    contest_id: int, organizer_id: int, policy: ContactPolicy, now: datetime, batch: int
) -> sa.Select[Any]:
    """The contest's confirmed entries whose person's consent to the organizer's offers
    stands and who may be reached for marketing now (the organizer's contact limit)."""
    entry, contest, person = tables.entry, tables.contest, tables.person
    consents = current_consents(None, organizer_id, ["marketing_email"])
    consenting = sa.select(consents.c.person_id).where(consents.c.state == "confirmed")
    return (
        sa.select(
            entry.c.id,
            entry.c.public_id,
            entry.c.language,
            entry.c.chances,
            entry.c.referral_code,
            entry.c.person_id,
            contest.c.organizer_id,
            contest.c.slug,
            person.c.email,
        )
        .join(contest, contest.c.id == entry.c.contest_id)
        .join(person, person.c.id == entry.c.person_id)
        .where(
            entry.c.contest_id == contest_id,
            entry.c.status == EntryStatus.CONFIRMED,
            entry.c.last_days_at.is_(None),
            person.c.undeliverable.is_(False),
            person.c.erased_at.is_(None),
            person.c.id.in_(consenting),
            ~over_limit(person.c.id, policy, now),
        )
        .order_by(entry.c.id)
        .limit(batch)
        .with_for_update(of=entry, skip_locked=True)
    )


# Results are sent for recent draws only: a contest whose results mail is turned on long after
# its draw does not write to everyone about it.
RESULTS_WITHIN = timedelta(days=14)


def tell_results(engine: Engine, now: datetime, batch: int = BATCH) -> int:
    """Queues the results of every recent draw to each confirmed participant (at most
    ``batch``); gives how many."""
    entry, contest, person, record = tables.entry, tables.contest, tables.person, tables.drawrecord
    due = (
        sa.select(entry.c.id, entry.c.public_id, entry.c.language, person.c.email, contest.c.slug)
        .join(contest, contest.c.id == entry.c.contest_id)
        .join(person, person.c.id == entry.c.person_id)
        .join(record, record.c.contest_id == contest.c.id)
        .where(
            contest.c.results_mail.is_(True),
            contest.c.status.in_(sorted(DRAWN)),
            record.c.drawn_at > now - RESULTS_WITHIN,
            entry.c.status == EntryStatus.CONFIRMED,
            entry.c.results_at.is_(None),
            person.c.undeliverable.is_(False),
            person.c.erased_at.is_(None),
        )
        .order_by(entry.c.id)
        .limit(batch)
        .with_for_update(of=entry, skip_locked=True)
    )
    return _send_once(
        engine,
        due,
        "results_at",
        now,
        lambda row: outbox.message_row(
            key=f"results:{row.public_id}",
            template="results",
            recipient=row.email,
            language=row.language,
            payload={"entry": row.public_id, "slug": row.slug},
            now=now,
        ),
    )


# A change is told to entrants for a fortnight after it was made: the feature turned on later
# does not write to everyone about old changes.
CHANGES_WITHIN = timedelta(days=14)


def tell_rules_changes(engine: Engine, now: datetime, batch: int = BATCH) -> int:
    """Queues, for each recent change to a published contest's rules, a notice to every
    entrant who confirmed under an earlier version and was not told since (ALL-RULES-LOCK-1:
    entrants are told of a change and why); at most ``batch`` per contest; gives how many."""
    entry, contest, person, version = (
        tables.entry,
        tables.contest,
        tables.person,
        tables.rulesversion,
    )
    with engine.connect() as connection:
        changes = connection.execute(
            sa.select(version.c.contest_id, version.c.published_at, version.c.reason)
            .join(contest, contest.c.id == version.c.contest_id)
            .where(
                version.c.reason != PUBLICATION,
                version.c.published_at > now - CHANGES_WITHIN,
                version.c.published_at <= now,
                contest.c.status.in_(sorted(TOLD_OF_CHANGES)),
            )
            .order_by(version.c.contest_id, version.c.published_at)
        ).all()
    latest = {row.contest_id: row for row in changes}  # the last change of each contest
    told = 0
    for change in latest.values():
        due = (
            sa.select(
                entry.c.id, entry.c.public_id, entry.c.language, person.c.email, contest.c.slug
            )
            .join(contest, contest.c.id == entry.c.contest_id)
            .join(person, person.c.id == entry.c.person_id)
            .where(
                entry.c.contest_id == change.contest_id,
                entry.c.status == EntryStatus.CONFIRMED,
                entry.c.confirmed_at < change.published_at,
                sa.or_(
                    entry.c.rules_noticed_at.is_(None),
                    entry.c.rules_noticed_at < change.published_at,
                ),
                person.c.undeliverable.is_(False),
                person.c.erased_at.is_(None),
            )
            .order_by(entry.c.id)
            .limit(batch)
            .with_for_update(of=entry, skip_locked=True)
        )
        told += _send_once(engine, due, "rules_noticed_at", now, _notice(change, now))
    return told


def _notice(change: Any, now: datetime) -> Callable[[Any], dict[str, Any]]:
    """The notice of ``change`` (a rules version row) to one entry."""
    stamp = change.published_at.isoformat()

    def message(row: Any) -> dict[str, Any]:
        return outbox.message_row(
            key=f"rules:{row.public_id}:{stamp}",
            template="rules_changed",
            recipient=row.email,
            language=row.language,
            payload={"entry": row.public_id, "slug": row.slug, "reason": change.reason},
            now=now,
        )

    return message
