"""Compliant example facts for the rules tests, and builders that change one thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rules import ConsentField, ContestFacts, PersonFacts, Prize

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
OFFERED = datetime(2025, 2, 25, 9, 0, tzinfo=UTC)
CUTOFF = datetime(2025, 2, 20, tzinfo=UTC)
OPENS = datetime(2025, 3, 1, tzinfo=UTC)
CLOSES = datetime(2025, 3, 31, 22, 0, tzinfo=UTC)
DRAW = datetime(2025, 4, 2, 10, 0, tzinfo=UTC)
AFTER_DRAW = datetime(2025, 4, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)

EMAIL_CONSENT = ConsentField(
    "marketing_email",
    "J'accepte de recevoir les offres de la boutique par e-mail.",
    "I agree to receive the shop's offers by e-mail.",
)
SMS_CONSENT = ConsentField(
    "marketing_sms",
    "J'accepte de recevoir les offres de la boutique par SMS.",
    "I agree to receive the shop's offers by text message.",
)
PARTNER_CONSENT = ConsentField(
    "partners",
    "J'accepte que mon e-mail soit transmis à Acme Jardin pour ses offres.",
    "I agree that my e-mail is passed to Acme Jardin for its offers.",
    partners=("Acme Jardin",),
)
VOUCHER_100 = Prize(1, "Bon d'achat de 100 €", 1, Decimal(100), voucher_validity_days=365)
VOUCHER_20 = Prize(2, "Bon d'achat de 20 €", 5, Decimal(20), voucher_validity_days=365)


def contest(**changes: Any) -> ContestFacts:
    """A compliant French contest, open at NOW, with ``changes`` applied."""
    base = ContestFacts(
        slug="printemps",
        title="Grand jeu de printemps",
        jurisdictions=frozenset({"FR"}),
        languages=("fr", "en"),
        audience="everyone",
        offered_at=OFFERED,
        opens_at=OPENS,
        closes_at=CLOSES,
        draw_at=DRAW,
        min_age=18,
        consent_fields=(EMAIL_CONSENT, SMS_CONSENT, PARTNER_CONSENT),
        organizer_name="Boutique Exemple SAS",
        organizer_address="1 rue de l'Exemple, 75001 Paris",
        organizer_contact="dpo@boutique.example",
        prizes=(VOUCHER_100, VOUCHER_20),
        draw_method="Tirage au sort vérifiable (drand)",
        winner_notification="Par e-mail dans les 7 jours suivant le tirage",
        claim_days=30,
        privacy_notice="Vos données servent à gérer le jeu ; contact : dpo@boutique.example",
        retention_months=12,
        form_fields=("first_name", "postcode"),
        mandatory_fields=("email",),
    )
    return replace(base, **changes)


def client_contest(**changes: Any) -> ContestFacts:
    """A compliant contest reserved to clients who were clients before CUTOFF."""
    return contest(**{"audience": "clients", "client_cutoff_at": CUTOFF, **changes})


US_VOUCHER = Prize(1, "$100 store voucher", 1, Decimal(100), "USD", voucher_validity_days=1826)


def us_contest(**changes: Any) -> ContestFacts:
    """A compliant contest open to US residents only."""
    base = contest(
        jurisdictions=frozenset({"US"}),
        languages=("en",),
        consent_fields=(EMAIL_CONSENT,),
        prizes=(US_VOUCHER,),
    )
    return replace(base, **changes)


def person(**changes: Any) -> PersonFacts:
    """An adult French resident, never a client, confirmed."""
    base = PersonFacts(
        email_normalized="ana@mail.example",
        birth_date=date(1990, 5, 10),
        country="FR",
        confirmed=True,
    )
    return replace(base, **changes)


def born_years_before(day: date, years: int) -> date:
    """The birth date of someone who turns ``years`` on ``day``."""
    return day.replace(year=day.year - years)
