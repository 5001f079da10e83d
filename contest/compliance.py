"""The bridge from the contest engine to the rules engine: stored configuration -> facts."""

from __future__ import annotations

from functools import lru_cache

from contest.contests import ContestView
from contest.forms import CATALOGUE
from rules import ConsentField, ContestFacts, Prize


@lru_cache(maxsize=512)
def contest_facts(contest: ContestView) -> ContestFacts:
    """The facts the rules judge, for a contest snapshot (cached: snapshots are immutable)."""
    return ContestFacts(
        slug=contest.slug,
        title=contest.title,
        jurisdictions=frozenset(contest.jurisdictions),
        languages=contest.languages,
        audience=contest.audience,
        segment=contest.segment,
        segment_min_orders=contest.segment_min_orders,
        offered_at=contest.offered_at,
        opens_at=contest.opens_at,
        closes_at=contest.closes_at,
        draw_at=contest.draw_at,
        client_cutoff_at=contest.client_cutoff_at,
        min_age=contest.min_age,
        consent_fields=tuple(
            ConsentField(
                purpose=option.purpose,
                label_fr=option.label_fr,
                label_en=option.label_en,
                partners=contest.partners if option.purpose == "partners" else (),
            )
            for option in contest.consents
        ),
        organizer_name=contest.organizer_name or None,
        organizer_address=contest.organizer_address or None,
        organizer_contact=contest.organizer_contact or None,
        prizes=tuple(
            Prize(
                rank=p.rank,
                description=p.description,
                quantity=p.quantity,
                unit_value=p.unit_value,
                currency=p.currency,
                kind=p.kind,
                voucher_min_order=p.voucher_min_order,
                voucher_validity_days=p.voucher_validity_days,
            )
            for p in contest.prizes
        ),
        draw_method=contest.draw_method or None,
        winner_notification=contest.winner_notification or None,
        claim_days=contest.claim_days,
        privacy_notice=contest.privacy_notice or None,
        retention_months=contest.retention_months,
        referral_bonus=contest.referral_bonus,
        referral_cap=contest.referral_cap,
        platform_invitations=contest.platform_invitations,
        platform_invitations_override=bool(contest.invitations_override_reason.strip()),
        requires_purchase=contest.requires_purchase,
        purchase_bonus=contest.purchase_bonus,
        form_fields=contest.form_fields,
        excluded_email_domains=frozenset(contest.excluded_email_domains),
        mandatory_fields=tuple(
            name for name in contest.form_fields if name in CATALOGUE and CATALOGUE[name].required
        ),
    )
