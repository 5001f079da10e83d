"""The fields the official rules cannot do without (FR-RULES-1, US-RULES-1)."""

from __future__ import annotations

from rules.facts import ContestFacts
from rules.model import Localized

ORGANIZER_NAME = (
    "organizer_name",
    Localized("l'identité de l'organisateur", "the organizer's name"),
)
ORGANIZER_ADDRESS = (
    "organizer_address",
    Localized("l'adresse de l'organisateur", "the organizer's address"),
)
OPENS_AT = ("opens_at", Localized("la date d'ouverture", "the opening date"))
CLOSES_AT = ("closes_at", Localized("la date de clôture", "the closing date"))
PRIZES = ("prizes", Localized("la liste des lots", "the list of prizes"))
DRAW_METHOD = (
    "draw_method",
    Localized("le mode de désignation des gagnants", "how winners are chosen"),
)
DRAW_AT = ("draw_at", Localized("la date du tirage", "the draw date"))
WINNER_NOTIFICATION = (
    "winner_notification",
    Localized("le mode d'information des gagnants", "how winners are notified"),
)
CLAIM_DAYS = ("claim_days", Localized("le délai pour réclamer un lot", "the prize claim deadline"))
PRIVACY_NOTICE = (
    "privacy_notice",
    Localized("l'information sur les données personnelles", "the personal-data notice"),
)

FR_RULES_FIELDS = (
    ORGANIZER_NAME,
    ORGANIZER_ADDRESS,
    OPENS_AT,
    CLOSES_AT,
    PRIZES,
    DRAW_METHOD,
    DRAW_AT,
    WINNER_NOTIFICATION,
    CLAIM_DAYS,
    PRIVACY_NOTICE,
)
US_RULES_FIELDS = (
    ORGANIZER_NAME,
    ORGANIZER_ADDRESS,
    OPENS_AT,
    CLOSES_AT,
    PRIZES,
    DRAW_METHOD,
    DRAW_AT,
    WINNER_NOTIFICATION,
)


def is_missing(value: object) -> bool:
    """None, a blank string, an empty tuple or a non-positive number."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, tuple):
        return not value
    if isinstance(value, int) and not isinstance(value, bool):
        return value <= 0
    return False


def missing_fields(
    contest: ContestFacts, required: tuple[tuple[str, Localized], ...]
) -> list[tuple[str, Localized]]:
    return [(name, label) for name, label in required if is_missing(getattr(contest, name))]
