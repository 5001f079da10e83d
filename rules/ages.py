"""Ages: how old a person is on a day, and the age a contest requires of a given entrant."""

from __future__ import annotations

from datetime import date

from rules.facts import ContestFacts
from rules.registry import EU, EU_MEMBER_STATES

COPPA_AGE = 13  # US-AGE-1: under-13s are excluded outright in US contests
US_MAJORITY = 18
# US-AGE-1: states whose age of majority is above 18. Delaware is listed by one practitioner
# only (UNCERTAIN in the catalogue); we apply it, the strict reading.
US_STATE_MAJORITY = {"AL": 19, "NE": 19, "MS": 21, "DE": 19}
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)


# GDPR Art. 8: the age from which a person consents alone to online services' processing
# (marketing consent included); 16 unless a member state set it lower.
GDPR_CONSENT_AGE = 16
DIGITAL_CONSENT_AGE = {"FR": 15, "DE": 16, "BE": 13}


def digital_consent_age(contest: ContestFacts) -> int | None:
    """The age under which a person of the contest's EU territories cannot consent alone (the
    strictest of them), or None for a contest outside the EU."""
    ages = [
        DIGITAL_CONSENT_AGE.get(code, GDPR_CONSENT_AGE)
        for code in contest.jurisdictions
        if code in EU_MEMBER_STATES or code == EU
    ]
    return max(ages) if ages else None


def age_on(birth_date: date, day: date) -> int:
    """Whole years completed on ``day`` (someone born on 29 February turns a year older on
    1 March in common years)."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def us_state_majority(region: str | None) -> int:
    return US_STATE_MAJORITY.get((region or "").upper(), US_MAJORITY)


def minimum_age_for(contest: ContestFacts, country: str | None, region: str | None) -> int:
    """The age an entrant from ``country``/``region`` must have: the contest's minimum age,
    at least 13 in a US contest, and the state's age of majority for US residents.

    This is the N of the "I am N or over" box: ``PersonFacts.age_attested`` means the person
    ticked it with this N.
    """
    required = contest.min_age or 0
    if contest.runs_in_us:
        required = max(required, COPPA_AGE)
        if region and (country is None or country.strip().upper() == "US"):
            required = max(required, us_state_majority(region))
    return required


__all__ = [
    "COPPA_AGE",
    "DIGITAL_CONSENT_AGE",
    "GDPR_CONSENT_AGE",
    "US_MAJORITY",
    "US_STATES",
    "US_STATE_MAJORITY",
    "age_on",
    "digital_consent_age",
    "minimum_age_for",
    "us_state_majority",
]
