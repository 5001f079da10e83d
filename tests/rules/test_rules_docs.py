"""docs/compliance.md is generated from the registry and must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import LEFT_OUT, catalogue
from rules.docs import app_tests, main, render_compliance_markdown

COMPLIANCE_MD = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"


def test_docs_compliance_md_is_up_to_date() -> None:
    assert COMPLIANCE_MD.read_text(encoding="utf-8") == render_compliance_markdown(), (
        "docs/compliance.md is stale: run `python -m rules.docs`"
    )


def test_document_lists_every_rule_outcome_and_gap() -> None:
    text = render_compliance_markdown()
    for rule in catalogue():
        for outcome in rule.outcomes:
            assert " ".join(outcome.message_en.split()).replace("|", "\\|") in text
        if rule.differences:
            assert rule.differences in text
    for rule_id, _ in LEFT_OUT:
        assert f"- `{rule_id}`:" in text


def test_main_writes_the_document_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    assert (tmp_path / "docs" / "compliance.md").read_text(encoding="utf-8") == (
        render_compliance_markdown()
    )
    assert main([str(tmp_path / "other.md")]) == 0
    assert (tmp_path / "other.md").exists()


def test_every_rule_has_an_app_level_test() -> None:
    """A rule the app never feeds is a promise the product does not keep: each rule id has a
    test through a page, the API, the command line or the worker (``pytest.mark.rule``)."""
    tested = app_tests()
    missing = sorted({rule.id for rule in catalogue()} - set(tested))
    assert missing == [], f"rules with no app-level test: {missing}"
    unknown = sorted(set(tested) - {rule.id for rule in catalogue()})
    assert unknown == [], f"tests marked with ids that are not rules: {unknown}"
    assert all(not name.startswith("tests/rules/") for names in tested.values() for name in names)
