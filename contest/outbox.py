"""The outbox: messages written with their cause, delivered later by a sender loop.

Claiming is safe with several workers: PostgreSQL rows are taken with
``FOR UPDATE SKIP LOCKED``; on SQLite the claim is one ``UPDATE`` under the database's single
writer lock. A claimed row carries a lease (``locked_until``); a worker that dies mid-send
leaves the row to be retried when the lease runs out. A row marked ``sent`` is never sent again.
A sender starts a message only while half its lease remains (:data:`SEND_WINDOW`), and hands the
rest of a slow batch back, so that no other worker takes a row while it is being sent.

Delivery is *at least once*, not exactly once. Between the receiving server's acceptance (its
250 after the message's final dot, or a shop's or CRM's 2xx) and the commit of
:func:`mark_sent` lies a short window: a process killed there (or a database that refuses the
update, or an answer lost on the network, RFC 1047) leaves the row claimed, and it is sent
again once its lease has run out. Every e-mail built from a row carries the same Message-ID
(``<outbox-{id}.{hash of the idempotency key}@{domain}>``), and calls to shops and CRMs carry
the idempotency key, so that a receiver can recognise the second copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.models import OutboxStatus
from contest.storage import write_options

LEASE = timedelta(minutes=5)
SEND_WINDOW = LEASE / 2
# Given up after about three days of failures (30 s, 1 min, 2 min, ... then hourly): a mail
# server or a shop down over a weekend night loses nothing.
MAX_ATTEMPTS = 80
# The payload key of the name a row keeps once its address is forgotten (mark_failed).
PSEUDONYM = "pseudonym"


class Undeliverable(Exception):
    """The message or call can never be made (its entry or contest is gone, the destination
    refused it for good): do not retry."""


_INSERT = sa.insert(tables.outboxmessage)


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
    locked_until: datetime | None = None


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
        message_row(
            key=key,
            template=template,
            recipient=recipient,
            language=language,
            payload=payload,
            now=now,
            kind=kind,
        ),
    )


def message_row(
    *,
    key: str,
    template: str,
    recipient: str,
    language: str,
    payload: dict[str, Any],
    now: datetime,
    kind: str = "email",
) -> dict[str, Any]:
    """The row :func:`enqueue` writes, for callers writing many at once (:func:`enqueue_many`)."""
    return {
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
    }


def enqueue_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Writes rows made by :func:`message_row` with one statement."""
    if rows:
        connection.execute(_INSERT, rows)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim_due(engine: Engine, now: datetime, limit: int = 50) -> list[OutboxItem]:
    outbox = tables.outboxmessage
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
            locked_until=now + LEASE,
        )
        for r in rows
    ]


def may_start(item: OutboxItem, now: datetime) -> bool:
    """Whether enough of the item's lease remains to start sending it."""
    return item.locked_until is None or now <= item.locked_until - SEND_WINDOW


def release(engine: Engine, items: list[OutboxItem]) -> None:
    """Hands claimed rows back unsent (their claim did not count as an attempt), unless their
    lease ran out and another worker has claimed them since."""
    if not items:
        return
    outbox = tables.outboxmessage
    with engine.begin() as connection:
        connection.execute(
            sa.update(outbox)
            .where(
                outbox.c.id.in_([item.id for item in items]),
                outbox.c.status == OutboxStatus.SENDING,
                outbox.c.locked_until.in_({item.locked_until for item in items}),
            )
            .values(
                status=OutboxStatus.PENDING,
                locked_until=None,
                attempts=sa.case((outbox.c.attempts > 0, outbox.c.attempts - 1), else_=0),
            )
        )


def mark_sent(
    engine: Engine, item: OutboxItem, now: datetime, *, scrub_recipient: bool = False
) -> None:
    outbox = tables.outboxmessage
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
    """Schedules a retry with backoff, or gives up after MAX_ATTEMPTS. A row that keeps its
    address only until it is delivered (its payload names a ``pseudonym``: a CRM erasure) is
    forgotten when given up: the pseudonym takes the address's place everywhere in the row."""
    outbox = tables.outboxmessage
    final = item.attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = {
        "status": OutboxStatus.FAILED if final else OutboxStatus.PENDING,
        "next_attempt_at": now + backoff(item.attempts),
        "locked_until": None,
        "last_error": error[:500],
    }
    pseudonym = item.payload.get(PSEUDONYM)
    if final and pseudonym:
        values |= {
            "recipient": str(pseudonym),
            "payload": {**item.payload, "data": {}},
            "last_error": _without(error, item.recipient, str(pseudonym))[:500],
        }
    with engine.begin() as connection:
        connection.execute(sa.update(outbox).where(outbox.c.id == item.id).values(**values))


def _without(text: str, address: str, pseudonym: str) -> str:
    """``text`` (an error, which may quote the address, as is or in a URL) with the pseudonym
    in the address's place."""
    if not address:
        return text
    for form in {address, quote(address), quote(address, safe="")}:
        text = re.sub(re.escape(form), pseudonym, text, flags=re.IGNORECASE)
    return text
