"""Run the rules: facts and a moment in, a verdict out.

Every function takes the time ``now`` (timezone-aware) from the caller and reads no clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

import rules.packs  # noqa: F401  (registers every rule)
from rules.facts import ContestFacts, PersonFacts
from rules.model import Finding, Moment, Rule, Situation, Verdict
from rules.registry import REGISTRY, packs_for


def catalogue() -> tuple[Rule, ...]:
    """Every registered rule, sorted by id (then moment)."""
    return REGISTRY.rules()


def rules_for(jurisdictions: Iterable[str]) -> tuple[Rule, ...]:
    """The rules of the packs that apply to a contest running in ``jurisdictions``."""
    return REGISTRY.selected(packs_for(jurisdictions))


def evaluate_configuration(contest: ContestFacts, now: datetime) -> Verdict:
    """Every configuration rule of the packs that apply; all findings, not the first."""
    return _run(contest, Moment.CONFIG, Situation(contest, _aware(now)))


def evaluate_entry(contest: ContestFacts, person: PersonFacts, now: datetime) -> Verdict:
    """The entry rules: window, age, territory, client-only eligibility, exclusions, one
    entry per person."""
    return _run(contest, Moment.ENTRY, Situation(contest, _aware(now), person=person))


def evaluate_draw(contest: ContestFacts, person: PersonFacts, now: datetime) -> Verdict:
    """One entry of the draw pool: the draw rules (closed, confirmed) and the entry rules
    re-checked at draw time (age, territory, client-only eligibility, exclusions).

    ``already_entered`` is ignored here: at draw time the person's own entry is in the pool,
    and duplicates are the pool's to remove.
    """
    situation = Situation(
        contest, _aware(now), person=dataclasses.replace(person, already_entered=False)
    )
    findings = [
        finding
        for rule in rules_for(contest.jurisdictions)
        if rule.moment is Moment.DRAW or (rule.moment is Moment.ENTRY and rule.recheck_at_draw)
        for finding in rule.findings(situation)
    ]
    return Verdict(tuple(findings))


def evaluate_change(before: ContestFacts, after: ContestFacts, now: datetime) -> Verdict:
    """The change rules (ALL-RULES-LOCK-1) for a configuration going from ``before`` to
    ``after``. The new configuration itself is judged by evaluate_configuration."""
    situation = Situation(after, _aware(now), before=before)
    jurisdictions = before.jurisdictions | after.jurisdictions
    return Verdict(_findings(rules_for(jurisdictions), Moment.CHANGE, situation))


def _run(contest: ContestFacts, moment: Moment, situation: Situation) -> Verdict:
    rules = REGISTRY.selected(packs_for(contest.jurisdictions), moment)
    return Verdict(tuple(finding for rule in rules for finding in rule.findings(situation)))


def _findings(rules: Iterable[Rule], moment: Moment, situation: Situation) -> tuple[Finding, ...]:
    return tuple(
        finding for rule in rules if rule.moment is moment for finding in rule.findings(situation)
    )


def _aware(now: datetime) -> datetime:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now
