"""A draw once run, as it is published: running it and telling the winners, the public record,
and the result the contest page shows. Nothing here identifies anyone (ALL-DRAW-PRIVACY-1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest.contests import ContestView
from contest.draw import drawing
from contest.draw import protocol as core
from contest.models import ContestStatus
from contest.prizes import claims

DRAWN = frozenset({ContestStatus.DRAWN, ContestStatus.ARCHIVED})


@dataclass(frozen=True)
class DrawResult:
    """The public part of a draw and the prizes' fulfilment, for the contest page."""

    record: core.DrawRecord
    fulfilment: list[tuple[int, str, datetime | None]]  # (prize rank, status, date)
    drawn_at: datetime


@dataclass(frozen=True)
class PublishedDraw:
    """The record as published, and whether this call drew it (False: drawn before)."""

    record_json: str
    created: bool


def draw_and_notify(
    engine: Engine,
    slug: str,
    now: datetime,
    *,
    secret_key: str,
    operator: str,
    public_value: str = "",
    public_value_source: str = "",
    relays: tuple[str, ...] = (),
    client: Callable[[], httpx.Client] = httpx.Client,
) -> PublishedDraw:
    """Draws the contest once (:func:`drawing.run_draw`, signed with a key derived from the
    server's ``secret_key``; an announced drand round fetched from ``relays`` through
    ``client`` unless ``public_value`` gives its signature), then tells the winners by
    e-mail; a second call returns the first record. Refuses (DrawRefused, nothing written)
    what ``run_draw`` refuses."""
    key, key_id = drawing.signing_key(secret_key)
    outcome = drawing.run_draw(
        engine,
        slug,
        now,
        signing_key=key,
        key_id=key_id,
        operator=operator,
        public_value=public_value,
        public_value_source=public_value_source,
        relays=relays,
        client=client,
    )
    claims.notify_after_draw(engine, slug, now)
    return PublishedDraw(drawing.public_record_json(outcome.record), outcome.created)


def record_json(connection: Connection, contest_id: int) -> str | None:
    """The published draw record (for ``contest verify-draw``), or None before the draw."""
    record = drawing.stored_record(connection, contest_id)
    return drawing.public_record_json(record) if record else None


def draw_result(connection: Connection, contest: ContestView) -> DrawResult | None:
    """The result of a drawn (or archived) contest, or None."""
    if contest.status not in DRAWN:
        return None
    record = drawing.stored_record(connection, contest.id)
    if record is None:
        return None
    return DrawResult(
        record=record,
        fulfilment=claims.fulfilment_log(connection, contest.id),
        drawn_at=datetime.fromisoformat(record.drawn_at.replace("Z", "+00:00")),
    )
