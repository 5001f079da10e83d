"""What a rule is, what it finds, and the verdict the engine hands back.

A rule's check is a small function that yields one ``Breach`` per problem it sees. A breach
names the field to change, picks one of the rule's outcomes (the main message, or a variant
with its own severity and wording) and gives the values for the message's ``{placeholders}``.
The rule turns breaches into ``Finding``s with both messages already formatted.
"""

from __future__ import annotations

import inspect
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from rules.facts import ContestFacts, PersonFacts
from rules.texts import format_amount, format_date, format_moment, is_french

DIFFERENCE_MARKER = "Differs from the catalogue:"


class Severity(StrEnum):
    REFUSE = "refuse"  # the action (publishing, entering, drawing, changing) must not happen
    WARN = "warn"  # allowed, but the organizer should know


class Moment(StrEnum):
    CONFIG = "config"  # an organizer configures or publishes a contest
    ENTRY = "entry"  # a person enters
    DRAW = "draw"  # an entry is checked again when the pool is frozen for the draw
    CHANGE = "change"  # the configuration of an existing contest changes


@dataclass(frozen=True)
class Localized:
    """A message parameter that reads differently in French and English."""

    fr: str
    en: str

    def __str__(self) -> str:
        return self.en


ParamValue = str | int | Decimal | date | datetime | Localized


def render(value: ParamValue, language: str) -> str:
    """A parameter as it appears in a message of ``language``."""
    if isinstance(value, Localized):
        return value.fr if is_french(language) else value.en
    if isinstance(value, datetime):
        return format_moment(value, language)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format_amount(value, language)
    return str(value)


def placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class Breach:
    """One problem a check found: which outcome, which field, which message values."""

    field: str | None = None
    variant: str = ""
    params: Mapping[str, ParamValue] = dataclass_field(default_factory=dict)


def breach(field: str | None = None, variant: str = "", /, **params: ParamValue) -> Breach:
    """A breach of ``field`` under ``variant`` ("" = main outcome), with message values."""
    return Breach(field=field, variant=variant, params=params)


@dataclass(frozen=True)
class Variant:
    """An outcome of a rule other than its main one, with its own severity and messages."""

    key: str
    severity: Severity
    message_fr: str
    message_en: str


def refuse(key: str, message_fr: str, message_en: str) -> Variant:
    return Variant(key, Severity.REFUSE, message_fr, message_en)


def warn(key: str, message_fr: str, message_en: str) -> Variant:
    return Variant(key, Severity.WARN, message_fr, message_en)


@dataclass(frozen=True)
class Situation:
    """Everything a check may look at. ``person`` is set for entry and draw checks,
    ``before`` (the configuration before the change) for change checks."""

    contest: ContestFacts
    now: datetime
    person: PersonFacts | None = None
    before: ContestFacts | None = None


Check = Callable[[Situation], Iterable[Breach]]


@dataclass(frozen=True)
class Finding:
    """A rule that did not pass, with what to tell the user and where."""

    rule_id: str
    severity: Severity
    message_fr: str
    message_en: str
    source: str
    field: str | None = None
    variant: str = ""  # "" for the rule's main outcome, else the Variant key

    def message(self, lang: str) -> str:
        return self.message_fr if is_french(lang) else self.message_en


@dataclass(frozen=True)
class Verdict:
    """Every finding of one evaluation, in catalogue order."""

    findings: tuple[Finding, ...] = ()

    @property
    def refusals(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.REFUSE)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARN)

    @property
    def ok(self) -> bool:
        """No refusal; warnings do not block."""
        return not self.refusals

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the rules that found something, each once, in finding order."""
        return tuple(dict.fromkeys(f.rule_id for f in self.findings))

    def for_field(self, name: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.field == name)


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue at one moment, registered by one jurisdiction pack."""

    id: str
    jurisdiction: str
    pack: str
    moment: Moment
    severity: Severity
    title: str
    message_fr: str
    message_en: str
    source: str
    check: Check = dataclass_field(compare=False, repr=False)
    variants: tuple[Variant, ...] = ()
    recheck_at_draw: bool = False  # an entry rule run again on every entry at draw time

    def __post_init__(self) -> None:
        keys = [v.key for v in self.variants]
        if "" in keys or len(set(keys)) != len(keys):
            raise ValueError(f"{self.id}: variant keys must be unique and non-empty")
        for outcome in self.outcomes:
            if not (outcome.message_fr.strip() and outcome.message_en.strip()):
                raise ValueError(f"{self.id}: every outcome needs both messages")
            if placeholders(outcome.message_fr) != placeholders(outcome.message_en):
                raise ValueError(f"{self.id}/{outcome.key}: FR and EN placeholders differ")
        if not (self.source.strip() and self.title.strip()):
            raise ValueError(f"{self.id}: a rule needs a title and a source")

    @property
    def main(self) -> Variant:
        return Variant("", self.severity, self.message_fr, self.message_en)

    @property
    def outcomes(self) -> tuple[Variant, ...]:
        return (self.main, *self.variants)

    def outcome(self, key: str) -> Variant:
        for candidate in self.outcomes:
            if candidate.key == key:
                return candidate
        raise KeyError(f"{self.id} has no outcome {key!r}")

    @property
    def doc(self) -> str:
        """The check's docstring: what the rule refuses and why."""
        return inspect.getdoc(self.check) or ""

    @property
    def differences(self) -> str:
        """The docstring paragraph that starts with 'Differs from the catalogue:', if any."""
        for paragraph in self.doc.split("\n\n"):
            text = " ".join(line.strip() for line in paragraph.splitlines())
            if text.startswith(DIFFERENCE_MARKER):
                return text.removeprefix(DIFFERENCE_MARKER).strip()
        return ""

    def findings(self, situation: Situation) -> tuple[Finding, ...]:
        return tuple(self.finding(found) for found in self.check(situation))

    def finding(self, found: Breach) -> Finding:
        outcome = self.outcome(found.variant)
        return Finding(
            rule_id=self.id,
            severity=outcome.severity,
            message_fr=_fill(outcome.message_fr, found.params, "fr"),
            message_en=_fill(outcome.message_en, found.params, "en"),
            source=self.source,
            field=found.field,
            variant=found.variant,
        )


def _fill(template: str, params: Mapping[str, ParamValue], language: str) -> str:
    return template.format_map({name: render(value, language) for name, value in params.items()})


__all__ = [
    "Breach",
    "Check",
    "Finding",
    "Localized",
    "Moment",
    "ParamValue",
    "Rule",
    "Severity",
    "Situation",
    "Variant",
    "Verdict",
    "breach",
    "refuse",
    "render",
    "warn",
]
