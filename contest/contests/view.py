"""A stored contest as the app reads it: an immutable snapshot loaded in two queries.

The participant pages and the entry path read contests far more often than organizers change
them, so snapshots are cached for a couple of seconds per process (several processes stay
consistent: the entry path re-reads the status and dates inside its own transaction).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.contests.fields import ContestSettings
from contest.contests.formats import prize_of_row, settings_of_row
from contest.draw.beacon import Announcement, announce
from contest.models import ContestStatus

PUBLIC_STATUSES = frozenset(
    {ContestStatus.SCHEDULED, ContestStatus.OPEN, ContestStatus.CLOSED, ContestStatus.DRAWN}
)


@dataclass(frozen=True, kw_only=True)
class ContestView(ContestSettings):
    """A stored contest: its settings, its state, and its organizer's identity."""

    id: int
    organizer_id: int
    status: str
    draw_commitment: str | None = None
    draw_beacon: str | None = None  # the announcement stored at publication (JSON)
    instant_commitment: str | None = None  # instant win: the moments' commitment
    organizer_name: str = ""
    organizer_logo: str | None = None
    organizer_address: str = ""
    organizer_contact: str = ""
    organizer_legal_form: str = ""
    organizer_company_number: str = ""
    organizer_privacy_contact: str = ""
    organizer_sender_name: str = ""
    organizer_reply_to: str = ""

    @property
    def languages(self) -> tuple[str, ...]:
        other = "en" if self.language == "fr" else "fr"
        return (self.language, other)

    @property
    def asks_state(self) -> str:
        """Whether the entry form asks the US state: "required" for a contest that runs in
        the United States only, "optional" (for US residents) when it runs elsewhere too, ""
        when it does not run there."""
        if "US" not in self.jurisdictions:
            return ""
        return "required" if set(self.jurisdictions) == {"US"} else "optional"

    @property
    def clients_only(self) -> bool:
        return self.audience != "everyone"

    def phase(self, now: datetime) -> str:
        """``upcoming``, ``open`` or ``closed``: whether entries are taken at ``now``."""
        if self.status in {ContestStatus.CLOSED, ContestStatus.DRAWN, ContestStatus.ARCHIVED}:
            return "closed"
        if self.opens_at is not None and now < self.opens_at:
            return "upcoming"
        if self.closes_at is not None and now >= self.closes_at:
            return "closed"
        return "open"

    @property
    def announcement(self) -> Announcement | None:
        """The public value its draw will mix in: as announced at publication, or, for a
        draft, as publishing it would announce it. None for a contest published before values
        were announced, and for a draft that cannot announce one yet."""
        if self.draw_beacon:
            return Announcement.from_json(self.draw_beacon)
        if self.status == ContestStatus.DRAFT:
            return announce(self.randomness, self.randomness_detail, self.draw_at)
        return None

    @property
    def total_prize_value(self) -> Decimal:
        return sum(
            ((p.unit_value or Decimal(0)) * p.quantity for p in self.prizes), start=Decimal(0)
        )


def _contest_query() -> sa.Select[Any]:
    contest, organizer = tables.contest, tables.organizer
    return sa.select(
        contest,
        organizer.c.legal_name,
        organizer.c.postal_address,
        organizer.c.contact_email,
        organizer.c.legal_form,
        organizer.c.company_number,
        organizer.c.privacy_contact,
        organizer.c.sender_name,
        organizer.c.reply_to,
        organizer.c.logo_path.label("organizer_logo"),
    ).join(organizer, organizer.c.id == contest.c.organizer_id)


def load_contest(
    connection: Connection, slug: str, *, include_drafts: bool = False
) -> ContestView | None:
    """The public snapshot of a contest, or None when it does not exist or is a draft
    (drafts are loaded only for the organizer's preview)."""
    row = connection.execute(_contest_query().where(tables.contest.c.slug == slug)).first()
    if row is None or (row.status not in PUBLIC_STATUSES and not include_drafts):
        return None
    prize = tables.prize
    prizes = connection.execute(
        sa.select(prize).where(prize.c.contest_id == row.id).order_by(prize.c.rank)
    ).all()
    return ContestView(
        **settings_of_row(row._mapping),
        prizes=tuple(prize_of_row(p) for p in prizes),
        id=row.id,
        organizer_id=row.organizer_id,
        status=row.status,
        draw_commitment=row.draw_commitment,
        draw_beacon=row.draw_beacon,
        instant_commitment=row.instant_commitment,
        organizer_name=row.legal_name,
        organizer_address=row.postal_address,
        organizer_contact=row.contact_email,
        organizer_legal_form=row.legal_form,
        organizer_company_number=row.company_number,
        organizer_privacy_contact=row.privacy_contact,
        organizer_sender_name=row.sender_name,
        organizer_reply_to=row.reply_to,
        organizer_logo=row.organizer_logo,
    )


class ContestCache:
    """Snapshots by slug for ``ttl`` seconds; unknown slugs are cached too (cheap 404s)."""

    def __init__(self, engine: Engine, ttl: float = 2.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, ContestView | None]] = {}

    def get(self, slug: str) -> ContestView | None:
        now = time.monotonic()
        hit = self._items.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._engine.connect() as connection:
            view = load_contest(connection, slug)
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[slug] = (now + self._ttl, view)
        return view

    def forget(self, slug: str) -> None:
        with self._lock:
            self._items.pop(slug, None)

    def clear(self) -> None:
        """Forgets every snapshot (the organizer's identity, printed on every page, changed)."""
        with self._lock:
            self._items.clear()
