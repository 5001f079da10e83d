"""The registry against the legal rule catalogue: ids, messages, sources, docstrings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from rules import LEFT_OUT, ContestFacts, Pack, Rule, Severity, catalogue
from rules.model import Breach, Situation, Variant, placeholders
from rules.registry import PACK_ORDER, Registry

# Every id of COMPLIANCE.md, section 1.
CATALOGUE_IDS = frozenset(
    """
    FR-NOPURCHASE-1 ALL-NOPURCHASE-2 FR-COSTS-1 FR-CLIENTS-1 FR-CLIENTS-2 FR-MINORS-1
    ALL-ELIGIBILITY-1 FR-LANG-1 FR-RULES-1 ALL-RULES-LOCK-1 EU-PRIZE-AWARD-1 ALL-PRIZE-DESC-1
    US-GIFTCARD-1 FR-DEPOSIT-1 FR-EMAIL-OPTIN-1 EU-CONSENT-FREE-1 EU-CONSENT-ACTIVE-1
    EU-CONSENT-DESIGN-1 EU-CONSENT-SPECIFIC-1 EU-INFO-1 EU-MINIMIZE-1 EU-CONSENT-PROOF-1 DE-DOI-1
    EU-WITHDRAW-1 EU-RIGHTS-1 EU-RETENTION-1 EU-COOKIE-1 EU-WINNERS-PUBLISH-1 EU-ACCOUNT-1
    EU-REFER-NOSEND-1 ALL-REFER-INVITE-1 US-CANSPAM-REFER-1 ALL-REFER-BONUS-1 US-LOTTERY-1
    US-RULES-1 US-REG-1 US-REG-RI-1 US-AGE-1 US-GEO-1 US-TAX-1 US-CANSPAM-1 US-CA-CCPA-1
    ALL-DRAW-POOL-1 ALL-DRAW-RANDOM-1 ALL-DRAW-COMMIT-1 ALL-DRAW-WEIGHTED-1 ALL-DRAW-ORDER-1
    ALL-DRAW-RECORD-1 ALL-DRAW-PRIVACY-1 FR-DRAW-BAILIFF-1
    """.split()
)
PRODUCT_IDS = frozenset({"ALL-DATES-1", "ALL-JURISDICTION-1"})
RULES = catalogue()


def test_the_catalogue_has_fifty_rules() -> None:
    assert len(CATALOGUE_IDS) == 50


def test_every_rule_id_is_a_catalogue_or_product_id() -> None:
    assert {rule.id for rule in RULES} - CATALOGUE_IDS == PRODUCT_IDS


def test_every_catalogue_id_is_implemented_or_left_out_with_a_reason() -> None:
    implemented = {rule.id for rule in RULES} & CATALOGUE_IDS
    left_out = dict(LEFT_OUT)
    assert len(left_out) == len(LEFT_OUT)
    assert implemented.isdisjoint(left_out)
    assert implemented | set(left_out) == CATALOGUE_IDS
    assert all(reason.strip() for reason in left_out.values())


def test_rules_are_unique_per_moment() -> None:
    keys = [(rule.id, rule.moment) for rule in RULES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.id}[{r.moment}]")
def test_rule_is_complete(rule: Rule) -> None:
    assert rule.pack in PACK_ORDER
    assert rule.jurisdiction.strip() and rule.title.strip()
    assert rule.source.strip()
    if rule.id not in PRODUCT_IDS and "Product" not in rule.source:
        assert "http" in rule.source
    for outcome in rule.outcomes:
        assert outcome.message_fr.strip() and outcome.message_en.strip()
        assert outcome.message_fr != outcome.message_en
        assert placeholders(outcome.message_fr) == placeholders(outcome.message_en)
    doc = rule.doc
    assert doc.startswith(("Refuses", "Warns", "Once")), doc[:40]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.id}[{r.moment}]")
def test_rule_jurisdiction_and_moment_are_consistent(rule: Rule) -> None:
    if rule.pack in ("EU", "FR", "US"):
        assert rule.jurisdiction.split("-")[0] in {"EU", "FR", "US"}
    if rule.recheck_at_draw:
        assert rule.moment.value == "entry"


def test_catalogue_messages_are_kept_where_given() -> None:
    messages = {(r.id, o.key): (o.message_fr, o.message_en) for r in RULES for o in r.outcomes}
    assert messages[("FR-NOPURCHASE-1", "")] == (
        "Un jeu ouvert aux prospects ne peut exiger aucun achat ni paiement.",
        "A contest open to prospects cannot require any purchase or payment.",
    )
    assert messages[("ALL-NOPURCHASE-2", "")] == (
        "Les chances supplémentaires ne peuvent pas dépendre d'un achat.",
        "Extra chances cannot depend on a purchase.",
    )
    assert messages[("US-REG-1", "")] == (
        "Lots > 5 000 $ : enregistrement NY/FL requis, ou excluez ces États.",
        "Prizes over $5,000: NY/FL registration required, or exclude those states.",
    )
    assert messages[("EU-CONSENT-FREE-1", "")][1] == (
        "Marketing consent must stay optional: entry cannot depend on it."
    )


def _never(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
    """Refuses nothing."""
    return iter(())


def test_registering_a_rule_twice_at_one_moment_fails() -> None:
    pack = Pack("XX", Registry())

    def register() -> None:
        pack.config(
            "XX-1", jurisdiction="XX", title="t", message_fr="fr", message_en="en", source="s"
        )(_never)

    register()
    with pytest.raises(ValueError, match="already registered"):
        register()


def test_rule_refuses_mismatched_placeholders() -> None:
    with pytest.raises(ValueError, match="placeholders"):
        Rule("XX-1", "XX", "XX", RULES[0].moment, Severity.REFUSE, "t", "{a}", "{b}", "s", _check)


def test_rule_refuses_duplicate_variant_keys() -> None:
    twice = (Variant("v", Severity.WARN, "fr", "en"),) * 2
    with pytest.raises(ValueError, match="variant"):
        Rule(
            "XX-1",
            "XX",
            "XX",
            RULES[0].moment,
            Severity.REFUSE,
            "t",
            "fr",
            "en",
            "s",
            _check,
            twice,
        )


def _check(situation: Situation) -> Iterator[Breach]:
    return iter(())
