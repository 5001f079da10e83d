"""Referrals: share codes, who brought whom, and bonus chances credited once, on confirmation.

ALL-REFER-BONUS-1: a referral earns the referrer the contest's bonus only when the invitee's
entry is confirmed (double opt-in), is not the referrer, raises no fraud signal, and the
referrer's cap is not reached. Each referred entry has one ``referral`` row whose status says
what it earned and why (reason codes); an entry can be credited only once (unique row, and the
status moves from ``pending`` exactly once). Client-only contests never issue share codes
(FR-CLIENTS-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from viral import fraud, models
from viral.codes import new_code

CAP_REACHED = "CAP_REACHED"
BONUS_OFF = "BONUS_OFF"


@dataclass(frozen=True)
class Referrer:
    entry_id: int
    person_id: int
    email_key: str
    first_name: str
    contest_id: int


@dataclass(frozen=True)
class ReferralRules:
    """The contest settings that decide what a referral earns."""

    contest_id: int
    organizer_id: int
    bonus: int
    cap: int | None
    clients_only: bool

    @property
    def active(self) -> bool:
        return self.bonus > 0 and not self.clients_only


def find_referrer(connection: Connection, contest_id: int, code: str) -> Referrer | None:
    """The confirmed participant behind a share code of this contest, or None."""
    entry, person = models.engine_table("entry"), models.engine_table("person")
    row = connection.execute(
        sa.select(
            entry.c.id,
            entry.c.person_id,
            entry.c.contest_id,
            person.c.email_key,
            person.c.first_name,
        )
        .join(person, person.c.id == entry.c.person_id)
        .where(
            entry.c.referral_code == code,
            entry.c.contest_id == contest_id,
            entry.c.status == "confirmed",
        )
    ).first()
    if row is None:
        return None
    return Referrer(row.id, row.person_id, row.email_key, row.first_name, row.contest_id)


def find_code(connection: Connection, code: str) -> tuple[int, str] | None:
    """(contest id, slug) for a share code, or None."""
    entry, contest = models.engine_table("entry"), models.engine_table("contest")
    row = connection.execute(
        sa.select(contest.c.id, contest.c.slug)
        .join(entry, entry.c.contest_id == contest.c.id)
        .where(entry.c.referral_code == code, entry.c.status == "confirmed")
    ).first()
    return (int(row.id), str(row.slug)) if row else None


def record_click(
    connection: Connection, contest_id: int, kind: str, code: str, now: datetime
) -> None:
    connection.execute(
        sa.insert(models.linkclick).values(
            contest_id=contest_id, kind=kind, code=code, created_at=now
        )
    )


def record_referred_entry(
    connection: Connection,
    referrer: Referrer,
    referred_entry_id: int,
    referred_key: str,
    now: datetime,
) -> None:
    """Notes who brought a new entry; nothing is earned before the invitee confirms."""
    reasons = [fraud.SELF_REFERRAL] if referred_key == referrer.email_key else []
    connection.execute(
        sa.insert(models.referral).values(
            contest_id=referrer.contest_id,
            referrer_entry_id=referrer.entry_id,
            referred_entry_id=referred_entry_id,
            status="not_credited" if reasons else "pending",
            reasons=reasons,
            score=0,
            bonus=0,
            created_at=now,
            decided_at=now if reasons else None,
        )
    )


def issue_code(connection: Connection, entry_id: int) -> str:
    """Gives a confirmed entry its share code (once; the same code afterwards)."""
    entry = models.engine_table("entry")
    current = connection.execute(
        sa.select(entry.c.referral_code).where(entry.c.id == entry_id)
    ).scalar_one_or_none()
    if current:
        return str(current)
    for _attempt in range(5):
        code = new_code()
        taken = connection.execute(
            sa.select(entry.c.id).where(entry.c.referral_code == code)
        ).first()
        if taken is None:
            connection.execute(
                sa.update(entry)
                .where(entry.c.id == entry_id, entry.c.referral_code.is_(None))
                .values(referral_code=code)
            )
            return code
    raise RuntimeError("could not find a free share code")


def _signals(
    connection: Connection, referral: Any, rules: ReferralRules, now: datetime
) -> fraud.Signals:
    entry, person, ref = (
        models.engine_table("entry"),
        models.engine_table("person"),
        models.referral,
    )
    referred = connection.execute(
        sa.select(entry.c.ip_network, entry.c.person_id, person.c.email_key)
        .join(person, person.c.id == entry.c.person_id)
        .where(entry.c.id == referral.referred_entry_id)
    ).one()
    referrer_person = connection.execute(
        sa.select(entry.c.person_id).where(entry.c.id == referral.referrer_entry_id)
    ).scalar_one()
    burst = False
    if referred.ip_network:
        recent = connection.execute(
            sa.select(sa.func.count())
            .select_from(entry)
            .where(
                entry.c.contest_id == rules.contest_id,
                entry.c.ip_network == referred.ip_network,
                entry.c.referrer_entry_id.is_not(None),
                entry.c.created_at >= now - timedelta(minutes=fraud.BURST_WINDOW_MINUTES),
            )
        ).scalar_one()
        burst = recent >= fraud.BURST_THRESHOLD
    # A ring: in another contest, the person referred now had referred this referrer.
    earlier, referrer_entry = entry.alias("earlier"), entry.alias("referrer_entry")
    ring = (
        connection.execute(
            sa.select(ref.c.id)
            .join(referrer_entry, referrer_entry.c.id == ref.c.referrer_entry_id)
            .join(earlier, earlier.c.id == ref.c.referred_entry_id)
            .where(
                referrer_entry.c.person_id == referred.person_id,
                earlier.c.person_id == referrer_person,
            )
            .limit(1)
        ).first()
        is not None
    )
    return fraud.Signals(
        same_person=referred.person_id == referrer_person,
        disposable=fraud.is_disposable(referred.email_key),
        burst=burst,
        ring=ring,
    )


def credit(connection: Connection, referral_id: int, rules: ReferralRules, now: datetime) -> str:
    """Adds the bonus to the referrer within the cap; returns the referral's new status."""
    entry, ref = models.engine_table("entry"), models.referral
    referral = connection.execute(sa.select(ref).where(ref.c.id == referral_id)).one()
    if not rules.active:
        status, reasons, bonus = "not_credited", [BONUS_OFF], 0
    else:
        cap = rules.cap if rules.cap is not None else 0
        added = connection.execute(
            sa.update(entry)
            .where(
                entry.c.id == referral.referrer_entry_id,
                entry.c.status == "confirmed",
                entry.c.chances - 1 + rules.bonus <= cap,
            )
            .values(chances=entry.c.chances + rules.bonus)
        ).rowcount
        status, reasons, bonus = (
            ("credited", [], rules.bonus) if added else ("not_credited", [CAP_REACHED], 0)
        )
    connection.execute(
        sa.update(ref)
        .where(ref.c.id == referral_id)
        .values(
            status=status,
            reasons=list(referral.reasons or []) + reasons,
            bonus=bonus,
            decided_at=now,
        )
    )
    return status


def on_confirmed(
    connection: Connection, referred_entry_id: int, rules: ReferralRules, now: datetime
) -> str | None:
    """Decides a pending referral once its invitee confirms: credit, or review with reasons."""
    ref = models.referral
    referral = connection.execute(
        sa.select(ref).where(
            ref.c.referred_entry_id == referred_entry_id, ref.c.status == "pending"
        )
    ).first()
    if referral is None:
        return None
    signals = _signals(connection, referral, rules, now)
    connection.execute(sa.update(ref).where(ref.c.id == referral.id).values(confirmed_at=now))
    if signals.same_person or signals.needs_review:
        status = "not_credited" if signals.same_person else "review"
        connection.execute(
            sa.update(ref)
            .where(ref.c.id == referral.id)
            .values(
                status=status,
                reasons=signals.reasons,
                score=len(signals.reasons),
                decided_at=now if status == "not_credited" else None,
            )
        )
        return status
    return credit(connection, referral.id, rules, now)


class NotInReview(Exception):
    """The referral does not exist for this organizer, or is not waiting for a review."""


def review(
    connection: Connection,
    referral_id: int,
    rules_for: Any,
    organizer_id: int,
    decision: str,
    now: datetime,
) -> str:
    """An organizer's decision on a flagged referral: ``clear`` credits it, ``reject`` keeps it
    from earning anything. Both are recorded with who decided and when."""
    ref, contest = models.referral, models.engine_table("contest")
    row = connection.execute(
        sa.select(ref.c.id, ref.c.contest_id)
        .join(contest, contest.c.id == ref.c.contest_id)
        .where(
            ref.c.id == referral_id,
            ref.c.status == "review",
            contest.c.organizer_id == organizer_id,
        )
    ).first()
    if row is None or decision not in {"clear", "reject"}:
        raise NotInReview(referral_id)
    connection.execute(
        sa.update(ref).where(ref.c.id == row.id).values(decided_by=organizer_id, decided_at=now)
    )
    if decision == "reject":
        connection.execute(sa.update(ref).where(ref.c.id == row.id).values(status="rejected"))
        return "rejected"
    return credit(connection, row.id, rules_for(row.contest_id), now)


@dataclass(frozen=True)
class ReferralSummary:
    credited: int
    pending: int
    in_review: tuple[tuple[str, ...], ...]  # reason codes of each referral under review
    not_credited: tuple[tuple[str, ...], ...]


def summary(connection: Connection, referrer_entry_id: int) -> ReferralSummary:
    """What a participant's referrals brought, for their own page."""
    ref = models.referral
    rows = connection.execute(
        sa.select(ref.c.status, ref.c.reasons).where(ref.c.referrer_entry_id == referrer_entry_id)
    ).all()
    return ReferralSummary(
        credited=sum(1 for r in rows if r.status == "credited"),
        pending=sum(1 for r in rows if r.status == "pending"),
        in_review=tuple(tuple(r.reasons or ()) for r in rows if r.status == "review"),
        not_credited=tuple(tuple(r.reasons or ()) for r in rows if r.status == "not_credited"),
    )


@dataclass(frozen=True)
class FlaggedReferral:
    """A referral an anti-fraud signal flagged, with both people's addresses for the organizer."""

    id: int
    status: str  # review | rejected
    reasons: list[str]
    created_at: datetime
    decided_at: datetime | None
    referred_email: str
    referrer_name: str
    referrer_email: str


def flagged_referrals(
    connection: Connection, contest_id: int, limit: int = 500
) -> list[FlaggedReferral]:
    """The contest's referrals waiting for the organizer's decision, then the ones rejected,
    oldest first in each, at most ``limit``."""
    ref, entry = models.referral, models.engine_table("entry")
    person = models.engine_table("person")
    referrer_entry, referrer = entry.alias("referrer_entry"), person.alias("referrer")
    rows = connection.execute(
        sa.select(
            ref.c.id,
            ref.c.status,
            ref.c.reasons,
            ref.c.created_at,
            ref.c.decided_at,
            person.c.email.label("referred_email"),
            referrer.c.first_name.label("referrer_name"),
            referrer.c.email.label("referrer_email"),
        )
        .join(entry, entry.c.id == ref.c.referred_entry_id)
        .join(person, person.c.id == entry.c.person_id)
        .join(referrer_entry, referrer_entry.c.id == ref.c.referrer_entry_id)
        .join(referrer, referrer.c.id == referrer_entry.c.person_id)
        .where(ref.c.contest_id == contest_id, ref.c.status.in_(["review", "rejected"]))
        .order_by(ref.c.status.desc(), ref.c.id)
        .limit(limit)
    ).all()
    return [
        FlaggedReferral(
            id=row.id,
            status=row.status,
            reasons=list(row.reasons or ()),
            created_at=row.created_at,
            decided_at=row.decided_at,
            referred_email=row.referred_email,
            referrer_name=row.referrer_name,
            referrer_email=row.referrer_email,
        )
        for row in rows
    ]
