"""Fixed texts the catalogue asks the platform to show, and how values appear in messages.

Dates are written DD/MM/YYYY in both languages, as the catalogue does; a moment that is not
midnight also shows its time and time zone ("01/03/2025 à 09:00 UTC" / "01/03/2025 at 09:00 UTC").
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

# FR-NOPURCHASE-1: on the contest page, in the rules and in every promotional message.
NO_PURCHASE_FR = "Jeu gratuit sans obligation d'achat"
NO_PURCHASE_EN = "No purchase necessary"

# US-LOTTERY-1: the block shown to US entrants.
US_NO_PURCHASE_BLOCK = (
    "NO PURCHASE NECESSARY. A PURCHASE OR PAYMENT OF ANY KIND WILL NOT INCREASE YOUR "
    "CHANCES OF WINNING. VOID WHERE PROHIBITED."
)

# FR-CLIENTS-2: the only thing a prospect may be told about client-only contests.
PROSPECT_SENTENCE_FR = (
    "En devenant client, vous pourrez participer à nos jeux réservés aux clients."
)
PROSPECT_SENTENCE_EN = "As a client you will be able to take part in our client-only contests."

# FR-CLIENTS-1: on the page and in the rules of a client-only contest; see client_only_notice.
CLIENT_ONLY_NOTICE_FR = "Réservé aux clients ayant passé commande avant le {cutoff}"
CLIENT_ONLY_NOTICE_EN = "Reserved to clients who ordered before {cutoff}"

# EU-REFER-NOSEND-1: next to the share link.
SHARE_SENTENCE_FR = "Partagez votre lien avec les personnes qui aimeraient participer."
SHARE_SENTENCE_EN = "Share your link with people who would like to take part."


def is_french(language: str) -> bool:
    return language.strip().lower().startswith("fr")


def format_date(value: date) -> str:
    """DD/MM/YYYY, the same in French and English."""
    return value.strftime("%d/%m/%Y")


def format_moment(value: datetime, language: str) -> str:
    """The date, plus the time and zone unless it is midnight."""
    if value.timetz().replace(tzinfo=None) == time(0, 0):
        return format_date(value)
    joiner = "à" if is_french(language) else "at"
    return f"{format_date(value)} {joiner} {value.strftime('%H:%M')} {value.tzname() or ''}".strip()


def format_amount(value: Decimal, language: str) -> str:
    """5 000 / 12,50 in French; 5,000 / 12.50 in English."""
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    if is_french(language):
        text = text.replace(",", " ").replace(".", ",")
    return text


def client_only_notice(cutoff: datetime, language: str) -> str:
    """The FR-CLIENTS-1 notice for a client-only contest's page and rules."""
    template = CLIENT_ONLY_NOTICE_FR if is_french(language) else CLIENT_ONLY_NOTICE_EN
    return template.format(cutoff=format_moment(cutoff, language))


__all__ = [
    "CLIENT_ONLY_NOTICE_EN",
    "CLIENT_ONLY_NOTICE_FR",
    "NO_PURCHASE_EN",
    "NO_PURCHASE_FR",
    "PROSPECT_SENTENCE_EN",
    "PROSPECT_SENTENCE_FR",
    "SHARE_SENTENCE_EN",
    "SHARE_SENTENCE_FR",
    "US_NO_PURCHASE_BLOCK",
    "client_only_notice",
    "format_amount",
    "format_date",
    "format_moment",
    "is_french",
]
