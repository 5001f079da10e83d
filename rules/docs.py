"""docs/compliance.md, generated from the rule registry.

``python -m rules.docs [PATH]`` writes it (default ``docs/compliance.md`` under the current
directory); a test fails when the committed file is stale.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from rules.engine import catalogue
from rules.left_out import LEFT_OUT
from rules.model import Moment, Rule
from rules.registry import PACK_ORDER
from rules.texts import (
    NO_PURCHASE_EN,
    NO_PURCHASE_FR,
    PROSPECT_SENTENCE_EN,
    PROSPECT_SENTENCE_FR,
    SHARE_SENTENCE_EN,
    SHARE_SENTENCE_FR,
    US_NO_PURCHASE_BLOCK,
)

DEFAULT_PATH = Path("docs") / "compliance.md"
# The project's tests, beside this package: app-level tests carry ``@pytest.mark.rule(id)``.
TESTS_ROOT = Path(__file__).resolve().parents[1] / "tests"
# Tests that call the engine directly: they check each rule's cases, not that the app feeds it.
ENGINE_TESTS = "rules"
PACK_HEADINGS = {
    "ALL": "ALL: every contest",
    "EU": 'EU: contests in an EU member state (FR, DE, ...) or declared "EU"',
    "FR": "FR: contests in France",
    "US": "US: contests open to US residents",
}

INTRODUCTION = """\
# Compliance: the rules the platform enforces

Generated from the rule registry (`rules/packs/`) by `python -m rules.docs`; do not edit by
hand. Each rule id is the legal rule catalogue's id (COMPLIANCE.md), except the ids marked
"product policy". This is engineering, not legal advice.

How to read the tables:
- **Pack**: ALL rules apply to every contest; the EU pack applies when an EU member state
  (or "EU") is declared; the FR and US packs when that country is declared. A rule's pack
  may differ from the country in its id (FR-NOPURCHASE-1 applies everywhere).
- **Moment**: `config` (configuring or publishing a contest), `entry` (a person enters),
  `draw` (each entry of the draw pool), `change` (a configuration changes);
  `entry, draw` means the entry rule is checked again at draw time.
- **Severity**: `refuse` blocks the action; `warn` lets it through with the message.
- One row per outcome: the rule's main message, then its variants (named in brackets).
  `{placeholders}` are filled in from the facts; dates read DD/MM/YYYY in both languages.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _moment(rule: Rule) -> str:
    if rule.moment is Moment.ENTRY and rule.recheck_at_draw:
        return "entry, draw"
    return str(rule.moment)


def _table(rules: Sequence[Rule]) -> list[str]:
    lines = [
        "| id | jurisdiction | moment | severity | message FR | message EN | source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rule in rules:
        for outcome in rule.outcomes:
            name = f"`{rule.id}`" + (f" [{outcome.key}]" if outcome.key else "")
            cells = (
                name,
                rule.jurisdiction,
                _moment(rule),
                str(outcome.severity),
                outcome.message_fr,
                outcome.message_en,
                rule.source,
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _rule_marks(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[str]:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.rule":
            for arg in decorator.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.value


def app_tests(root: Path = TESTS_ROOT) -> dict[str, list[str]]:
    """Rule id -> the app-level tests of it under ``root`` (``path::name``, sorted): the test
    functions marked ``@pytest.mark.rule(id, ...)``, outside the engine's own tests."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("test_*.py")):
        relative = path.relative_to(root.parent)
        if relative.parts[1] == ENGINE_TESTS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for rule_id in _rule_marks(node):
                    found[rule_id].append(f"{relative.as_posix()}::{node.name}")
    return {rule_id: sorted(tests) for rule_id, tests in found.items()}


def _tests_table(rules: Sequence[Rule], tests: dict[str, list[str]]) -> list[str]:
    lines = [
        "## How the app is tested against each rule",
        "",
        "Each rule is exercised through a door a user reaches (a page, the API, the command",
        "line or the worker), not by calling the engine: these tests carry",
        "`@pytest.mark.rule(id)` and show the rule refusing or warning and the compliant",
        "variant passing, or, where the app offers no way to break the rule, that its doors",
        "refuse the breaking input.",
        "",
        "| id | app-level tests |",
        "| --- | --- |",
    ]
    for rule_id in dict.fromkeys(rule.id for rule in rules):
        names = tests.get(rule_id, [])
        cell = "<br>".join(f"`{name}`" for name in names) or "none"
        lines.append(f"| `{rule_id}` | {cell} |")
    return lines


def render_compliance_markdown(tests_root: Path = TESTS_ROOT) -> str:
    """The full text of docs/compliance.md."""
    rules = catalogue()
    lines = [INTRODUCTION]
    lines += [
        "## Texts to display",
        "",
        f'- FR-NOPURCHASE-1: « {NO_PURCHASE_FR} » / "{NO_PURCHASE_EN}"',
        f'- US-LOTTERY-1: "{US_NO_PURCHASE_BLOCK}"',
        f'- FR-CLIENTS-2: « {PROSPECT_SENTENCE_FR} » / "{PROSPECT_SENTENCE_EN}"',
        f'- EU-REFER-NOSEND-1: « {SHARE_SENTENCE_FR} » / "{SHARE_SENTENCE_EN}"',
        "",
    ]
    for pack in PACK_ORDER:
        in_pack = [rule for rule in rules if rule.pack == pack]
        lines += [f"## Pack {PACK_HEADINGS[pack]}", "", *_table(in_pack), ""]
    lines += ["## Differences from the catalogue", ""]
    lines += [
        f"- `{rule.id}` ({rule.moment}): {rule.differences}" for rule in rules if rule.differences
    ]
    lines += ["", "## Catalogue rules without a check here", ""]
    lines += [f"- `{rule_id}`: {reason}" for rule_id, reason in LEFT_OUT]
    lines += ["", *_tests_table(rules, app_tests(tests_root))]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] = ()) -> int:
    """Write the document to ``argv[0]`` or docs/compliance.md."""
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_compliance_markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
