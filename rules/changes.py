"""What a configuration change takes away from participants (ALL-RULES-LOCK-1).

``detriments(before, after)`` lists every change that reduces prizes or chances or alters
their description, shortens the dates or brings the draw forward, narrows eligibility, alters
the entry or draw method or the way winners are told, or adds partners; ``extensions`` lists the
changes that are allowed with a notice to entrants (later closing or draw).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from rules.facts import EVERYONE, ContestFacts, Prize
from rules.model import Localized


@dataclass(frozen=True)
class Change:
    field: str
    what: Localized


def _later(new: datetime | None, old: datetime | None) -> bool:
    return old is not None and (new is None or new > old)


def _earlier(new: datetime | None, old: datetime | None) -> bool:
    return old is not None and (new is None or new < old)


def _lower(new: int | None, old: int | None) -> bool:
    """None means "no limit" for caps, so None -> n is a reduction."""
    if new is None:
        return False
    return old is None or new < old


def _prize_detriments(index: int, old: Prize, new: Prize | None) -> Iterator[Change]:
    where, rank = f"prizes[{index}]", old.rank
    if new is None:
        yield Change("prizes", Localized(f"le lot {rank} est supprimé", f"prize {rank} is removed"))
        return
    if new.quantity < old.quantity:
        yield Change(
            f"{where}.quantity",
            Localized(f"le lot {rank} perd des exemplaires", f"prize {rank} loses units"),
        )
    if old.unit_value is not None and (new.unit_value is None or new.unit_value < old.unit_value):
        yield Change(
            f"{where}.unit_value",
            Localized(f"la valeur du lot {rank} baisse", f"prize {rank} loses value"),
        )
    if new.description.strip() != old.description.strip():
        yield Change(
            f"{where}.description",
            Localized(
                f"la description du lot {rank} change", f"prize {rank}'s description changes"
            ),
        )
    if (new.kind, new.currency) != (old.kind, old.currency):
        yield Change(
            f"{where}.kind",
            Localized(f"la nature du lot {rank} change", f"prize {rank} changes nature"),
        )
    if _lower(new.voucher_validity_days, old.voucher_validity_days):
        yield Change(
            f"{where}.voucher_validity_days",
            Localized(f"la validité du bon {rank} raccourcit", f"voucher {rank} expires sooner"),
        )
    if (new.voucher_min_order or 0) > (old.voucher_min_order or 0):
        yield Change(
            f"{where}.voucher_min_order",
            Localized(
                f"le minimum de commande du bon {rank} augmente",
                f"voucher {rank} minimum order rises",
            ),
        )


def _by_rank(prizes: tuple[Prize, ...]) -> dict[tuple[int, int], Prize]:
    """Prizes keyed by (rank, n-th line of that rank), so duplicate ranks pair up in order."""
    seen: dict[int, int] = {}
    keyed = {}
    for prize in prizes:
        seen[prize.rank] = seen.get(prize.rank, -1) + 1
        keyed[(prize.rank, seen[prize.rank])] = prize
    return keyed


def _partners(facts: ContestFacts) -> set[str]:
    """The partners named at the consent boxes: adding one after people consented would
    share their data with someone they never saw named."""
    return {partner.strip() for field in facts.consent_fields for partner in field.partners}


def detriments(before: ContestFacts, after: ContestFacts) -> Iterator[Change]:
    """Every change of a material term that works against participants."""
    new_prizes = _by_rank(after.prizes)
    for index, (key, prize) in enumerate(_by_rank(before.prizes).items()):
        yield from _prize_detriments(index, prize, new_prizes.get(key))
    simple = (
        (
            after.referral_bonus < before.referral_bonus,
            "referral_bonus",
            "le bonus de parrainage baisse",
            "the referral bonus is lowered",
        ),
        (
            before.referral_bonus > 0 and _lower(after.referral_cap, before.referral_cap),
            "referral_cap",
            "le plafond de parrainage baisse",
            "the referral cap is lowered",
        ),
        (
            _later(after.opens_at, before.opens_at),
            "opens_at",
            "l'ouverture est repoussée",
            "the opening is postponed",
        ),
        (
            _earlier(after.closes_at, before.closes_at),
            "closes_at",
            "la clôture est avancée",
            "the closing is brought forward",
        ),
        (
            _earlier(after.draw_at, before.draw_at),
            "draw_at",
            "le tirage est avancé",
            "the draw is brought forward",
        ),
        (
            before.winner_notification is not None
            and (after.winner_notification or "").strip() != before.winner_notification.strip(),
            "winner_notification",
            "la façon de prévenir les gagnants change",
            "the way winners are told changes",
        ),
        (
            bool(_partners(after) - _partners(before)),
            "partners",
            "des partenaires sont ajoutés",
            "partners are added",
        ),
        (
            _lower(after.claim_days, before.claim_days) and before.claim_days is not None,
            "claim_days",
            "le délai de réclamation raccourcit",
            "the claim deadline is shortened",
        ),
        (
            (after.min_age or 0) > (before.min_age or 0),
            "min_age",
            "l'âge minimum augmente",
            "the minimum age is raised",
        ),
        (
            before.audience == EVERYONE and after.audience != EVERYONE,
            "audience",
            "le public est restreint",
            "the audience is narrowed",
        ),
        (
            after.audience == "segment"
            and (
                after.segment_min_orders > before.segment_min_orders
                or after.segment != before.segment
            ),
            "segment",
            "le segment de clients change",
            "the client segment changes",
        ),
        (
            bool(before.jurisdictions - after.jurisdictions),
            "jurisdictions",
            "des pays sont retirés",
            "countries are removed",
        ),
        (
            bool(after.us_states_excluded - before.us_states_excluded),
            "us_states_excluded",
            "des États américains sont exclus",
            "US states are excluded",
        ),
        (
            bool(after.excluded_email_domains - before.excluded_email_domains),
            "excluded_email_domains",
            "des domaines e-mail sont exclus",
            "e-mail domains are excluded",
        ),
        (
            bool(set(before.entry_channels) - set(after.entry_channels)),
            "entry_channels",
            "un canal de participation est retiré",
            "an entry channel is removed",
        ),
        (
            after.draw_method != before.draw_method and before.draw_method is not None,
            "draw_method",
            "le mode de tirage change",
            "the draw method changes",
        ),
    )
    for changed, name, fr, en in simple:
        if changed:
            yield Change(name, Localized(fr, en))


def extensions(before: ContestFacts, after: ContestFacts) -> Iterator[Change]:
    """Later closing or draw: allowed, with a notice to entrants."""
    if before.closes_at is not None and after.closes_at is not None:
        if after.closes_at > before.closes_at:
            yield Change(
                "closes_at", Localized("la clôture est repoussée", "the closing is postponed")
            )
    if before.draw_at is not None and after.draw_at is not None:
        if after.draw_at > before.draw_at:
            yield Change("draw_at", Localized("le tirage est repoussé", "the draw is postponed"))
