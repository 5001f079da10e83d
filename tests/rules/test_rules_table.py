"""One failing and one passing case for every outcome of every rule.

A failing case must produce a finding of that rule and outcome, with both messages filled in
and the rule's source; a passing case must produce no finding of that rule at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rules import (
    AskedQuestion,
    ConsentField,
    ContestFacts,
    Moment,
    PersonFacts,
    Prize,
    Rule,
    Verdict,
    catalogue,
    evaluate_change,
    evaluate_configuration,
    evaluate_draw,
    evaluate_entry,
)
from tests.rules.rules_examples import (
    AFTER_DRAW,
    CLOSES,
    CUTOFF,
    DRAW,
    EMAIL_CONSENT,
    NOW,
    OFFERED,
    OPENS,
    PARTNER_CONSENT,
    SECOND,
    VOUCHER_20,
    VOUCHER_100,
    born_years_before,
    client_contest,
    contest,
    person,
    us_contest,
)


@dataclass(frozen=True)
class Scenario:
    contest: ContestFacts
    person: PersonFacts | None = None
    before: ContestFacts | None = None
    now: datetime = NOW


@dataclass(frozen=True)
class Case:
    rule_id: str
    moment: Moment
    variant: str
    spec: str
    failing: Scenario
    passing: Scenario

    @property
    def name(self) -> str:
        return f"{self.rule_id}[{self.moment}{'/' + self.variant if self.variant else ''}]"


def config(**changes: Any) -> Scenario:
    return Scenario(contest(**changes))


def us(**changes: Any) -> Scenario:
    return Scenario(us_contest(**changes))


def clients(**changes: Any) -> Scenario:
    return Scenario(client_contest(**changes))


def entry(c: ContestFacts | None = None, now: datetime = NOW, **changes: Any) -> Scenario:
    return Scenario(c or contest(), person=person(**changes), now=now)


def at_draw(c: ContestFacts | None = None, now: datetime = AFTER_DRAW, **changes: Any) -> Scenario:
    return Scenario(c or contest(), person=person(**changes), now=now)


def change(before: ContestFacts, now: datetime = NOW, **changes: Any) -> Scenario:
    return Scenario(replace(before, **changes), before=before, now=now)


def consent(**changes: Any) -> tuple[ConsentField, ...]:
    return (replace(EMAIL_CONSENT, **changes),)


def voucher(**changes: Any) -> tuple[Prize, ...]:
    return (replace(VOUCHER_100, **changes),)


def question(text: str, *answers: str, required: bool = False) -> AskedQuestion:
    return AskedQuestion(text, answers or ("Oui", "Non"), required=required)


def us_prizes(total: int) -> tuple[Prize, ...]:
    return (Prize(1, "Trip", 1, Decimal(total), "USD", kind="goods"),)


TODAY = NOW.date()
C, E, D, X = Moment.CONFIG, Moment.ENTRY, Moment.DRAW, Moment.CHANGE
FR_US = frozenset({"FR", "US"})

CASES = [
    # --- ALL pack, configuration
    Case("ALL-JURISDICTION-1", C, "", "no jurisdiction declared",
         config(jurisdictions=frozenset()), config()),
    Case("ALL-JURISDICTION-1", C, "no_pack", "a country without a pack is warned about",
         config(jurisdictions=frozenset({"FR", "GB"})), config(jurisdictions=frozenset({"DE"}))),
    Case("FR-NOPURCHASE-1", C, "", "purchase required while prospects may enter",
         config(requires_purchase=True), config()),
    Case("FR-NOPURCHASE-1", C, "client_purchase", "purchase required on a client-only contest",
         clients(requires_purchase=True), clients()),
    Case("FR-NOPURCHASE-1", C, "paid_channel", "premium-rate SMS entry channel",
         config(entry_channels=("web", "premium_sms")), config(entry_channels=("web", "qr_code"))),
    Case("FR-NOPURCHASE-1", C, "paid_channel", "a paid channel whatever its name",
         config(entry_channels=("web", "audiotel_0899")), config(entry_channels=("web", "post"))),
    Case("ALL-NOPURCHASE-2", C, "", "extra chances for buyers",
         config(purchase_bonus=True), config()),
    Case("ALL-NOPURCHASE-2", C, "", "extra chances for buyers, client-only contest too",
         clients(purchase_bonus=True), clients()),
    Case("ALL-DATES-1", C, "", "opening at the closing",
         config(opens_at=CLOSES), config(opens_at=CLOSES - SECOND)),
    Case("ALL-DATES-1", C, "draw_before_close", "draw one second before the closing",
         config(draw_at=CLOSES - SECOND), config(draw_at=CLOSES)),
    Case("FR-CLIENTS-1", C, "", "client-only without a cutoff",
         clients(client_cutoff_at=None), clients(client_cutoff_at=OFFERED)),
    Case("FR-CLIENTS-1", C, "cutoff_after_offer", "cutoff one second after the offer",
         clients(client_cutoff_at=OFFERED + SECOND), clients(client_cutoff_at=OFFERED)),
    Case("FR-CLIENTS-1", C, "cutoff_after_offer", "not yet offered: cutoff after now",
         clients(offered_at=None, client_cutoff_at=NOW + SECOND),
         clients(offered_at=None, client_cutoff_at=NOW)),
    Case("FR-CLIENTS-1", C, "no_segment_rule", "segment audience without a segment rule",
         config(audience="segment", client_cutoff_at=CUTOFF),
         config(audience="segment", client_cutoff_at=CUTOFF, segment_min_orders=3)),
    Case("FR-CLIENTS-1", C, "unknown_audience", "an audience the rules do not know",
         clients(audience="vip"), clients()),
    Case("FR-CLIENTS-2", C, "", "referral bonus on a client-only contest",
         clients(referral_bonus=1, referral_cap=5), config(referral_bonus=1, referral_cap=5)),
    Case("FR-CLIENTS-2", C, "", "partner links on a client-only contest",
         clients(partner_links=True), config(partner_links=True)),
    Case("FR-CLIENTS-2", C, "", "platform invitations on a client-only contest",
         clients(platform_invitations=True, platform_invitations_override=True),
         clients()),
    Case("ALL-PRIZE-DESC-1", C, "", "prize without value",
         config(prizes=voucher(unit_value=None)), config()),
    Case("ALL-PRIZE-DESC-1", C, "", "goods prize without description or quantity",
         config(prizes=(Prize(1, " ", 0, Decimal(50), kind="goods"),)),
         config(prizes=(Prize(1, "Vélo", 1, Decimal(500), kind="goods"),))),
    Case("ALL-PRIZE-DESC-1", C, "voucher_validity", "voucher without validity",
         config(prizes=voucher(voucher_validity_days=None)), config()),
    Case("ALL-PRIZE-DESC-1", C, "short_validity", "voucher valid 89 days",
         config(prizes=voucher(voucher_validity_days=89)),
         config(prizes=voucher(voucher_validity_days=90))),
    Case("ALL-PRIZE-DESC-1", C, "min_order", "voucher with a minimum order",
         config(prizes=voucher(voucher_min_order=Decimal(50))),
         config(prizes=voucher(voucher_min_order=Decimal(0)))),
    Case("ALL-DRAW-ORDER-1", C, "", "prize ranks with a gap",
         config(prizes=(VOUCHER_100, replace(VOUCHER_20, rank=3))), config()),
    Case("ALL-REFER-BONUS-1", C, "", "referral bonus without a cap",
         config(referral_bonus=2), config(referral_bonus=2, referral_cap=10)),
    Case("ALL-REFER-BONUS-1", C, "", "referral bonus with a zero cap",
         config(referral_bonus=2, referral_cap=0), config(referral_bonus=0, referral_cap=0)),
    Case("ALL-REFER-BONUS-1", C, "negative", "negative referral bonus",
         config(referral_bonus=-1), config(referral_bonus=0)),
    Case("DE-DOI-1", C, "", "double opt-in turned off",
         config(double_opt_in=False), config()),
    # --- EU pack, configuration
    Case("FR-RULES-1", C, "", "rules without the organizer's address",
         config(organizer_address=None), config()),
    Case("FR-RULES-1", C, "", "German contest without a draw method",
         config(jurisdictions=frozenset({"DE"}), draw_method=" "),
         config(jurisdictions=frozenset({"DE"}))),
    Case("FR-MINORS-1", C, "", "no minimum age",
         config(min_age=None), config(min_age=18)),
    Case("FR-MINORS-1", C, "parental", "minors admitted",
         config(min_age=16, consent_fields=()), config(min_age=18)),
    Case("FR-MINORS-1", C, "digital_consent", "under-15s with marketing boxes, birth date asked",
         config(min_age=14, form_fields=("birth_date",)), config(min_age=18)),
    Case("FR-MINORS-1", C, "digital_consent_unknown", "under-15s with boxes, no birth date",
         config(min_age=14), config(min_age=18)),
    Case("FR-MINORS-1", C, "digital_consent_unknown", "Germany's consent age is 16, not 15",
         config(jurisdictions=frozenset({"DE"}), min_age=15),
         config(jurisdictions=frozenset({"DE"}), min_age=18)),
    Case("FR-MINORS-1", C, "digital_consent_unknown", "Belgium's consent age is 13",
         config(jurisdictions=frozenset({"BE"}), min_age=12),
         config(jurisdictions=frozenset({"BE"}), min_age=18)),
    Case("EU-INFO-1", C, "", "no controller contact",
         config(organizer_contact=None), config()),
    Case("EU-INFO-1", C, "", "no retention period",
         config(retention_months=None), config(retention_months=6)),
    Case("EU-RETENTION-1", C, "", "contest data kept two years",
         config(retention_months=24), config(retention_months=12)),
    Case("EU-CONSENT-FREE-1", C, "", "marketing consent required to enter",
         config(consent_fields=consent(required=True)), config(consent_fields=consent())),
    Case("EU-CONSENT-FREE-1", C, "bonus", "extra chances for opting in",
         config(opt_in_bonus=True), config()),
    Case("EU-CONSENT-FREE-1", C, "bundled_rules", "consent mixed with accepting the rules",
         config(rules_acceptance_separate=False), config(rules_acceptance_separate=True)),
    Case("EU-CONSENT-ACTIVE-1", C, "", "pre-ticked consent box",
         config(consent_fields=consent(pre_ticked=True)), config(consent_fields=consent())),
    Case("EU-CONSENT-ACTIVE-1", C, "inverted", "inverted consent wording",
         config(consent_fields=consent(label_fr="Décochez si vous ne souhaitez pas nos offres.")),
         config(consent_fields=consent(label_fr="Je souhaite recevoir vos offres."))),
    Case("EU-CONSENT-SPECIFIC-1", C, "", "organizer and partner consent bundled",
         config(consent_fields=consent(purpose="marketing_email+partners")),
         config(consent_fields=consent(purpose="marketing_email"))),
    Case("EU-CONSENT-SPECIFIC-1", C, "", "e-mail and SMS in one box",
         config(consent_fields=consent(purpose="marketing_email, marketing_sms")),
         config()),
    Case("EU-CONSENT-SPECIFIC-1", C, "", "partners named on the organizer's box",
         config(consent_fields=consent(partners=("Acme",))), config()),
    Case("EU-CONSENT-SPECIFIC-1", C, "unknown", "a purpose with no channel",
         config(consent_fields=consent(purpose="marketing")), config()),
    Case("EU-CONSENT-SPECIFIC-1", C, "no_partners", "partner consent naming no partner",
         config(consent_fields=(replace(PARTNER_CONSENT, partners=()),)),
         config(consent_fields=(PARTNER_CONSENT,))),
    Case("EU-CONSENT-DESIGN-1", C, "", "consent box without its English label",
         config(consent_fields=consent(label_en="")),
         config(languages=("fr",), consent_fields=consent(label_en=""))),
    Case("EU-MINIMIZE-1", C, "", "phone number mandatory",
         config(form_fields=("phone",), mandatory_fields=("email", "phone")),
         config(form_fields=("phone",), mandatory_fields=("email", "birth_date"))),
    Case("EU-MINIMIZE-1", C, "too_many", "five fields besides the e-mail",
         config(form_fields=("first_name", "last_name", "postcode", "phone", "interest")),
         config(form_fields=("email", "first_name", "last_name", "postcode", "interest"))),
    Case("EU-MINIMIZE-1", C, "special_category", "asking about health",
         config(form_fields=("health",)), config(form_fields=("interest",))),
    Case("EU-MINIMIZE-1", C, "", "a qualifying question required to enter",
         config(questions=(question("Votre type de peau ?", required=True),)),
         config(questions=(question("Votre type de peau ?"),))),
    Case("EU-MINIMIZE-1", C, "sensitive_question", "a question about health",
         config(questions=(question("Avez-vous un problème de santé ?"),)),
         config(questions=(question("Avez-vous lu notre politique de retour ?"),))),
    Case("EU-MINIMIZE-1", C, "sensitive_question", "an answer naming a religion",
         config(questions=(question("Which day do you shop?", "Church day", "Any day"),)),
         config(questions=(question("Which day do you shop?", "Saturday", "Any day"),))),
    Case("EU-REFER-NOSEND-1", C, "", "platform invitations in the EU",
         config(platform_invitations=True),
         config(platform_invitations=True, platform_invitations_override=True)),
    Case("EU-PRIZE-AWARD-1", C, "", "no prize at all",
         config(prizes=()), config()),
    Case("EU-PRIZE-AWARD-1", C, "already_won", "title says you have won",
         config(title="Bravo, vous avez gagné un bon d'achat !"),
         config(title="You won't believe these prizes")),
    Case("EU-PRIZE-AWARD-1", C, "already_won", "prize says you've won",
         config(prizes=voucher(description="You’ve won a voucher")), config()),
    Case("EU-PRIZE-AWARD-1", C, "already_won", "description congratulates a winner",
         config(description="Félicitations, vous avez gagné !"),
         config(description="Tentez de gagner un bon d'achat.")),
    Case("EU-PRIZE-AWARD-1", C, "already_won", "vous avez remporté",
         config(title="Vous avez remporté un bon de 50 €"),
         config(title="Un bon de 50 € à remporter")),
    Case("EU-PRIZE-AWARD-1", C, "already_won", "the lucky winner is you",
         config(description="Vous êtes l'heureux gagnant de notre jeu !"),
         config(description="Le tirage désignera l'heureux gagnant.")),
    Case("EU-PRIZE-AWARD-1", C, "already_won", "English translation says you're a winner",
         config(title_translation="You're a winner!"),
         config(title_translation="Will you be our winner?")),
    # --- FR pack
    Case("FR-COSTS-1", C, "", "premium-rate phone entry",
         config(entry_channels=("premium_phone",)), config(entry_channels=("web", "email"))),
    Case("FR-COSTS-1", C, "reimbursement", "reimbursement offered without its terms",
         config(cost_reimbursement=True, reimbursement_address="1 rue de la Paix, Paris"),
         config(cost_reimbursement=True, reimbursement_address="1 rue de la Paix, Paris",
                reimbursement_days=30, reimbursement_basis="Le timbre au tarif lent.")),
    Case("FR-LANG-1", C, "", "French contest in English only",
         config(languages=("en",)), config(languages=("fr-FR",))),
    # --- US pack
    Case("US-LOTTERY-1", C, "", "client-only US contest",
         Scenario(us_contest(audience="clients", client_cutoff_at=CUTOFF)), us()),
    Case("US-RULES-1", C, "", "US rules without the sponsor's address",
         us(organizer_address=None), config(jurisdictions=FR_US, organizer_address=None)),
    Case("US-REG-1", C, "", "6,000 of prizes, NY and FL neither excluded nor registered",
         us(prizes=us_prizes(6000)),
         us(prizes=us_prizes(6000), us_states_excluded=frozenset({"NY", "FL"}))),
    Case("US-REG-1", C, "", "Florida excluded, New York still open",
         us(prizes=us_prizes(6000), us_states_excluded=frozenset({"FL"})),
         us(prizes=us_prizes(5000))),
    Case("US-REG-1", C, "usd_value", "4,999 KWD of prizes, no dollar value declared",
         us(prizes=(Prize(1, "Voucher", 1, Decimal(4999), "KWD"),)),
         us(prizes=(Prize(1, "Voucher", 1, Decimal(4999), "KWD"),),
            prizes_value_usd=Decimal(16000), us_states_excluded=frozenset({"NY", "FL"}))),
    Case("US-REG-1", C, "", "4,999 KWD declared as $16,000: over the threshold",
         us(prizes=(Prize(1, "Voucher", 1, Decimal(4999), "KWD"),),
            prizes_value_usd=Decimal(16000)),
         us(prizes=(Prize(1, "Voucher", 1, Decimal(4999), "EUR"),),
            prizes_value_usd=Decimal(4900))),
    Case("US-REG-1", C, "filing_date", "registration declared without dates",
         us(prizes=us_prizes(6000), us_registration_filed=True),
         us(prizes=us_prizes(6000), us_registration_filed=True,
            ny_filing_date=date(2025, 1, 30), fl_filing_date=date(2025, 2, 22))),
    Case("US-REG-1", C, "filing_late", "New York filed 29 days before the start",
         us(prizes=us_prizes(6000), us_registration_filed=True,
            ny_filing_date=date(2025, 1, 31), fl_filing_date=date(2025, 2, 22)),
         us(prizes=us_prizes(6000), us_registration_filed=True,
            ny_filing_date=date(2025, 1, 30), fl_filing_date=date(2025, 2, 22))),
    Case("US-REG-RI-1", C, "", "in-store promotion with 600 of prizes",
         us(prizes=us_prizes(600), in_store_promotion=True),
         us(prizes=us_prizes(600), in_store_promotion=True,
            us_states_excluded=frozenset({"RI"}))),
    Case("US-AGE-1", C, "", "US contest open from 16",
         us(min_age=16), us(min_age=18)),
    Case("US-GIFTCARD-1", C, "", "US voucher valid one year",
         us(prizes=voucher(voucher_validity_days=365)),
         us(prizes=voucher(voucher_validity_days=1826))),
    Case("US-TAX-1", C, "", "a 600 prize in the US",
         us(prizes=us_prizes(600)), us(prizes=us_prizes(599))),
    Case("US-CANSPAM-REFER-1", C, "", "rewarded referral in the US",
         us(referral_bonus=1, referral_cap=5), us()),
    Case("US-CA-CCPA-1", C, "", "CCPA-covered organizer without the incentive notice",
         us(ccpa_covered=True), us(ccpa_covered=True, ccpa_incentive_notice="Notice...")),
    # --- entry
    Case("ALL-DATES-1", E, "", "entry one second before the opening",
         entry(now=OPENS - SECOND), entry(now=OPENS)),
    Case("ALL-DATES-1", E, "closed", "entry at the closing",
         entry(now=CLOSES), entry(now=CLOSES - SECOND)),
    Case("ALL-DATES-1", E, "unscheduled", "entry into a contest with no opening date",
         entry(contest(opens_at=None)), entry()),
    Case("FR-CLIENTS-1", E, "", "client since the cutoff",
         entry(client_contest(), client_since=CUTOFF),
         entry(client_contest(), client_since=CUTOFF - SECOND)),
    Case("FR-CLIENTS-1", E, "", "without a cutoff the offer date is the cutoff",
         entry(client_contest(client_cutoff_at=None), client_since=OFFERED),
         entry(client_contest(client_cutoff_at=None), client_since=OFFERED - SECOND)),
    Case("FR-CLIENTS-1", E, "prospect", "a prospect at a client-only contest",
         entry(client_contest()), entry(contest())),
    Case("FR-CLIENTS-1", E, "segment", "client with too few orders",
         entry(client_contest(audience="segment", segment_min_orders=3),
               client_since=CUTOFF - SECOND, orders_count=2),
         entry(client_contest(audience="segment", segment_min_orders=3),
               client_since=CUTOFF - SECOND, orders_count=3)),
    Case("FR-CLIENTS-1", E, "segment", "client outside the named segment",
         entry(client_contest(audience="segment", segment="loyal"),
               client_since=CUTOFF - SECOND, segments=frozenset({"new"})),
         entry(client_contest(audience="segment", segment="loyal"),
               client_since=CUTOFF - SECOND, segments=frozenset({"loyal"}))),
    Case("FR-CLIENTS-1", E, "no_cutoff", "client-only contest with no cutoff and no offer",
         entry(client_contest(client_cutoff_at=None, offered_at=None),
               client_since=CUTOFF - SECOND),
         entry(client_contest(), client_since=CUTOFF - SECOND)),
    Case("FR-MINORS-1", E, "", "one day short of 18",
         entry(birth_date=born_years_before(TODAY, 18) + timedelta(days=1)),
         entry(birth_date=born_years_before(TODAY, 18))),
    Case("FR-MINORS-1", E, "unknown_age", "neither birth date nor attestation",
         entry(birth_date=None), entry(birth_date=None, age_attested=True)),
    Case("FR-MINORS-1", E, "consent_age", "a 14-year-old ticks the offers box in France",
         entry(contest(min_age=13), birth_date=born_years_before(TODAY, 14),
               marketing_consent=True),
         entry(contest(min_age=13), birth_date=born_years_before(TODAY, 14))),
    Case("ALL-ELIGIBILITY-1", E, "", "staff member",
         entry(is_staff=True), entry()),
    Case("ALL-ELIGIBILITY-1", E, "excluded_domain", "e-mail at an excluded domain",
         entry(contest(excluded_email_domains=frozenset({"@Mail.example"}))),
         entry(contest(excluded_email_domains=frozenset({"boutique.example"})))),
    Case("ALL-ELIGIBILITY-1", E, "territory", "US resident at a French contest",
         entry(country="US"), entry(contest(jurisdictions=frozenset({"EU"})), country="DE")),
    Case("ALL-ELIGIBILITY-1", E, "duplicate", "second entry",
         entry(already_entered=True), entry()),
    Case("US-AGE-1", E, "", "a 12-year-old at a US contest",
         entry(us_contest(min_age=18), country="US", region="CA",
               birth_date=born_years_before(TODAY, 12)),
         entry(us_contest(min_age=18), country="US", region="CA")),
    Case("US-AGE-1", E, "majority", "an 18-year-old Alabaman",
         entry(us_contest(), country="US", region="AL", birth_date=born_years_before(TODAY, 18)),
         entry(us_contest(), country="US", region="AL", birth_date=born_years_before(TODAY, 19))),
    Case("US-AGE-1", E, "unknown_age", "no age given, no minimum age set",
         entry(us_contest(min_age=None), country="US", region="CA", birth_date=None),
         entry(us_contest(min_age=None), country="US", region="CA", birth_date=None,
               age_attested=True)),
    Case("US-GEO-1", E, "", "New York resident, New York excluded",
         entry(us_contest(us_states_excluded=frozenset({"NY"})), country="US", region="ny"),
         entry(us_contest(us_states_excluded=frozenset({"NY"})), country="US", region="CA")),
    Case("US-GEO-1", E, "no_state", "US resident without a state",
         entry(us_contest(), country="US", region=None),
         entry(us_contest(), country="US", region="CA")),
    Case("US-GEO-1", E, "territory", "Puerto Rico resident",
         entry(us_contest(), country="US", region="PR"),
         entry(us_contest(), country="US", region="DC")),
    # --- draw
    Case("DE-DOI-1", D, "", "unconfirmed entry at the draw",
         at_draw(confirmed=False), at_draw(confirmed=True)),
    Case("ALL-DRAW-POOL-1", D, "", "draw one second before the closing",
         at_draw(now=CLOSES - SECOND), at_draw(now=DRAW)),
    Case("ALL-DRAW-POOL-1", D, "before_draw_at", "draw before the announced date",
         at_draw(now=DRAW - SECOND), at_draw(now=DRAW)),
    Case("ALL-DRAW-POOL-1", D, "unscheduled", "draw of a contest with no closing",
         at_draw(contest(closes_at=None)), at_draw()),
    # --- change
    Case("ALL-RULES-LOCK-1", X, "", "fewer prizes once open",
         change(contest(), prizes=(VOUCHER_100, replace(VOUCHER_20, quantity=4))),
         change(contest(), prizes=(VOUCHER_100, replace(VOUCHER_20, quantity=6)))),
    Case("ALL-RULES-LOCK-1", X, "", "closing brought forward once open",
         change(contest(), closes_at=CLOSES - SECOND),
         change(contest(), now=OPENS - SECOND, closes_at=CLOSES - SECOND)),
    Case("ALL-RULES-LOCK-1", X, "extended", "closing postponed once open",
         change(contest(), closes_at=CLOSES + timedelta(days=7), draw_at=DRAW + timedelta(days=7)),
         change(contest(), now=OPENS - SECOND, closes_at=CLOSES + timedelta(days=7))),
    Case("ALL-RULES-LOCK-1", X, "cutoff_moved", "cutoff moved once offered",
         change(client_contest(), now=OFFERED, client_cutoff_at=CUTOFF + SECOND),
         change(client_contest(), now=OFFERED - SECOND, client_cutoff_at=CUTOFF + SECOND)),
]  # fmt: skip


def run(moment: Moment, scenario: Scenario) -> Verdict:
    if moment is Moment.CONFIG:
        return evaluate_configuration(scenario.contest, scenario.now)
    if moment is Moment.CHANGE:
        assert scenario.before is not None
        return evaluate_change(scenario.before, scenario.contest, scenario.now)
    assert scenario.person is not None
    evaluate = evaluate_entry if moment is Moment.ENTRY else evaluate_draw
    return evaluate(scenario.contest, scenario.person, scenario.now)


def rule(rule_id: str, moment: Moment) -> Rule:
    (found,) = [r for r in catalogue() if r.id == rule_id and r.moment is moment]
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}: {c.spec}")
def test_failing_case_is_found(case: Case) -> None:
    verdict = run(case.moment, case.failing)
    expected = rule(case.rule_id, case.moment)
    matching = [
        f for f in verdict.findings if (f.rule_id, f.variant) == (case.rule_id, case.variant)
    ]
    assert matching, f"{case.name} not found in {verdict.rule_ids}"
    for finding in matching:
        assert finding.severity is expected.outcome(case.variant).severity
        assert finding.message_fr.strip() and finding.message_en.strip()
        assert "{" not in finding.message_fr + finding.message_en
        assert finding.message_fr != finding.message_en
        assert finding.source == expected.source and finding.source.strip()
        assert finding.message("fr") == finding.message_fr
        assert finding.message("en") == finding.message_en


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}: {c.spec}")
def test_passing_case_is_silent(case: Case) -> None:
    verdict = run(case.moment, case.passing)
    assert case.rule_id not in verdict.rule_ids, verdict.findings


def test_every_outcome_of_every_rule_has_a_case() -> None:
    covered = {(c.rule_id, c.moment, c.variant) for c in CASES}
    outcomes = {(r.id, r.moment, o.key) for r in catalogue() for o in r.outcomes}
    assert outcomes - covered == set()
    assert covered - outcomes == set()
