"""docs/compliance.md, generated from the rule registry.

``python -m rules.docs [PATH]`` writes it (default ``docs/compliance.md`` under the current
directory); a test fails when the committed file is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
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


def render_compliance_markdown() -> str:
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
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] = ()) -> int:
    """Write the document to ``argv[0]`` or docs/compliance.md."""
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_compliance_markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
