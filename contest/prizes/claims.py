"""After the draw: telling winners, claims, vouchers, and alternates for unclaimed prizes.

EU-PRIZE-AWARD-1 and ALL-DRAW-ORDER-1: every announced prize is awarded; claiming costs nothing
and asks only what delivery needs (a voucher needs nothing but the winner's confirmation); a
prize not claimed by the deadline of the rules passes to the next alternate, in the drawn order,
with the reason recorded. One prize per person and contest (a unique constraint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.contests import load_contest
from contest.models import AwardStatus
from contest.prizes.vouchers import new_code
from contest.storage import write_options
from rules import Refusal

UNCLAIMED = "unclaimed by the deadline"
CLAIMED_STATUSES = frozenset({AwardStatus.CLAIMED, AwardStatus.DELIVERED, AwardStatus.TO_IMPORT})


def shop_job_key(award_id: int) -> str:
    """The outbox key of the job that delivers an award's voucher to the shop."""
    return f"voucher-shop:{award_id}"


@dataclass(frozen=True)
class AwardView:
    id: int
    contest_id: int
    entry_id: int
    prize_rank: int
    status: str
    deadline: datetime
    voucher_code: str | None
    prize_description: str
    unit_value: Decimal | None
    currency: str
    kind: str
    voucher_min_order: Decimal | None
    voucher_validity_days: int | None
    claimed_at: datetime | None
    delivered_at: datetime | None


def _award_query() -> sa.Select[Any]:
    award, prize = tables.prizeaward, tables.prize
    return sa.select(
        award.c.id,
        award.c.contest_id,
        award.c.entry_id,
        award.c.prize_rank,
        award.c.status,
        award.c.deadline,
        award.c.voucher_code,
        award.c.claimed_at,
        award.c.delivered_at,
        prize.c.description.label("prize_description"),
        prize.c.unit_value,
        prize.c.currency,
        prize.c.kind,
        prize.c.voucher_min_order,
        prize.c.voucher_validity_days,
    ).join(
        prize,
        sa.and_(prize.c.contest_id == award.c.contest_id, prize.c.rank == award.c.prize_rank),
    )


def award(connection: Connection, award_id: int) -> AwardView | None:
    row = connection.execute(_award_query().where(tables.prizeaward.c.id == award_id)).first()
    return AwardView(**row._mapping) if row else None


def awards(connection: Connection, contest_id: int) -> list[AwardView]:
    award_t = tables.prizeaward
    rows = connection.execute(
        _award_query().where(award_t.c.contest_id == contest_id).order_by(award_t.c.prize_rank)
    )
    return [AwardView(**row._mapping) for row in rows]


def _offer(
    connection: Connection,
    contest: Any,
    entry_id: int,
    prize_rank: int,
    now: datetime,
) -> None:
    award_t, entry, person = tables.prizeaward, tables.entry, tables.person
    deadline = now + timedelta(days=contest.claim_days or 30)
    award_id = connection.execute(
        sa.insert(award_t).values(
            contest_id=contest.id,
            entry_id=entry_id,
            prize_rank=prize_rank,
            status=AwardStatus.NOTIFIED,
            deadline=deadline,
            notified_at=now,
            shop_reference="",
            reason="",
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    who = connection.execute(
        sa.select(person.c.email, entry.c.language)
        .join(entry, entry.c.person_id == person.c.id)
        .where(entry.c.id == entry_id)
    ).one()
    outbox.enqueue(
        connection,
        key=f"win:{award_id}",
        template="win",
        recipient=who.email,
        language=who.language,
        payload={"slug": contest.slug, "award": int(award_id)},
        now=now,
    )


def notify_winners(connection: Connection, contest: Any, now: datetime) -> int:
    """Offers each prize to its drawn winner and e-mails them a claim link; idempotent."""
    placement, award_t = tables.drawplacement, tables.prizeaward
    offered = {
        row.entry_id
        for row in connection.execute(
            sa.select(award_t.c.entry_id).where(award_t.c.contest_id == contest.id)
        )
    }
    count = 0
    for row in connection.execute(
        sa.select(placement.c.entry_id, placement.c.prize_rank)
        .where(placement.c.contest_id == contest.id, placement.c.kind == "winner")
        .order_by(placement.c.rank)
    ).all():
        if row.entry_id not in offered:
            _offer(connection, contest, row.entry_id, row.prize_rank, now)
            count += 1
    return count


class ClaimRefused(Refusal):
    """The award does not exist, has expired, or was already claimed by someone else."""


def claim_refused(code: str) -> ClaimRefused:
    return ClaimRefused(
        code,
        "Ce lot ne peut plus être réclamé : il passe au suppléant suivant.",
        "This prize can no longer be claimed: it passes to the next alternate.",
    )


def claim(connection: Connection, award_id: int, contest: Any, now: datetime) -> AwardView:
    """The winner claims: the voucher code is issued, e-mailed, and sent to the shop.

    Claiming twice is harmless (the same code). Refuses (ClaimRefused) after the deadline.
    """
    current = award(connection, award_id)
    if current is None or current.contest_id != contest.id:
        raise claim_refused("no_such_prize")
    if current.status in CLAIMED_STATUSES:
        return current
    if current.status != AwardStatus.NOTIFIED or now > current.deadline:
        raise claim_refused("claim_expired")
    code = new_code()
    award_t = tables.prizeaward
    claimed_now = connection.execute(
        sa.update(award_t)
        .where(award_t.c.id == award_id, award_t.c.status == AwardStatus.NOTIFIED)
        .values(status=AwardStatus.CLAIMED, claimed_at=now, voucher_code=code)
    ).rowcount
    if not claimed_now:  # changed since it was read: claimed by a twin request, or passed on
        again = award(connection, award_id)
        if again is not None and again.status in CLAIMED_STATUSES:
            return again
        raise claim_refused("claim_expired")
    entry, person = tables.entry, tables.person
    who = connection.execute(
        sa.select(person.c.email, entry.c.language)
        .join(entry, entry.c.person_id == person.c.id)
        .where(entry.c.id == current.entry_id)
    ).one()
    outbox.enqueue(
        connection,
        key=f"voucher-mail:{award_id}",
        template="voucher",
        recipient=who.email,
        language=who.language,
        payload={"slug": contest.slug, "award": award_id},
        now=now,
    )
    outbox.enqueue(
        connection,
        key=shop_job_key(award_id),
        template="shop_voucher",
        recipient="",
        language=who.language,
        payload={"slug": contest.slug, "award": award_id},
        now=now,
        kind="shop",
    )
    claimed = award(connection, award_id)
    assert claimed is not None
    return claimed


def mark_delivered(connection: Connection, award_id: int, reference: str, now: datetime) -> None:
    award_t = tables.prizeaward
    connection.execute(
        sa.update(award_t)
        .where(award_t.c.id == award_id, award_t.c.status == AwardStatus.CLAIMED)
        .values(status=AwardStatus.DELIVERED, delivered_at=now, shop_reference=reference[:100])
    )


def mark_to_import(connection: Connection, award_id: int, now: datetime) -> None:
    """No shop connection: the code waits in the voucher CSV for the organizer to import it.
    Never "delivered" while no shop has confirmed the code."""
    award_t = tables.prizeaward
    connection.execute(
        sa.update(award_t)
        .where(award_t.c.id == award_id, award_t.c.status == AwardStatus.CLAIMED)
        .values(status=AwardStatus.TO_IMPORT)
    )


def pass_unclaimed(connection: Connection, contest: Any, now: datetime) -> int:
    """Passes every prize unclaimed past its deadline to the next alternate, in drawn order.

    The expired award keeps its reason; an alternate who already holds a prize is skipped (one
    prize per person). An award claimed since it was read (a claim committed meanwhile, on a
    database that does not lock what it reads) keeps its claim: the update expires an award
    only while it is still unclaimed past its deadline. Returns how many prizes were passed on.
    """
    award_t, placement = tables.prizeaward, tables.drawplacement
    unclaimed = sa.and_(
        award_t.c.contest_id == contest.id,
        award_t.c.status == AwardStatus.NOTIFIED,
        award_t.c.deadline < now,
    )
    expired = connection.execute(
        sa.select(award_t.c.id, award_t.c.prize_rank).where(unclaimed)
    ).all()
    passed = 0
    for row in expired:
        still_unclaimed = connection.execute(
            sa.update(award_t)
            .where(award_t.c.id == row.id, unclaimed)
            .values(status=AwardStatus.EXPIRED, reason=UNCLAIMED)
        ).rowcount
        if not still_unclaimed:
            continue
        holders = {
            r.entry_id
            for r in connection.execute(
                sa.select(award_t.c.entry_id).where(award_t.c.contest_id == contest.id)
            )
        }
        alternate = connection.execute(
            sa.select(placement.c.entry_id)
            .where(
                placement.c.contest_id == contest.id,
                placement.c.kind == "alternate",
                placement.c.entry_id.not_in(holders) if holders else sa.true(),
            )
            .order_by(placement.c.rank)
            .limit(1)
        ).first()
        if alternate is not None:
            _offer(connection, contest, alternate.entry_id, row.prize_rank, now)
            passed += 1
    return passed


def fulfilment_log(
    connection: Connection, contest_id: int
) -> list[tuple[int, str, datetime | None]]:
    """(prize rank, status, date) for the public page: no personal data at all."""
    return [
        (a.prize_rank, a.status, a.delivered_at or a.claimed_at)
        for a in awards(connection, contest_id)
    ]


def notify_after_draw(engine: Engine, slug: str, now: datetime) -> int:
    """Tells the drawn winners of a contest (idempotent: each winner is told once)."""

    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            contest = load_contest(connection, slug)
            return notify_winners(connection, contest, now) if contest else 0


def pass_all_unclaimed(engine: Engine, now: datetime) -> int:
    """The worker's periodic duty: unclaimed prizes past their deadline go to alternates."""

    contest_t = tables.contest
    with engine.connect() as connection:
        slugs = (
            connection.execute(sa.select(contest_t.c.slug).where(contest_t.c.status == "drawn"))
            .scalars()
            .all()
        )
    passed = 0
    for slug in slugs:
        with engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                contest = load_contest(connection, slug)
                if contest is not None:
                    passed += pass_unclaimed(connection, contest, now)
    return passed


def offer_instant_win(
    connection: Connection, contest: Any, entry_id: int, prize_rank: int, now: datetime
) -> None:
    """Offers the prize an entry has just won instantly (contest.instantwin), as a drawn
    winner's: the claim link by e-mail, the same deadline and voucher."""
    _offer(connection, contest, entry_id, prize_rank, now)
