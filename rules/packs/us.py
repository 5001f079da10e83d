"""The US pack: applies when the contest is open to US residents ("US" declared).

Purchases and payments are refused for every contest by FR-NOPURCHASE-1 and ALL-NOPURCHASE-2
(ALL pack); the amounts below are summed in the prizes' own currencies, EUR taken 1:1 with USD.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from rules.ages import COPPA_AGE, US_MAJORITY, US_STATES, age_on, minimum_age_for, us_state_majority
from rules.facts import ContestFacts, PersonFacts
from rules.model import Breach, Severity, breach, refuse
from rules.official import US_RULES_FIELDS, is_missing, missing_fields
from rules.registry import EU, Pack, packs_for

PACK = Pack("US")

REGISTRATION_THRESHOLD = Decimal(5000)
RHODE_ISLAND_THRESHOLD = Decimal(500)
TAX_FORM_THRESHOLD = Decimal(600)
GIFT_CARD_MIN_DAYS = 5 * 365 + 1  # five years, counting one leap day
FILING_LEAD_DAYS = {"NY": 30, "FL": 7}
PRACTICE = "https://olshanlaw.com/sweepstakes-law-basics"


@PACK.config(
    "US-LOTTERY-1",
    jurisdiction="US",
    title="No consideration: prize + chance + consideration is a lottery",
    severity=Severity.WARN,
    message_fr="Jeu réservé aux clients ouvert aux résidents américains : certains praticiens "
    "exigent un mode de participation gratuit (AMOE) ; demandez à un conseil.",
    message_en="Client-only contest open to US residents: some practitioners want a free "
    "alternate method of entry (AMOE); ask counsel.",
    source="Fla. Stat. 849.094(2)(e) — "
    "https://instalawyer.io/laws/florida-statutes/849094-game-promotion-in",
)
def no_consideration(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Warns on a client-only contest open to US residents: being a client may count as
    consideration, and some practitioners want a free method of entry for it.

    Differs from the catalogue: the refusals of any purchase, payment or paid channel are
    made for every contest by FR-NOPURCHASE-1 and ALL-NOPURCHASE-2; this rule adds the
    "ask counsel" warning of FR-CLIENTS-1's US note. The notice to display is
    rules.US_NO_PURCHASE_BLOCK.
    """
    if contest.client_only:
        yield breach("audience")


@PACK.config(
    "US-RULES-1",
    jurisdiction="US",
    title="Official rules content",
    message_fr="Règlement officiel américain incomplet : il manque {field}.",
    message_en="The US official rules are incomplete: {field} is missing.",
    source="Fla. Admin. Code 5J-14.001 — https://casetext.com/regulation/florida-administrative-"
    "code/department-5-department-of-agriculture-and-consumer-services/division-5j-division-of-"
    "consumer-services/chapter-5j-14-game-promotion/section-5j-14001-material-terms-in-"
    "advertisements",
)
def us_rules_complete(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses publishing while the sponsor's name or address, the dates, the prizes, the
    selection method and date or the winner notification are missing: US official rules
    must state them.

    Differs from the catalogue: when the contest also runs in the EU, FR-RULES-1 reports the
    same fields and this rule stays silent. No purchase necessary, odds, void jurisdictions
    and the material-terms block are generated, not configured.
    """
    if EU in packs_for(contest.jurisdictions):
        return
    for name, label in missing_fields(contest, US_RULES_FIELDS):
        yield breach(name, field=label)


@PACK.config(
    "US-REG-1",
    jurisdiction="US-NY, US-FL",
    title="New York and Florida: registration and bonding above $5,000",
    message_fr="Lots > 5 000 $ : enregistrement NY/FL requis, ou excluez ces États.",
    message_en="Prizes over $5,000: NY/FL registration required, or exclude those states.",
    source="N.Y. GBL §369-e; Fla. Stat. 849.094 — "
    "https://www.nysenate.gov/legislation/laws/GBS/369-E",
    variants=(
        refuse(
            "usd_value",
            "Lots en {currencies} : indiquez leur valeur totale en dollars US, les seuils "
            "américains étant en dollars.",
            "Prizes in {currencies}: give their total value in US dollars, the US thresholds "
            "being in dollars.",
        ),
        refuse(
            "filing_date",
            "Enregistrement déclaré : indiquez la date de dépôt pour l'État {state}.",
            "Registration declared: give the {state} filing date.",
        ),
        refuse(
            "filing_late",
            "Le dépôt pour l'État {state} ({filed}) doit précéder l'ouverture d'au moins "
            "{days} jours.",
            "The {state} filing ({filed}) must come at least {days} days before the opening.",
        ),
    ),
)
def registered_or_excluded(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a US contest whose prizes total more than 5,000 unless New York and Florida
    are each excluded or registered: New York (GBL §369-e) wants a filing 30 days and Florida
    (§849.094) 7 days before the start, with a bond.

    Differs from the catalogue: prizes in another currency than the dollar need the total
    the organizer declares in dollars (no exchange rates in a pure rules engine). One
    ``us_registration_filed`` flag covers both states; each non-excluded state then needs its
    filing date.
    """
    value = contest.usd_prize_value
    if value is None:
        currencies = ", ".join(contest.foreign_currencies)
        yield breach("prizes_value_usd", "usd_value", currencies=currencies)
        return
    if value <= REGISTRATION_THRESHOLD:
        return
    unregistered = False
    for state, lead in FILING_LEAD_DAYS.items():
        if state in contest.us_states_excluded:
            continue
        filed = contest.ny_filing_date if state == "NY" else contest.fl_filing_date
        field = f"{state.lower()}_filing_date"
        if not contest.us_registration_filed:
            unregistered = True
        elif filed is None:
            yield breach(field, "filing_date", state=state)
        elif contest.opens_at is not None and contest.opens_at.date() < filed + timedelta(lead):
            yield breach(field, "filing_late", state=state, filed=filed, days=lead)
    if unregistered:
        yield breach("us_registration_filed")


@PACK.config(
    "US-REG-RI-1",
    jurisdiction="US-RI",
    title="Rhode Island: retail promotions above $500",
    message_fr="Promotion en magasin avec plus de 500 $ de lots : déposez la déclaration au "
    "Rhode Island, ou excluez cet État.",
    message_en="In-store promotion with over $500 of prizes: file the Rhode Island statement, "
    "or exclude that state.",
    source="R.I. Gen. Laws 11-50-1 — "
    "http://statutes.laws-info.com/rhode-island/title-11/chapter-11-50/11-50-1",
)
def rhode_island(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses an in-store (retail) promotion open to Rhode Island with more than 500 of
    prizes, unless the statement is filed: chapter 11-50 requires it of retail
    establishments. Whether QR codes in a shop count, and whether the chapter was repealed,
    is UNCERTAIN in the catalogue; we apply it."""
    if (
        contest.in_store_promotion
        and "RI" not in contest.us_states_excluded
        and (contest.usd_prize_value or 0) > RHODE_ISLAND_THRESHOLD
        and not contest.ri_registration_filed
    ):
        yield breach("ri_registration_filed")


@PACK.config(
    "US-AGE-1",
    jurisdiction="US",
    title="Age of majority; COPPA",
    message_fr="Aux États-Unis, l'âge minimum est de 18 ans (majorité) : fixez l'âge minimum à "
    "18 ans ou plus.",
    message_en="In the US the minimum age is 18 (age of majority): set the minimum age to 18 "
    "or more.",
    source="COPPA, 15 U.S.C. 6501-6506 — https://www.thompsoncoburn.com/insights/blogs/"
    "sweepstakes-law/post/2012-02-20/sorry-tweens-no-sweepstakes-or-contests-until-you-re-13",
)
def us_adults_only(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a US contest with no minimum age or one under 18: entrants must be of age.

    Differs from the catalogue: "unless counsel approves" has no fact to express it, so a
    lower age is always refused. The state majority table (AL, NE, DE 19; MS 21) is applied
    at entry rather than warned about here.
    """
    if contest.min_age is None or contest.min_age < US_MAJORITY:
        yield breach("min_age")


@PACK.entry(
    "US-AGE-1",
    jurisdiction="US",
    title="Age of majority; COPPA",
    message_fr="Ce jeu n'est pas ouvert aux moins de 13 ans.",
    message_en="This contest is not open to children under 13.",
    source="COPPA, 15 U.S.C. 6501-6506 — https://www.thompsoncoburn.com/insights/blogs/"
    "sweepstakes-law/post/2012-02-20/sorry-tweens-no-sweepstakes-or-contests-until-you-re-13",
    variants=(
        refuse(
            "majority",
            "Dans l'État {state}, ce jeu est réservé aux personnes d'au moins {age} ans.",
            "In {state}, this contest is open to people aged {age} or over.",
        ),
        refuse(
            "unknown_age",
            "Indiquez votre date de naissance ou confirmez avoir au moins {age} ans.",
            "Give your date of birth or confirm that you are {age} or over.",
        ),
    ),
)
def us_old_enough(contest: ContestFacts, person: PersonFacts, now: datetime) -> Iterator[Breach]:
    """Refuses anyone under 13 in a US contest (COPPA: no data from children without
    verifiable parental consent), and a US resident younger than their state's age of
    majority (AL, NE and DE 19, MS 21).

    Differs from the catalogue: under-13s are refused whatever their declared country (the
    residence cannot be verified). Delaware's 19 is UNCERTAIN in the catalogue; we apply it.
    """
    if person.birth_date is None:
        if not person.age_attested and contest.min_age is None:
            yield breach(
                "birth_date",
                "unknown_age",
                age=minimum_age_for(contest, person.country, person.region),
            )
        return
    age = age_on(person.birth_date, now.date())
    if age < COPPA_AGE:
        yield breach("birth_date")
    elif person.lives_in_us() and person.region and age < us_state_majority(person.region):
        yield breach(
            "birth_date", "majority", state=person.region, age=us_state_majority(person.region)
        )


@PACK.entry(
    "US-GEO-1",
    jurisdiction="US",
    title="Residency and void where prohibited",
    message_fr="Ce jeu n'est pas ouvert aux résidents de l'État {state}.",
    message_en="This contest is void for residents of {state}.",
    source=f"Sweepstakes practice — {PRACTICE}",
    variants=(
        refuse("no_state", "Indiquez votre État de résidence.", "Give your state of residence."),
        refuse(
            "territory",
            "Ce jeu est réservé aux résidents des 50 États et du district de Columbia ({state} "
            "exclu).",
            "This contest is open to residents of the 50 states and DC only ({state} is excluded).",
        ),
    ),
)
def us_resident_eligible(
    contest: ContestFacts, person: PersonFacts, now: datetime
) -> Iterator[Breach]:
    """Refuses a US resident who gives no state, lives outside the 50 states and DC, or
    lives in an excluded state (for instance New York and Florida under US-REG-1)."""
    if not person.lives_in_us():
        return
    if is_missing(person.region):
        yield breach("region", "no_state")
    elif person.region not in US_STATES:
        yield breach("region", "territory", state=person.region or "")
    elif person.region in contest.us_states_excluded:
        yield breach("region", state=person.region)


@PACK.config(
    "US-GIFTCARD-1",
    jurisdiction="US",
    title="Voucher expiry for US winners",
    severity=Severity.WARN,
    message_fr="Bon d'achat du lot {rank} valable {days} jours : aux États-Unis, un bon doit "
    "valoir au moins 5 ans, sauf mention « bon promotionnel » avec sa date d'expiration "
    "(à vérifier avec un conseil).",
    message_en="Voucher prize {rank} is valid {days} days: in the US a voucher must last at "
    'least 5 years unless it is disclosed as a "promotional voucher" showing its expiry date '
    "(check with counsel).",
    source="CARD Act; Regulation E, 12 CFR 1005.20 — http://edocket.access.gpo.gov/2010/2010-6759.htm",
)
def gift_card_expiry(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Warns about a voucher valid less than five years in a US contest: store gift
    certificates may not expire sooner under the CARD Act, unless the promotional exclusion
    applies (UNCERTAIN).

    Differs from the catalogue: a warning, not a requirement, since the "promotional voucher"
    disclosure cannot be expressed in the facts.
    """
    for index, prize in enumerate(contest.prizes):
        days = prize.voucher_validity_days
        if prize.is_voucher and days is not None and 0 < days < GIFT_CARD_MIN_DAYS:
            yield breach(f"prizes[{index}].voucher_validity_days", rank=prize.rank, days=days)


@PACK.config(
    "US-TAX-1",
    jurisdiction="US",
    title="Tax paperwork for prizes of $600 or more",
    severity=Severity.WARN,
    message_fr="Lot {rank} d'au moins 600 $ : le gagnant américain fournira un formulaire W-9 "
    "et le règlement doit dire que les impôts sont à sa charge.",
    message_en="Prize {rank} is worth $600 or more: a US winner will provide a W-9 and the "
    "rules must say the winner pays the taxes.",
    source="IRS Form 1099-MISC — https://mardenkane.com/articles/4197/sweepstakes-winners-w-9s-1099s",
)
def tax_paperwork(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Warns for each prize worth 600 or more in a US contest: the sponsor needs a W-9 and
    files a 1099-MISC.

    Differs from the catalogue: the per-winner yearly total is not known at configuration;
    the claim flow asks for the form.
    """
    for index, prize in enumerate(contest.prizes):
        if prize.unit_value is not None and prize.unit_value >= TAX_FORM_THRESHOLD:
            yield breach(f"prizes[{index}].unit_value", rank=prize.rank)


@PACK.config(
    "US-CANSPAM-REFER-1",
    jurisdiction="US",
    title="Rewarding referrals makes the organizer a CAN-SPAM sender",
    severity=Severity.WARN,
    message_fr="Parrainage récompensé aux États-Unis : l'organisateur devient l'expéditeur des "
    "messages partagés ; le texte de partage doit porter son adresse postale et un lien de "
    "désinscription (demandez à un conseil).",
    message_en="Rewarded referral in the US: the organizer becomes the sender of shared "
    "messages; the share text must carry its postal address and an unsubscribe link (ask "
    "counsel).",
    source="FTC CAN-SPAM rule (2008) — "
    "https://www.olshanlaw.com/Advertising-Law-Blog/FTC-Position-Forward-Friend",
)
def referral_sender(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Warns when a US contest rewards referrals or sends invitations: offering entries for
    forwarding "procures" the message, so CAN-SPAM applies to it (UNCERTAIN for mailto:
    shares sent from the participant's own client)."""
    if contest.referral_bonus > 0:
        yield breach("referral_bonus")
    elif contest.platform_invitations:
        yield breach("platform_invitations")


@PACK.config(
    "US-CA-CCPA-1",
    jurisdiction="US-CA",
    title="California: notice of financial incentive",
    message_fr="Entreprise soumise au CCPA : ajoutez l'avis d'incitation financière (Notice of "
    "Financial Incentive) pour la Californie, ou excluez cet État.",
    message_en="CCPA-covered business: add the Notice of Financial Incentive for California, "
    "or exclude that state.",
    source="Cal. Civ. Code 1798.125(b); CCPA regulations §7016 — "
    "https://privacyforge.ai/glossary/notice-of-financial-incentive",
)
def ccpa_notice(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses a contest open to Californians, run by a CCPA-covered organizer, without the
    Notice of Financial Incentive: an entry traded for personal data may be an incentive
    (UNCERTAIN in the catalogue; we take the cautious reading)."""
    if (
        contest.ccpa_covered
        and "CA" not in contest.us_states_excluded
        and is_missing(contest.ccpa_incentive_notice)
    ):
        yield breach("ccpa_incentive_notice")
