"""French and English: message catalogues (Babel .po files) and locale formatting.

Source strings are English; ``contest/locale/fr/LC_MESSAGES/messages.po`` holds the French.
Catalogues are compiled in memory at start-up, so no compiled ``.mo`` file is ever stale.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.numbers import format_percent as babel_percent
from babel.support import NullTranslations, Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(language: str) -> NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(wanted: str | None, offered: tuple[str, ...] | list[str], default: str) -> str:
    if wanted and wanted in offered and wanted in LANGUAGES:
        return wanted
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def from_accept_language(header: str | None, offered: Collection[str]) -> str | None:
    """The first of ``offered`` that a browser's ``Accept-Language`` prefers (by its q
    weights, then its order), or None. ``fr-CA`` counts for ``fr``; ``q=0`` means "not this"."""
    if not header:
        return None
    return _preferred(header[:1000], tuple(offered))


@lru_cache(maxsize=512)
def _preferred(header: str, offered: tuple[str, ...]) -> str | None:
    """Cached: browsers send a handful of distinct headers, read again at every page."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        if weight > 0 and language in offered:
            ranked.append((-weight, index, language))
    return min(ranked)[2] if ranked else None


def gettext(language: str, message: str, **params: object) -> str:
    text = translations(language).gettext(message)
    return text % params if params else text


def format_when(moment: datetime, language: str, tz: str = "Europe/Paris") -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return format_datetime(local, "d MMMM y, HH:mm (vvvv)", locale=language)


def format_day(moment: datetime | date, language: str, tz: str = "Europe/Paris") -> str:
    if isinstance(moment, datetime):
        moment = moment.astimezone(ZoneInfo(tz))
    return format_date(moment, "d MMMM y", locale=language)  # as format_when, both languages


def format_money(amount: Decimal, currency: str, language: str) -> str:
    return format_currency(amount, currency, locale=language)


def format_number(value: float | int | Decimal, language: str, digits: int = 0) -> str:
    """``1 234,50`` in French, ``1,234.50`` in English: grouped, with ``digits`` decimals."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=language)


def format_percent(share: float, language: str) -> str:
    """A share from 0 to 1 as a whole percentage: ``35 %`` in French, ``35%`` in English."""
    return babel_percent(share, locale=language)


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "format_day",
    "format_money",
    "format_number",
    "format_percent",
    "format_when",
    "gettext",
    "pick_language",
    "translations",
]
