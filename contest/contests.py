"""A contest as the participant side sees it: an immutable snapshot loaded in two queries.

The participant pages and the entry path read contests far more often than organizers change
them, so snapshots are cached for a couple of seconds per process (several processes stay
consistent: the entry path re-reads the status and dates inside its own transaction).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from contest.models import ContestStatus

PUBLIC_STATUSES = frozenset(
    {ContestStatus.SCHEDULED, ContestStatus.OPEN, ContestStatus.CLOSED, ContestStatus.DRAWN}
)


@dataclass(frozen=True)
class PrizeView:
    rank: int
    description: str
    quantity: int
    unit_value: Decimal | None
    currency: str
    kind: str
    voucher_min_order: Decimal | None
    voucher_validity_days: int | None


@dataclass(frozen=True)
class ConsentOption:
    purpose: str
    label_fr: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" else self.label_en


@dataclass(frozen=True)
class ContestView:
    id: int
    organizer_id: int
    slug: str
    title: str
    description: str
    language: str
    jurisdictions: tuple[str, ...]
    status: str
    audience: str
    segment: str | None
    segment_min_orders: int
    offered_at: datetime | None
    opens_at: datetime | None
    closes_at: datetime | None
    draw_at: datetime | None
    client_cutoff_at: datetime | None
    timezone: str
    min_age: int
    form_fields: tuple[str, ...]
    consents: tuple[ConsentOption, ...]
    partners: tuple[str, ...]
    excluded_email_domains: tuple[str, ...]
    draw_method: str
    winner_notification: str
    claim_days: int | None
    privacy_notice: str
    retention_months: int | None
    referral_bonus: int
    referral_cap: int | None
    attribution_days: int
    leaderboard: bool
    platform_invitations: bool
    invitations_override_reason: str
    embed_origins: tuple[str, ...]
    popin_delay_hours: int
    draw_commitment: str | None
    requires_purchase: bool
    purchase_bonus: bool
    brand_color: str
    accent_color: str
    image_path: str | None
    logo_path: str | None
    organizer_name: str
    organizer_address: str
    organizer_contact: str
    prizes: tuple[PrizeView, ...] = field(default=())

    @property
    def languages(self) -> tuple[str, ...]:
        other = "en" if self.language == "fr" else "fr"
        return (self.language, other)

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
    def total_prize_value(self) -> Decimal:
        return sum(
            ((p.unit_value or Decimal(0)) * p.quantity for p in self.prizes), start=Decimal(0)
        )


def table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def _contest_query() -> sa.Select[Any]:
    contest, organizer = table("contest"), table("organizer")
    return sa.select(
        contest,
        organizer.c.legal_name,
        organizer.c.postal_address,
        organizer.c.contact_email,
    ).join(organizer, organizer.c.id == contest.c.organizer_id)


def load_contest(
    connection: Connection, slug: str, *, include_drafts: bool = False
) -> ContestView | None:
    """The public snapshot of a contest, or None when it does not exist or is a draft
    (drafts are loaded only for the organizer's preview)."""
    row = connection.execute(_contest_query().where(table("contest").c.slug == slug)).first()
    if row is None or (row.status not in PUBLIC_STATUSES and not include_drafts):
        return None
    prize = table("prize")
    prizes = connection.execute(
        sa.select(prize).where(prize.c.contest_id == row.id).order_by(prize.c.rank)
    ).all()
    return ContestView(
        id=row.id,
        organizer_id=row.organizer_id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        language=row.language,
        jurisdictions=tuple(row.jurisdictions or ()),
        status=row.status,
        audience=row.audience,
        segment=row.segment,
        segment_min_orders=row.segment_min_orders,
        offered_at=row.offered_at,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        draw_at=row.draw_at,
        client_cutoff_at=row.client_cutoff_at,
        timezone=row.timezone,
        min_age=row.min_age,
        form_fields=tuple(row.form_fields or ()),
        consents=tuple(
            ConsentOption(c["purpose"], c.get("label_fr", ""), c.get("label_en", ""))
            for c in (row.consents or ())
        ),
        partners=tuple(row.partners or ()),
        excluded_email_domains=tuple(row.excluded_email_domains or ()),
        draw_method=row.draw_method,
        winner_notification=row.winner_notification,
        claim_days=row.claim_days,
        privacy_notice=row.privacy_notice,
        retention_months=row.retention_months,
        referral_bonus=row.referral_bonus,
        referral_cap=row.referral_cap,
        attribution_days=row.attribution_days,
        leaderboard=row.leaderboard,
        platform_invitations=row.platform_invitations,
        invitations_override_reason=row.invitations_override_reason,
        embed_origins=tuple(row.embed_origins or ()),
        popin_delay_hours=row.popin_delay_hours,
        draw_commitment=row.draw_commitment,
        requires_purchase=row.requires_purchase,
        purchase_bonus=row.purchase_bonus,
        brand_color=row.brand_color,
        accent_color=row.accent_color,
        image_path=row.image_path,
        logo_path=row.logo_path,
        organizer_name=row.legal_name,
        organizer_address=row.postal_address,
        organizer_contact=row.contact_email,
        prizes=tuple(
            PrizeView(
                rank=p.rank,
                description=p.description,
                quantity=p.quantity,
                unit_value=p.unit_value,
                currency=p.currency,
                kind=p.kind,
                voucher_min_order=p.voucher_min_order,
                voucher_validity_days=p.voucher_validity_days,
            )
            for p in prizes
        ),
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
