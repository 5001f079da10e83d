"""The engine's behaviour through the public API: packs, verdicts, messages, moments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

import rules
from rules import (
    NO_PURCHASE_EN,
    NO_PURCHASE_FR,
    PROSPECT_SENTENCE_EN,
    PROSPECT_SENTENCE_FR,
    US_NO_PURCHASE_BLOCK,
    ContestFacts,
    Finding,
    Moment,
    Prize,
    Severity,
    Verdict,
    catalogue,
    client_only_notice,
    evaluate_change,
    evaluate_configuration,
    evaluate_draw,
    evaluate_entry,
    minimum_age_for,
    packs_for,
    rules_for,
)
from rules.official import FR_RULES_FIELDS
from tests.rules.rules_examples import (
    AFTER_DRAW,
    CLOSES,
    CUTOFF,
    DRAW,
    NOW,
    OPENS,
    SECOND,
    VOUCHER_20,
    client_contest,
    contest,
    person,
    us_contest,
)


@pytest.mark.parametrize(
    "facts",
    [
        contest(),
        client_contest(),
        us_contest(),
        contest(jurisdictions=frozenset({"DE"}), languages=("de", "en")),
        contest(jurisdictions=frozenset({"EU"})),
    ],
    ids=["FR", "FR clients", "US", "DE", "EU"],
)
def test_compliant_contest_has_no_finding(facts: ContestFacts) -> None:
    assert evaluate_configuration(facts, NOW) == Verdict(())


def test_configuration_returns_every_failure_not_the_first() -> None:
    facts = contest(
        requires_purchase=True,
        purchase_bonus=True,
        organizer_address=None,
        privacy_notice=None,
        languages=("en",),
        consent_fields=(replace(contest().consent_fields[0], pre_ticked=True, required=True),),
    )
    verdict = evaluate_configuration(facts, NOW)
    assert set(verdict.rule_ids) >= {
        "FR-NOPURCHASE-1",
        "ALL-NOPURCHASE-2",
        "FR-RULES-1",
        "FR-LANG-1",
        "EU-CONSENT-ACTIVE-1",
        "EU-CONSENT-FREE-1",
    }
    assert {f.field for f in verdict.for_field("organizer_address")} == {"organizer_address"}
    assert len([f for f in verdict.findings if f.rule_id == "FR-RULES-1"]) == 2


@pytest.mark.parametrize(("name", "label"), FR_RULES_FIELDS, ids=[n for n, _ in FR_RULES_FIELDS])
def test_fr_rules_names_each_missing_field(name: str, label: rules.Localized) -> None:
    empty: object = () if name == "prizes" else None
    verdict = evaluate_configuration(contest(**{name: empty}), NOW)
    (finding,) = [f for f in verdict.findings if f.rule_id == "FR-RULES-1"]
    assert finding.field == name
    assert finding.severity is Severity.REFUSE
    assert label.fr in finding.message_fr and label.en in finding.message_en


def test_findings_follow_catalogue_order() -> None:
    verdict = evaluate_configuration(contest(jurisdictions=frozenset()), NOW)
    ids = [f.rule_id for f in verdict.findings]
    assert ids == sorted(ids)


# --- packs --------------------------------------------------------------------------------


def test_packs_follow_declared_jurisdictions() -> None:
    assert packs_for(["fr"]) == {"ALL", "FR", "EU"}
    assert packs_for({"DE"}) == {"ALL", "DE", "EU"}
    assert packs_for({"US"}) == {"ALL", "US"}
    assert packs_for(()) == {"ALL"}


def test_rules_for_selects_the_packs() -> None:
    def ids(jurisdictions: set[str]) -> set[str]:
        return {rule.id for rule in rules_for(jurisdictions)}

    assert {"FR-LANG-1", "EU-INFO-1", "FR-NOPURCHASE-1"} <= ids({"FR"})
    assert "US-REG-1" not in ids({"FR"})
    assert "EU-INFO-1" in ids({"DE"}) and "FR-LANG-1" not in ids({"DE"})
    assert "EU-INFO-1" not in ids({"US"}) and "US-REG-1" in ids({"US"})
    assert all(rule.pack == "ALL" for rule in rules_for(()))


def test_catalogue_is_sorted_by_id() -> None:
    ids = [rule.id for rule in catalogue()]
    assert ids == sorted(ids)


def test_us_rules_stay_silent_when_the_eu_rules_apply() -> None:
    facts = contest(jurisdictions=frozenset({"FR", "US"}), organizer_address=None)
    ids = [f.rule_id for f in evaluate_configuration(facts, NOW).for_field("organizer_address")]
    assert ids == ["FR-RULES-1"]


# --- messages -----------------------------------------------------------------------------


def test_entry_before_opening_names_the_date_in_both_languages() -> None:
    verdict = evaluate_entry(contest(), person(), OPENS - SECOND)
    (finding,) = verdict.refusals
    assert finding.rule_id == "ALL-DATES-1"
    assert finding.message_fr == "Ce jeu ouvre le 01/03/2025."
    assert finding.message_en == "This contest opens on 01/03/2025."
    assert finding.message("fr-FR") == finding.message_fr
    assert finding.message("de") == finding.message_en


def test_entry_refused_one_second_after_close_names_date_and_time() -> None:
    verdict = evaluate_entry(contest(), person(), CLOSES + SECOND)
    (finding,) = verdict.refusals
    assert finding.message_fr == "Ce jeu est clos depuis le 31/03/2025 à 22:00 UTC."
    assert finding.message_en == "This contest closed on 31/03/2025 at 22:00 UTC."


def test_moment_keeps_the_callers_time_zone() -> None:
    paris = timezone(timedelta(hours=2), "CEST")
    facts = contest(opens_at=datetime(2025, 3, 20, 9, 30, tzinfo=paris))
    (finding,) = evaluate_entry(facts, person(), NOW).refusals
    assert finding.message_fr == "Ce jeu ouvre le 20/03/2025 à 09:30 CEST."


def test_client_refusal_tells_a_prospect_only_the_generic_sentence() -> None:
    (finding,) = evaluate_entry(client_contest(), person(), NOW).refusals
    assert finding.message_fr.endswith(PROSPECT_SENTENCE_FR)
    assert finding.message_en.endswith(PROSPECT_SENTENCE_EN)
    assert "20/02/2025" in finding.message_fr and "20/02/2025" in finding.message_en


def test_late_client_is_refused_with_the_cutoff_date() -> None:
    (finding,) = evaluate_entry(client_contest(), person(client_since=CUTOFF), NOW).refusals
    assert (
        finding.message_fr == "Ce jeu est réservé aux personnes déjà clientes avant le 20/02/2025."
    )
    assert finding.message_en == (
        "This contest is reserved to people who were already clients before 20/02/2025."
    )


def test_amounts_are_written_the_french_and_english_way() -> None:
    prize = replace(contest().prizes[0], voucher_min_order=Decimal("1250.5"))
    (finding,) = [
        f
        for f in evaluate_configuration(contest(prizes=(prize,)), NOW).findings
        if f.variant == "min_order"
    ]
    assert "1 250,50 EUR" in finding.message_fr
    assert "1,250.50 EUR" in finding.message_en


def test_age_refusal_names_the_minimum_age() -> None:
    young = person(birth_date=date(2010, 1, 1))
    (finding,) = evaluate_entry(contest(min_age=21), young, NOW).refusals
    assert finding.message_fr == "Ce jeu est réservé aux personnes âgées d'au moins 21 ans."
    assert finding.message_en == "This contest is open to people aged 21 or over."


def test_display_texts() -> None:
    assert NO_PURCHASE_FR == "Jeu gratuit sans obligation d'achat"
    assert NO_PURCHASE_EN == "No purchase necessary"
    assert US_NO_PURCHASE_BLOCK.startswith("NO PURCHASE NECESSARY.")
    assert PROSPECT_SENTENCE_FR == (
        "En devenant client, vous pourrez participer à nos jeux réservés aux clients."
    )
    assert PROSPECT_SENTENCE_EN == (
        "As a client you will be able to take part in our client-only contests."
    )
    assert client_only_notice(CUTOFF, "fr") == (
        "Réservé aux clients ayant passé commande avant le 20/02/2025"
    )
    assert client_only_notice(CUTOFF, "en") == "Reserved to clients who ordered before 20/02/2025"


# --- entry and draw -----------------------------------------------------------------------


def test_entry_accepted_from_the_opening_second() -> None:
    assert evaluate_entry(contest(), person(), OPENS).ok


def test_entry_accepted_with_attestation_instead_of_birth_date() -> None:
    assert evaluate_entry(contest(), person(birth_date=None, age_attested=True), NOW).ok


def test_entry_birthday_counts_on_the_day() -> None:
    eighteen_today = date(NOW.year - 18, NOW.month, NOW.day)
    assert evaluate_entry(contest(), person(birth_date=eighteen_today), NOW).ok
    day_before = eighteen_today + timedelta(days=1)
    assert not evaluate_entry(contest(), person(birth_date=day_before), NOW).ok


def test_segment_membership_or_orders_suffices() -> None:
    facts = client_contest(audience="segment", segment="loyal", segment_min_orders=5)
    loyal = person(client_since=CUTOFF - SECOND, segments=frozenset({"loyal"}))
    frequent = person(client_since=CUTOFF - SECOND, orders_count=5)
    neither = person(client_since=CUTOFF - SECOND, orders_count=4)
    assert evaluate_entry(facts, loyal, NOW).ok
    assert evaluate_entry(facts, frequent, NOW).ok
    assert not evaluate_entry(facts, neither, NOW).ok


def test_warnings_do_not_block() -> None:
    verdict = evaluate_configuration(contest(retention_months=24), NOW)
    assert verdict.ok and verdict.warnings and not verdict.refusals


def test_minimum_age_for_adds_us_thresholds() -> None:
    assert minimum_age_for(contest(min_age=18), "FR", None) == 18
    assert minimum_age_for(us_contest(min_age=None), None, None) == 13
    assert minimum_age_for(us_contest(), "US", "MS") == 21
    assert minimum_age_for(us_contest(), "FR", "MS") == 18


def test_draw_rechecks_eligibility_but_not_the_entry_window() -> None:
    assert evaluate_draw(contest(), person(), AFTER_DRAW).ok
    assert evaluate_draw(contest(), person(already_entered=True), AFTER_DRAW).ok
    staff = evaluate_draw(contest(), person(is_staff=True), AFTER_DRAW)
    assert staff.rule_ids == ("ALL-ELIGIBILITY-1",)
    late = evaluate_draw(client_contest(), person(client_since=CUTOFF), AFTER_DRAW)
    assert late.rule_ids == ("FR-CLIENTS-1",)


def test_draw_at_the_announced_moment_is_allowed() -> None:
    assert evaluate_draw(contest(), person(), DRAW).ok


# --- change -------------------------------------------------------------------------------


def test_any_change_is_allowed_before_opening() -> None:
    before = contest()
    after = contest(prizes=(), closes_at=OPENS + timedelta(days=1), min_age=21)
    assert evaluate_change(before, after, OPENS - SECOND).findings == ()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prizes": (contest().prizes[0],)}, "prizes"),
        ({"prizes": (contest().prizes[0], replace(VOUCHER_20, unit_value=Decimal(10)))},
         "prizes[1].unit_value"),
        ({"prizes": (contest().prizes[0], replace(VOUCHER_20, kind="goods"))}, "prizes[1].kind"),
        ({"prizes": (contest().prizes[0], replace(VOUCHER_20, voucher_validity_days=100))},
         "prizes[1].voucher_validity_days"),
        ({"prizes": (contest().prizes[0], replace(VOUCHER_20, voucher_min_order=Decimal(5)))},
         "prizes[1].voucher_min_order"),
        ({"opens_at": OPENS + SECOND}, "opens_at"),
        ({"closes_at": None}, "closes_at"),
        ({"claim_days": 10}, "claim_days"),
        ({"min_age": 21}, "min_age"),
        ({"audience": "clients", "client_cutoff_at": CUTOFF}, "audience"),
        ({"jurisdictions": frozenset({"DE"})}, "jurisdictions"),
        ({"us_states_excluded": frozenset({"NY"})}, "us_states_excluded"),
        ({"excluded_email_domains": frozenset({"gmail.com"})}, "excluded_email_domains"),
        ({"entry_channels": ()}, "entry_channels"),
        ({"draw_method": "Premier arrivé"}, "draw_method"),
    ],
)  # fmt: skip
def test_detrimental_change_after_opening_is_refused(
    changes: dict[str, object], field: str
) -> None:
    verdict = evaluate_change(contest(), contest(**changes), NOW)
    assert field in {f.field for f in verdict.refusals}
    assert {f.rule_id for f in verdict.refusals} == {"ALL-RULES-LOCK-1"}


def test_referral_changes_after_opening() -> None:
    before = contest(referral_bonus=2, referral_cap=10)
    lower = evaluate_change(before, replace(before, referral_bonus=1), NOW)
    capped = evaluate_change(before, replace(before, referral_cap=5), NOW)
    raised = evaluate_change(before, replace(before, referral_bonus=3, referral_cap=None), NOW)
    assert [f.field for f in lower.refusals] == ["referral_bonus"]
    assert [f.field for f in capped.refusals] == ["referral_cap"]
    assert raised.findings == ()


def test_segment_tightened_after_opening_is_refused() -> None:
    before = client_contest(audience="segment", segment_min_orders=2)
    after = replace(before, segment_min_orders=3)
    assert [f.field for f in evaluate_change(before, after, NOW).refusals] == ["segment"]


def test_more_prizes_after_opening_are_welcome() -> None:
    extra = Prize(3, "Bon d'achat de 10 €", 10, Decimal(10), voucher_validity_days=365)
    after = contest(prizes=(*contest().prizes, extra), claim_days=60)
    assert evaluate_change(contest(), after, NOW).findings == ()


def test_duplicate_prize_ranks_pair_up_in_order() -> None:
    twins = (VOUCHER_20, replace(VOUCHER_20, quantity=1))
    before = contest(prizes=twins)
    assert evaluate_change(before, before, NOW).findings == ()
    swapped = contest(prizes=tuple(reversed(twins)))
    assert evaluate_change(before, swapped, NOW).refusals


# --- facts --------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2025, 3, 1, tzinfo=UTC).replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        contest(opens_at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_configuration(contest(), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        person(client_since=naive)


def test_facts_are_normalised() -> None:
    facts = contest(jurisdictions=frozenset({" fr"}), languages=("FR",))
    assert facts.jurisdictions == {"FR"} and facts.languages == ("fr",)
    assert person(country="fr", region="ny").country == "FR"


def test_us_registration_counts_euros_one_for_one() -> None:
    euros = (Prize(1, "Voyage", 1, Decimal(5001), "EUR", kind="goods"),)
    verdict = evaluate_configuration(us_contest(prizes=euros), NOW)
    assert "US-REG-1" in verdict.rule_ids


def test_verdict_properties() -> None:
    refuse = Finding("A-1", Severity.REFUSE, "fr", "en", "src", "x")
    warn = Finding("B-1", Severity.WARN, "fr", "en", "src")
    verdict = Verdict((refuse, warn, refuse))
    assert verdict.refusals == (refuse, refuse)
    assert verdict.warnings == (warn,)
    assert not verdict.ok
    assert verdict.rule_ids == ("A-1", "B-1")
    assert verdict.for_field("x") == (refuse, refuse)
    assert Verdict((warn,)).ok and Verdict().ok


def test_public_api_names() -> None:
    for name in (
        "Severity",
        "Moment",
        "Rule",
        "Finding",
        "Verdict",
        "evaluate_configuration",
        "evaluate_entry",
        "evaluate_change",
        "catalogue",
        "rules_for",
        "PROSPECT_SENTENCE_FR",
        "PROSPECT_SENTENCE_EN",
        "NO_PURCHASE_FR",
        "NO_PURCHASE_EN",
    ):
        assert hasattr(rules, name)
    assert {m.name for m in Moment} >= {"CONFIG", "ENTRY", "DRAW"}
    assert {s.name for s in Severity} == {"REFUSE", "WARN"}
