"""Hypothesis strategies for the rules engine's facts.

``contests()`` and ``people()`` range widely, mistakes included (unknown purposes, negative
quantities, dates out of order). ``entry_scenarios()`` builds a contest open at NOW and a
person placed near its age and client-cutoff boundaries, so entry properties are exercised
where they can break.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from hypothesis import strategies as st

from rules import ConsentField, ContestFacts, PersonFacts, Prize
from tests.rules.rules_examples import NOW

JURISDICTIONS = ("FR", "DE", "EU", "US", "GB")
AUDIENCES = ("everyone", "clients", "segment", "vip")
PURPOSES = (
    "marketing_email",
    "marketing_sms",
    "partners",
    "marketing_email+partners",
    "marketing",
    "",
)
LABELS = ("Je veux vos offres", "Décochez pour refuser", "", "I want your offers", "Uncheck me")
CHANNELS = ("web", "email", "qr_code", "premium_sms", "premium_phone", "paid_call")
FIELDS = ("first_name", "last_name", "birth_date", "postcode", "phone", "interest", "health")
STATES = ("CA", "NY", "FL", "AL", "MS", "RI", "PR", "TX", None)
T = TypeVar("T")


def moments(around: datetime = NOW, days: int = 400) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes within ``days`` of ``around``, to the minute."""
    minutes = days * 24 * 60
    return st.integers(-minutes, minutes).map(lambda m: around + timedelta(minutes=m))


def near(moment: datetime) -> st.SearchStrategy[datetime]:
    """``moment`` itself, a second either side, or within a few days."""
    second = timedelta(seconds=1)
    return st.one_of(
        st.sampled_from([moment - second, moment, moment + second]),
        moments(moment, days=5),
    )


def amounts(top: int = 8000) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=-10, max_value=top, places=2, allow_nan=False)


def consent_fields() -> st.SearchStrategy[ConsentField]:
    return st.builds(
        ConsentField,
        purpose=st.sampled_from(PURPOSES),
        label_fr=st.sampled_from(LABELS),
        label_en=st.sampled_from(LABELS),
        required=st.booleans(),
        pre_ticked=st.booleans(),
        partners=st.sampled_from([(), ("Acme",), (" ",)]),
    )


def prizes() -> st.SearchStrategy[Prize]:
    return st.builds(
        Prize,
        rank=st.integers(0, 4),
        description=st.sampled_from(["Bon d'achat", "", "You have won a voucher", "Vélo"]),
        quantity=st.integers(-1, 5),
        unit_value=st.none() | amounts(),
        currency=st.sampled_from(["EUR", "USD"]),
        kind=st.sampled_from(["voucher", "goods"]),
        voucher_min_order=st.none() | amounts(100),
        voucher_validity_days=st.none() | st.integers(-1, 3000),
    )


def short_text() -> st.SearchStrategy[str | None]:
    return st.sampled_from([None, "", "  ", "Boutique Exemple SAS"])


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


_MOMENTS = moments()
_TEXT = short_text()
_FILING = _optional(st.dates(date(2024, 6, 1), date(2025, 6, 1)))

_CONTESTS = st.builds(
    ContestFacts,
    slug=st.just("generated"),
    title=st.sampled_from(["Grand jeu", "Vous avez gagné !", "Spring draw"]),
    jurisdictions=st.frozensets(st.sampled_from(JURISDICTIONS)),
    languages=st.lists(st.sampled_from(["fr", "en", "de"]), max_size=3).map(tuple),
    audience=st.sampled_from(AUDIENCES),
    segment=st.sampled_from([None, "loyal"]),
    segment_min_orders=st.integers(0, 5),
    requires_purchase=st.booleans(),
    purchase_bonus=st.booleans(),
    entry_channels=st.lists(st.sampled_from(CHANNELS), max_size=3).map(tuple),
    offered_at=_optional(_MOMENTS),
    opens_at=_optional(_MOMENTS),
    closes_at=_optional(_MOMENTS),
    draw_at=_optional(_MOMENTS),
    client_cutoff_at=_optional(_MOMENTS),
    min_age=_optional(st.integers(0, 30)),
    consent_fields=st.lists(consent_fields(), max_size=3).map(tuple),
    rules_acceptance_separate=st.booleans(),
    organizer_name=_TEXT,
    organizer_address=_TEXT,
    organizer_contact=_TEXT,
    prizes=st.lists(prizes(), max_size=3).map(tuple),
    draw_method=_TEXT,
    winner_notification=_TEXT,
    claim_days=_optional(st.integers(-1, 90)),
    privacy_notice=_TEXT,
    retention_months=_optional(st.integers(-1, 60)),
    referral_bonus=st.integers(-1, 5),
    referral_cap=_optional(st.integers(-1, 20)),
    platform_invitations=st.booleans(),
    platform_invitations_override=st.booleans(),
    opt_in_bonus=st.booleans(),
    us_states_excluded=st.frozensets(st.sampled_from(["NY", "FL", "RI", "CA"])),
    us_registration_filed=st.booleans(),
    ny_filing_date=_FILING,
    fl_filing_date=_FILING,
    form_fields=st.lists(st.sampled_from(FIELDS), max_size=6).map(tuple),
    mandatory_fields=st.lists(st.sampled_from(("email", *FIELDS)), max_size=3).map(tuple),
    partner_links=st.booleans(),
    excluded_email_domains=st.frozensets(st.sampled_from(["staff.example", "x.test"])),
    double_opt_in=st.booleans(),
    in_store_promotion=st.booleans(),
    ri_registration_filed=st.booleans(),
    ccpa_covered=st.booleans(),
    ccpa_incentive_notice=_TEXT,
)

_PEOPLE = st.builds(
    PersonFacts,
    email_normalized=st.sampled_from(["ana@mail.example", "bo@staff.example"]),
    birth_date=_optional(st.dates(date(1930, 1, 1), NOW.date())),
    age_attested=st.booleans(),
    country=st.sampled_from([None, "FR", "DE", "US", "GB"]),
    region=st.sampled_from(STATES),
    client_since=_optional(_MOMENTS),
    orders_count=st.integers(0, 6),
    segments=st.frozensets(st.sampled_from(["loyal", "new"])),
    is_staff=st.booleans(),
    already_entered=st.booleans(),
    confirmed=st.booleans(),
)


def contests() -> st.SearchStrategy[ContestFacts]:
    """Any contest configuration, compliant or not."""
    return _CONTESTS


def people() -> st.SearchStrategy[PersonFacts]:
    """Anyone at the door."""
    return _PEOPLE


_SCENARIO_AGES = _optional(st.integers(13, 21))
_SCENARIO_CUTOFFS = moments(NOW, days=30)


@st.composite
def entry_scenarios(draw: st.DrawFn) -> tuple[ContestFacts, PersonFacts]:
    """A contest open at NOW and a person close to its age and cutoff boundaries, with the
    other conditions mostly met so that acceptances happen."""
    contest = draw(_CONTESTS)
    min_age = draw(_SCENARIO_AGES)
    cutoff = draw(_SCENARIO_CUTOFFS)
    contest = replace(
        contest,
        opens_at=NOW - timedelta(days=draw(st.integers(0, 20))),
        closes_at=NOW + timedelta(days=draw(st.integers(1, 20))),
        min_age=min_age,
        client_cutoff_at=draw(st.sampled_from([cutoff, cutoff, None])),
        offered_at=draw(st.sampled_from([cutoff, None])),
        excluded_email_domains=frozenset(),
    )
    declared: list[str | None] = [*sorted(contest.jurisdictions)]
    country = draw(st.sampled_from(declared or [None]))
    age = (min_age or 18) + draw(st.integers(-2, 2))
    birthday = NOW.date().replace(year=NOW.year - age, day=1) + timedelta(
        days=draw(st.integers(-40, 40))
    )
    cutoff_now = contest.eligibility_cutoff
    is_client = draw(st.integers(0, 4)) > 0
    client_since = draw(near(cutoff_now) if cutoff_now else moments()) if is_client else None
    person = PersonFacts(
        email_normalized="ana@mail.example",
        birth_date=draw(st.sampled_from([birthday, birthday, None])),
        age_attested=draw(st.booleans()),
        country=country if country not in ("EU", None) else draw(st.sampled_from(["FR", None])),
        region=draw(st.sampled_from(["CA", "TX", "AL", None])),
        client_since=client_since,
        orders_count=draw(st.integers(0, 6)),
        segments=draw(st.frozensets(st.sampled_from(["loyal", "new"]))),
        is_staff=draw(st.sampled_from([False, False, False, True])),
        already_entered=False,
        confirmed=True,
    )
    return contest, person
