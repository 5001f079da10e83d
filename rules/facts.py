"""The facts the rules judge: a contest's configuration and a person who wants to enter.

Plain frozen dataclasses, built by the contest engine from its own models. Every datetime is
timezone-aware (the engine passes aware UTC datetimes); a naive one is refused at construction.

Field names double as the ``Finding.field`` vocabulary: a finding names the attribute the
organizer (or the participant) should change, ``prizes[0].unit_value`` for an item of a tuple.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

EVERYONE = "everyone"
CLIENT_AUDIENCES = frozenset({"clients", "segment"})
AUDIENCES = CLIENT_AUDIENCES | {EVERYONE}

MARKETING_EMAIL = "marketing_email"
MARKETING_SMS = "marketing_sms"
PARTNERS = "partners"
CONSENT_PURPOSES = frozenset({MARKETING_EMAIL, MARKETING_SMS, PARTNERS})
# Ways to enter that cost nothing beyond internet access or a stamp; any other channel (a
# premium-rate SMS or call, "audiotel", anything not known) is paid: the list fails closed.
FREE_ENTRY_CHANNELS = frozenset({"web", "email", "post", "in_store", "qr_code"})
PAID_ENTRY_CHANNELS = ("sms_premium", "phone_premium")

_PURPOSE_SEPARATORS = re.compile(r"[\s+,&|/;]+|_and_")


@dataclass(frozen=True)
class ConsentField:
    """One optional consent checkbox of the entry form: one purpose, one channel or recipient."""

    purpose: str  # "marketing_email" | "marketing_sms" | "partners"
    label_fr: str
    label_en: str
    required: bool = False
    pre_ticked: bool = False
    partners: tuple[str, ...] = ()

    @property
    def purposes(self) -> frozenset[str]:
        """The purposes this one checkbox covers; more than one means a bundled consent."""
        parts = (part for part in _PURPOSE_SEPARATORS.split(self.purpose.strip().lower()))
        return frozenset(part for part in parts if part)

    def label(self, language: str) -> str:
        return self.label_fr if language.lower().startswith("fr") else self.label_en


@dataclass(frozen=True)
class Prize:
    """One prize line: ``quantity`` identical prizes worth ``unit_value`` each."""

    rank: int
    description: str
    quantity: int
    unit_value: Decimal | None
    currency: str = "EUR"
    kind: str = "voucher"  # "voucher" | "goods" | "service" | "cash" ...
    voucher_min_order: Decimal | None = None
    voucher_validity_days: int | None = None
    # The description in the contest's second language (judged only for a false "you won").
    description_translation: str = ""

    @property
    def is_voucher(self) -> bool:
        return self.kind == "voucher"

    @property
    def total_value(self) -> Decimal:
        """Quantity times unit value; an unknown value counts as zero."""
        return (self.unit_value or Decimal(0)) * max(self.quantity, 0)


@dataclass(frozen=True)
class AskedQuestion:
    """A qualifying question of the entry form, as far as the law cares: what it asks (the
    question as shown, and every other text it shows: its answers, its translations) and
    whether it must be answered to enter."""

    question: str
    texts: tuple[str, ...] = ()
    required: bool = False


def _require_aware(instance: ContestFacts | PersonFacts) -> None:
    # The instance's own attributes (its fields): an entry makes one of these per attempt.
    for name, value in vars(instance).items():
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise ValueError(f"{type(instance).__name__}.{name} must be timezone-aware")


@dataclass(frozen=True, kw_only=True)
class ContestFacts:
    """A contest's configuration as far as the law cares.

    Fields after ``mandatory_fields`` were added for rules of the catalogue that need them;
    their defaults describe the platform's own behaviour, so callers may omit them.
    """

    slug: str
    title: str
    jurisdictions: frozenset[str]
    languages: tuple[str, ...] = ()
    audience: str = EVERYONE  # "everyone" | "clients" | "segment"
    segment: str | None = None
    segment_min_orders: int = 0
    requires_purchase: bool = False
    purchase_bonus: bool = False
    entry_channels: tuple[str, ...] = ("web",)
    offered_at: datetime | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    draw_at: datetime | None = None
    client_cutoff_at: datetime | None = None
    min_age: int | None = None
    consent_fields: tuple[ConsentField, ...] = ()
    rules_acceptance_separate: bool = True
    organizer_name: str | None = None
    organizer_address: str | None = None
    organizer_contact: str | None = None
    prizes: tuple[Prize, ...] = ()
    draw_method: str | None = None
    winner_notification: str | None = None
    claim_days: int | None = None
    privacy_notice: str | None = None
    retention_months: int | None = None
    referral_bonus: int = 0
    referral_cap: int | None = None
    platform_invitations: bool = False
    platform_invitations_override: bool = False
    opt_in_bonus: bool = False
    us_states_excluded: frozenset[str] = frozenset()
    us_registration_filed: bool = False
    ny_filing_date: date | None = None
    fl_filing_date: date | None = None
    form_fields: tuple[str, ...] = ()
    mandatory_fields: tuple[str, ...] = ()
    # Added for catalogue rules; see rules/README.md.
    partner_links: bool = False  # partner / source links (/s/{code}) enabled (FR-CLIENTS-2)
    excluded_email_domains: frozenset[str] = frozenset()  # ALL-ELIGIBILITY-1
    double_opt_in: bool = True  # DE-DOI-1
    in_store_promotion: bool = False  # US-REG-RI-1: QR codes in a shop, retail promotion
    ri_registration_filed: bool = False  # US-REG-RI-1
    ccpa_covered: bool = False  # US-CA-CCPA-1: the organizer declares CCPA coverage
    ccpa_incentive_notice: str | None = None  # US-CA-CCPA-1
    # FR-COSTS-1: the optional reimbursement of participation costs (a stamp, a connection);
    # when offered, the rules must say where to ask, by when, and what is paid back.
    cost_reimbursement: bool = False
    reimbursement_address: str | None = None
    reimbursement_days: int | None = None
    reimbursement_basis: str | None = None
    # US-REG-1, US-REG-RI-1: the prizes' total in US dollars, as the organizer declares it when
    # they are in another currency (no exchange rates in a pure engine).
    prizes_value_usd: Decimal | None = None
    # The texts a visitor reads, in both languages (EU-PRIZE-AWARD-1 reads them all).
    description: str = ""
    title_translation: str = ""
    description_translation: str = ""
    # EU-MINIMIZE-1: the qualifying questions the entry form asks besides its fields.
    questions: tuple[AskedQuestion, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self)
        normalise = object.__setattr__
        normalise(self, "jurisdictions", frozenset(j.strip().upper() for j in self.jurisdictions))
        normalise(self, "languages", tuple(lang.strip().lower() for lang in self.languages))
        normalise(self, "us_states_excluded", frozenset(s.upper() for s in self.us_states_excluded))
        normalise(
            self,
            "excluded_email_domains",
            frozenset(d.strip().lower().lstrip("@") for d in self.excluded_email_domains),
        )

    @property
    def client_only(self) -> bool:
        """True unless everyone may enter: "clients", "segment", and (failing closed) any
        audience this module does not know."""
        return self.audience != EVERYONE

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Entry channels that cost money: premium-rate SMS or calls, and any channel not
        known to be free (``audiotel_0899`` is not let through by its name)."""
        return tuple(
            channel
            for channel in self.entry_channels
            if channel.strip().lower() not in FREE_ENTRY_CHANNELS
        )

    @property
    def eligibility_cutoff(self) -> datetime | None:
        """Clients must have become clients strictly before this moment (FR-CLIENTS-1)."""
        return self.client_cutoff_at or self.offered_at

    @property
    def total_prize_value(self) -> Decimal:
        """The sum of every prize line, in the prizes' own currencies taken 1:1."""
        return sum((prize.total_value for prize in self.prizes), Decimal(0))

    @property
    def foreign_currencies(self) -> tuple[str, ...]:
        """The prizes' currencies other than the US dollar, sorted."""
        return tuple(sorted({p.currency.upper() for p in self.prizes} - {"USD"}))

    @property
    def usd_prize_value(self) -> Decimal | None:
        """The prizes' total in US dollars: their sum when all are in dollars, else the value
        the organizer declared (None while not declared)."""
        if not self.foreign_currencies:
            return self.total_prize_value
        return self.prizes_value_usd

    @property
    def runs_in_us(self) -> bool:
        return "US" in self.jurisdictions


@dataclass(frozen=True, kw_only=True)
class PersonFacts:
    """A person at the door of a contest (entry time) or in its pool (draw time)."""

    email_normalized: str
    birth_date: date | None = None
    # Ticked "I am N or over", N being rules.minimum_age_for(contest, country, region).
    age_attested: bool = False
    country: str | None = None
    region: str | None = None  # US state code
    client_since: datetime | None = None
    orders_count: int = 0
    segments: frozenset[str] = frozenset()
    is_staff: bool = False
    already_entered: bool = False
    # Added: the entry's e-mail was confirmed by double opt-in (DE-DOI-1, checked at draw).
    confirmed: bool = False
    # Added: a marketing or partners box was ticked (FR-MINORS-1: consent age at entry).
    marketing_consent: bool = False

    def __post_init__(self) -> None:
        _require_aware(self)
        if self.country is not None:
            object.__setattr__(self, "country", self.country.strip().upper())
        if self.region is not None:
            object.__setattr__(self, "region", self.region.strip().upper())

    @property
    def email_domain(self) -> str:
        return self.email_normalized.rpartition("@")[2].lower()

    def lives_in_us(self) -> bool:
        """Declared US resident, or a state given without a country."""
        return self.country == "US" or (self.country is None and self.region is not None)


__all__ = [
    "AUDIENCES",
    "AskedQuestion",
    "CLIENT_AUDIENCES",
    "CONSENT_PURPOSES",
    "EVERYONE",
    "MARKETING_EMAIL",
    "MARKETING_SMS",
    "FREE_ENTRY_CHANNELS",
    "PAID_ENTRY_CHANNELS",
    "PARTNERS",
    "ConsentField",
    "ContestFacts",
    "PersonFacts",
    "Prize",
]
