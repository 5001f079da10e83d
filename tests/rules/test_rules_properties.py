"""Properties that must hold for any facts, checked with Hypothesis (deterministic profile)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rules import (
    ContestFacts,
    PersonFacts,
    Severity,
    Verdict,
    age_on,
    catalogue,
    evaluate_change,
    evaluate_configuration,
    evaluate_draw,
    evaluate_entry,
)
from tests.rules.rules_examples import NOW
from tests.rules.strategies import contests, entry_scenarios, moments, people

RULES = settings.get_profile("rules")
CATALOGUE_IDS = frozenset(rule.id for rule in catalogue())


def assert_well_formed(verdict: Verdict) -> None:
    for finding in verdict.findings:
        assert finding.rule_id in CATALOGUE_IDS
        assert finding.message_fr.strip() and finding.message_en.strip()
        assert "{" not in finding.message_fr + finding.message_en
        assert finding.source.strip()
    assert verdict.ok == all(f.severity is Severity.WARN for f in verdict.findings)


@RULES
@given(contests())
def test_prospects_are_never_asked_to_buy(contest: ContestFacts) -> None:
    contest = replace(contest, audience="everyone", requires_purchase=True)
    verdict = evaluate_configuration(contest, NOW)
    assert not verdict.ok
    assert "FR-NOPURCHASE-1" in {f.rule_id for f in verdict.refusals}


@RULES
@given(contests(), people(), moments())
def test_every_refusal_names_a_catalogue_rule(
    contest: ContestFacts, person: PersonFacts, now: datetime
) -> None:
    for verdict in (
        evaluate_configuration(contest, now),
        evaluate_entry(contest, person, now),
        evaluate_draw(contest, person, now),
    ):
        assert_well_formed(verdict)
        assert all(f.rule_id in CATALOGUE_IDS for f in verdict.refusals)


@RULES
@given(contests(), contests(), moments())
def test_every_change_verdict_names_catalogue_rules(
    before: ContestFacts, after: ContestFacts, now: datetime
) -> None:
    assert_well_formed(evaluate_change(before, after, now))


@RULES
@given(contests(), moments())
def test_changing_nothing_is_always_allowed(contest: ContestFacts, now: datetime) -> None:
    assert evaluate_change(contest, contest, now).findings == ()


@RULES
@given(entry_scenarios())
def test_entry_never_accepts_anyone_under_the_minimum_age(
    scenario: tuple[ContestFacts, PersonFacts],
) -> None:
    contest, person = scenario
    for verdict in (evaluate_entry(contest, person, NOW), evaluate_draw(contest, person, NOW)):
        if verdict.ok and contest.min_age is not None:
            if person.birth_date is None:
                assert person.age_attested
            else:
                assert age_on(person.birth_date, NOW.date()) >= contest.min_age


@RULES
@given(entry_scenarios())
def test_client_only_contest_never_accepts_a_client_from_the_cutoff_on(
    scenario: tuple[ContestFacts, PersonFacts],
) -> None:
    contest, person = scenario
    for verdict in (evaluate_entry(contest, person, NOW), evaluate_draw(contest, person, NOW)):
        if verdict.ok and contest.audience != "everyone":
            cutoff = contest.client_cutoff_at or contest.offered_at
            assert cutoff is not None and person.client_since is not None
            assert person.client_since < cutoff


@RULES
@given(entry_scenarios())
def test_us_contest_never_accepts_a_child_under_13(
    scenario: tuple[ContestFacts, PersonFacts],
) -> None:
    contest, person = scenario
    contest = replace(contest, jurisdictions=contest.jurisdictions | {"US"}, min_age=None)
    if evaluate_entry(contest, person, NOW).ok and person.birth_date is not None:
        assert age_on(person.birth_date, NOW.date()) >= 13


def test_entry_scenarios_produce_acceptances_and_refusals() -> None:
    """The entry properties above are not vacuous: some scenarios are accepted."""
    outcomes: list[tuple[bool, bool, bool]] = []

    @RULES
    @given(entry_scenarios())
    def collect(scenario: tuple[ContestFacts, PersonFacts]) -> None:
        contest, person = scenario
        ok = evaluate_entry(contest, person, NOW).ok
        outcomes.append((ok, contest.audience != "everyone", contest.min_age is not None))

    collect()
    assert any(ok for ok, _, _ in outcomes)
    assert any(not ok for ok, _, _ in outcomes)
    assert any(ok and client_only for ok, client_only, _ in outcomes)
    assert any(ok and has_age for ok, _, has_age in outcomes)


@RULES
@given(st.dates(max_value=date(2100, 1, 1)), st.integers(0, 120), st.integers(-400, 400))
def test_age_counts_whole_years_completed(born: date, years: int, offset: int) -> None:
    day = born + timedelta(days=offset)
    if day >= born:
        assert age_on(born, day) == max(n for n in range(0, 130) if _anniversary(born, n) <= day)


def _anniversary(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year: the birthday comes on 1 March
        return date(born.year + years, 3, 1)
