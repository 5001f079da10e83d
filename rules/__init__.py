"""The legal rules engine: facts in, a verdict out.

Pure Python, standard library only: no I/O, no database, no clock (callers pass ``now``).
Rules are registered by jurisdiction pack (rules/packs/); docs/compliance.md is generated
from them by ``python -m rules.docs``.
"""

from rules.ages import US_STATES, age_on, minimum_age_for
from rules.engine import (
    catalogue,
    evaluate_change,
    evaluate_configuration,
    evaluate_draw,
    evaluate_entry,
    rules_for,
)
from rules.facts import AskedQuestion, ConsentField, ContestFacts, PersonFacts, Prize
from rules.left_out import LEFT_OUT
from rules.model import Finding, Localized, Moment, Rule, Severity, Variant, Verdict
from rules.refusal import Refusal
from rules.registry import Pack, packs_for
from rules.texts import (
    NO_PURCHASE_EN,
    NO_PURCHASE_FR,
    PROSPECT_SENTENCE_EN,
    PROSPECT_SENTENCE_FR,
    SHARE_SENTENCE_EN,
    SHARE_SENTENCE_FR,
    US_NO_PURCHASE_BLOCK,
    client_only_notice,
)

__all__ = [
    "LEFT_OUT",
    "NO_PURCHASE_EN",
    "NO_PURCHASE_FR",
    "PROSPECT_SENTENCE_EN",
    "PROSPECT_SENTENCE_FR",
    "SHARE_SENTENCE_EN",
    "SHARE_SENTENCE_FR",
    "US_STATES",
    "US_NO_PURCHASE_BLOCK",
    "AskedQuestion",
    "ConsentField",
    "ContestFacts",
    "Finding",
    "Localized",
    "Moment",
    "Pack",
    "PersonFacts",
    "Prize",
    "Refusal",
    "Rule",
    "Severity",
    "Variant",
    "Verdict",
    "age_on",
    "catalogue",
    "client_only_notice",
    "evaluate_change",
    "evaluate_configuration",
    "evaluate_draw",
    "evaluate_entry",
    "minimum_age_for",
    "packs_for",
    "rules_for",
]
