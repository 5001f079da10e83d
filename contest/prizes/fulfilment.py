"""Delivering claimed vouchers to the organizer's shop: the outbox's ``shop`` jobs.

A job loads the award, builds the voucher from the prize settings and calls the organizer's
shop connector (contest.prizes.shops). Connectors look the code up before creating it, so a retried
job never creates a second voucher. Without a connection configured, the voucher is simply kept
for the organizer's CSV export and the job is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.clock import SYSTEM_CLOCK
from contest.contests import load_contest
from contest.models import AwardStatus, OutboxStatus
from contest.outbound import OutboundPolicy, OutboundRefused, outbound_client
from contest.outbox import OutboxItem, Undeliverable
from contest.prizes import claims, shops
from contest.secretbox import SealBroken

# The organizer's connection: its kind and settings, or None (contest.connections).
ConnectionSettings = Callable[[Connection, int], tuple[str, dict[str, str]] | None]


class DeliveryRefused(Undeliverable):
    """The shop refused the voucher (configuration to fix): not retried."""


def voucher_of(award: claims.AwardView, email: str, language: str, now: datetime) -> shops.Voucher:
    validity = award.voucher_validity_days
    base = award.claimed_at or now
    assert award.voucher_code is not None
    return shops.Voucher(
        code=award.voucher_code,
        kind="amount",
        value=award.unit_value or Decimal("0.01"),
        currency=award.currency,
        min_order=award.voucher_min_order or None,
        expires_at=base + timedelta(days=validity) if validity else None,
        description=award.prize_description[:200],
        winner_email=email,
        idempotency_key=f"award:{award.id}",
    )


class ShopDelivery:
    """The outbox handler for ``shop`` rows: ``shop_of`` gives the organizer's shop connection
    (its kind and settings, secrets opened; contest.connections), called through ``client``."""

    def __init__(
        self,
        engine: Engine,
        shop_of: ConnectionSettings,
        client: Callable[[], httpx.Client] = lambda: outbound_client(OutboundPolicy()),
        clock: Callable[[], datetime] = SYSTEM_CLOCK.now,
    ) -> None:
        self.engine = engine
        self.shop_of = shop_of
        self.client = client
        self.clock = clock

    def __call__(self, item: OutboxItem) -> None:
        award_id = int(item.payload["award"])
        with self.engine.connect() as connection:
            award = claims.award(connection, award_id)
            contest = load_contest(connection, item.payload["slug"])
            if award is None or contest is None or award.voucher_code is None:
                raise DeliveryRefused("award gone")
            entry, person = tables.entry, tables.person
            email = connection.execute(
                sa.select(person.c.email)
                .join(entry, entry.c.person_id == person.c.id)
                .where(entry.c.id == award.entry_id)
            ).scalar_one()
            try:
                shop = self.shop_of(connection, contest.organizer_id)
            except SealBroken as exc:
                raise DeliveryRefused(f"{exc}: type the shop's secrets again") from exc
        if shop is None:
            with self.engine.begin() as connection:
                claims.mark_to_import(connection, award_id, self.clock())
            return
        with self.client() as client:
            try:
                connector = shops.connector_from_settings(*shop, client)
                result = connector.create_voucher(
                    voucher_of(award, email, item.language, self.clock())
                )
            except (shops.ShopRejected, shops.ShopConfigurationError, OutboundRefused) as exc:
                raise DeliveryRefused(str(exc)) from exc
        reference = result.external_id
        with self.engine.begin() as connection:
            claims.mark_delivered(connection, award_id, reference, self.clock())


def vouchers_to_import(connection: Connection, contest_id: int, now: datetime) -> Iterator[str]:
    """The contest's issued codes that no shop has confirmed, as the CSV a shop's import screen
    takes (``contest.prizes.shops.vouchers_csv``)."""
    award_t, entry, person = tables.prizeaward, tables.entry, tables.person
    rows = connection.execute(
        sa.select(award_t.c.id, person.c.email, person.c.erased_at)
        .join(entry, entry.c.id == award_t.c.entry_id)
        .join(person, person.c.id == entry.c.person_id)
        .where(
            award_t.c.contest_id == contest_id,
            award_t.c.status.in_((AwardStatus.CLAIMED, AwardStatus.TO_IMPORT)),
        )
        .order_by(award_t.c.prize_rank)
    ).all()
    vouchers = []
    for row in rows:
        award = claims.award(connection, row.id)
        assert award is not None and award.voucher_code is not None
        email = "" if row.erased_at is not None else row.email
        vouchers.append(voucher_of(award, email, "fr", now))
    return shops.vouchers_csv(vouchers)


# An award's delivery when the shop refused its voucher for good (the job is not retried);
# every other delivery status is the award's own (contest.models.AwardStatus).
FAILED = "failed"


@dataclass(frozen=True)
class AwardDelivery:
    """An award and where its voucher stands with the shop.

    ``status`` is the award's, or ``failed`` when the shop refused the voucher for good (the
    code can still be imported from the vouchers CSV); ``shop_error`` is the shop's last answer
    while the voucher is not delivered (refused, or failing and being retried), else None.
    """

    award: claims.AwardView
    status: str
    shop_error: str | None


def deliveries(connection: Connection, contest_id: int) -> list[AwardDelivery]:
    """The contest's awards (:func:`claims.awards`, by prize rank), each with its voucher's
    delivery as the outbox's shop job tells it."""
    awards = claims.awards(connection, contest_id)
    keys = [claims.shop_job_key(award.id) for award in awards]
    outbox = tables.outboxmessage
    jobs = {
        row.idempotency_key: row
        for row in connection.execute(
            sa.select(outbox.c.idempotency_key, outbox.c.status, outbox.c.last_error).where(
                outbox.c.idempotency_key.in_(keys)
            )
        )
    }
    found = []
    for award in awards:
        job = jobs.get(claims.shop_job_key(award.id))
        if award.status != AwardStatus.CLAIMED or job is None:
            found.append(AwardDelivery(award, award.status, None))
            continue
        refused = job.status == OutboxStatus.FAILED
        status = FAILED if refused else award.status
        found.append(AwardDelivery(award, status, job.last_error or None))
    return found
