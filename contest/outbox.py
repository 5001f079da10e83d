"""The outbox: messages written with their cause, delivered later by a sender loop.

Claiming is safe with several workers: PostgreSQL rows are taken with
``FOR UPDATE SKIP LOCKED``; on SQLite the claim is one ``UPDATE`` under the database's single
writer lock. A claimed row carries a lease (``locked_until``); a worker that dies mid-send
leaves the row to be retried when the lease runs out. A row marked ``sent`` is never sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest.contests import table
from contest.models import OutboxStatus
from contest.storage import write_options

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
_INSERT = sa.insert(table("outboxmessage"))


@dataclass(frozen=True)
class OutboxItem:
    id: int
    idempotency_key: str
    kind: str
    template: str
    recipient: str
    language: str
    payload: dict[str, Any]
    attempts: int


def enqueue(
    connection: Connection,
    *,
    key: str,
    template: str,
    recipient: str,
    language: str,
    payload: dict[str, Any],
    now: datetime,
    kind: str = "email",
) -> None:
    """Adds a message in the caller's transaction; ``key`` makes the cause send it once.

    ``kind`` is ``email`` (rendered and mailed) or ``shop`` (a call to the organizer's shop).
    """
    connection.execute(
        _INSERT,
        {
            "idempotency_key": key,
            "kind": kind,
            "template": template,
            "recipient": recipient,
            "language": language,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        },
    )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim_due(engine: Engine, now: datetime, limit: int = 50) -> list[OutboxItem]:
    outbox = table("outboxmessage")
    due = sa.and_(
        sa.or_(
            outbox.c.status == OutboxStatus.PENDING,
            sa.and_(outbox.c.status == OutboxStatus.SENDING, outbox.c.locked_until < now),
        ),
        outbox.c.next_attempt_at <= now,
    )
    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            query = sa.select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = [row.id for row in connection.execute(query)]
            if not ids:
                return []
            connection.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    status=OutboxStatus.SENDING,
                    locked_until=now + LEASE,
                    attempts=outbox.c.attempts + 1,
                )
            )
            rows = connection.execute(
                sa.select(outbox).where(outbox.c.id.in_(ids)).order_by(outbox.c.id)
            ).all()
    return [
        OutboxItem(
            id=r.id,
            idempotency_key=r.idempotency_key,
            kind=r.kind,
            template=r.template,
            recipient=r.recipient,
            language=r.language,
            payload=r.payload,
            attempts=r.attempts,
        )
        for r in rows
    ]


def mark_sent(
    engine: Engine, item: OutboxItem, now: datetime, *, scrub_recipient: bool = False
) -> None:
    outbox = table("outboxmessage")
    values: dict[str, Any] = {
        "status": OutboxStatus.SENT,
        "sent_at": now,
        "locked_until": None,
        "last_error": "",
    }
    if scrub_recipient:
        values["recipient"] = ""
    with engine.begin() as connection:
        connection.execute(sa.update(outbox).where(outbox.c.id == item.id).values(**values))


def mark_failed(engine: Engine, item: OutboxItem, now: datetime, error: str) -> None:
    """Schedules a retry with backoff, or gives up after MAX_ATTEMPTS."""
    outbox = table("outboxmessage")
    final = item.attempts >= MAX_ATTEMPTS
    with engine.begin() as connection:
        connection.execute(
            sa.update(outbox)
            .where(outbox.c.id == item.id)
            .values(
                status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
                next_attempt_at=now + backoff(item.attempts),
                locked_until=None,
                last_error=error[:500],
            )
        )
