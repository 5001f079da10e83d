"""Where jurisdiction packs register their rules, and which packs apply to a contest.

A pack module creates ``PACK = Pack("FR")`` and decorates one small check function per rule
and moment::

    @PACK.config("FR-LANG-1", jurisdiction="FR", title=..., message_fr=..., message_en=...,
                 source=...)
    def french_locale(contest: ContestFacts, now: datetime) -> Iterator[Breach]:
        \"\"\"Refuses ... because ...\"\"\"
        if ...:
            yield breach("languages")

Adding a rule is that one decorated function in that one module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import NotRequired, TypedDict, TypeVar, Unpack

from rules.facts import ContestFacts, PersonFacts
from rules.model import Breach, Check, Moment, Rule, Severity, Situation, Variant

ALL = "ALL"
EU = "EU"
EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
PACK_ORDER = (ALL, EU, "FR", "US")

ConfigCheck = Callable[[ContestFacts, datetime], Iterable[Breach]]
PersonCheck = Callable[[ContestFacts, PersonFacts, datetime], Iterable[Breach]]
ChangeCheck = Callable[[ContestFacts, ContestFacts, datetime], Iterable[Breach]]
F = TypeVar("F")


class RuleText(TypedDict):
    jurisdiction: str
    title: str
    message_fr: str
    message_en: str
    source: str
    severity: NotRequired[Severity]
    variants: NotRequired[Sequence[Variant]]


class Registry:
    """Every registered rule, keyed by (id, moment): one catalogue id may act at several
    moments (FR-CLIENTS-1 checks the configuration and each entry)."""

    def __init__(self) -> None:
        self._rules: dict[tuple[str, Moment], Rule] = {}
        # Every entry is judged: the sorted catalogue and its selections are kept, and
        # forgotten when a rule is added.
        self._sorted: tuple[Rule, ...] | None = None
        self._selected: dict[tuple[frozenset[str], Moment | None], tuple[Rule, ...]] = {}

    def add(self, rule: Rule) -> None:
        key = (rule.id, rule.moment)
        if key in self._rules:
            raise ValueError(f"{rule.id} is already registered at {rule.moment}")
        self._rules[key] = rule
        self._sorted = None
        self._selected.clear()

    def rules(self) -> tuple[Rule, ...]:
        if self._sorted is None:
            order = list(Moment)
            self._sorted = tuple(
                sorted(self._rules.values(), key=lambda r: (r.id, order.index(r.moment)))
            )
        return self._sorted

    def selected(self, packs: frozenset[str], moment: Moment | None = None) -> tuple[Rule, ...]:
        """The rules of ``packs`` (at ``moment``, or at every moment), in catalogue order."""
        key = (packs, moment)
        found = self._selected.get(key)
        if found is None:
            found = tuple(
                rule
                for rule in self.rules()
                if rule.pack in packs and (moment is None or rule.moment is moment)
            )
            self._selected[key] = found
        return found


REGISTRY = Registry()


def packs_for(jurisdictions: Iterable[str]) -> frozenset[str]:
    """ALL, every declared jurisdiction, and EU as soon as an EU member state is declared."""
    declared = frozenset(j.strip().upper() for j in jurisdictions)
    packs = {ALL, *declared}
    if declared & (EU_MEMBER_STATES | {EU}):
        packs.add(EU)
    return frozenset(packs)


def _config(fn: ConfigCheck) -> Check:
    def check(situation: Situation) -> Iterable[Breach]:
        return fn(situation.contest, situation.now)

    return _named(check, fn)


def _person(fn: PersonCheck) -> Check:
    def check(situation: Situation) -> Iterable[Breach]:
        if situation.person is None:
            raise TypeError(f"{fn.__name__} needs a person")
        return fn(situation.contest, situation.person, situation.now)

    return _named(check, fn)


def _change(fn: ChangeCheck) -> Check:
    def check(situation: Situation) -> Iterable[Breach]:
        if situation.before is None:
            raise TypeError(f"{fn.__name__} needs the configuration before the change")
        return fn(situation.before, situation.contest, situation.now)

    return _named(check, fn)


def _named(check: Check, fn: Callable[..., Iterable[Breach]]) -> Check:
    check.__name__ = fn.__name__
    check.__qualname__ = fn.__qualname__
    check.__doc__ = fn.__doc__
    check.__module__ = fn.__module__
    return check


class Pack:
    """A jurisdiction pack: the rules that apply when a contest runs in ``name``."""

    def __init__(self, name: str, registry: Registry = REGISTRY) -> None:
        self.name = name
        self._registry = registry

    def config(
        self, rule_id: str, **text: Unpack[RuleText]
    ) -> Callable[[ConfigCheck], ConfigCheck]:
        """Register a check ``(contest, now)`` run when a contest is configured."""
        return self._register(rule_id, Moment.CONFIG, _config, text)

    def entry(
        self, rule_id: str, *, recheck_at_draw: bool = True, **text: Unpack[RuleText]
    ) -> Callable[[PersonCheck], PersonCheck]:
        """Register a check ``(contest, person, now)`` run when a person enters, and by
        default again at draw time."""
        return self._register(rule_id, Moment.ENTRY, _person, text, recheck_at_draw)

    def draw(self, rule_id: str, **text: Unpack[RuleText]) -> Callable[[PersonCheck], PersonCheck]:
        """Register a check ``(contest, person, now)`` run on each entry of the draw pool."""
        return self._register(rule_id, Moment.DRAW, _person, text)

    def change(
        self, rule_id: str, **text: Unpack[RuleText]
    ) -> Callable[[ChangeCheck], ChangeCheck]:
        """Register a check ``(before, after, now)`` run when a configuration changes."""
        return self._register(rule_id, Moment.CHANGE, _change, text)

    def _register(
        self,
        rule_id: str,
        moment: Moment,
        adapt: Callable[[F], Check],
        text: RuleText,
        recheck_at_draw: bool = False,
    ) -> Callable[[F], F]:
        def decorator(fn: F) -> F:
            self._registry.add(
                Rule(
                    id=rule_id,
                    jurisdiction=text["jurisdiction"],
                    pack=self.name,
                    moment=moment,
                    severity=text.get("severity", Severity.REFUSE),
                    title=text["title"],
                    message_fr=text["message_fr"],
                    message_en=text["message_en"],
                    source=text["source"],
                    check=adapt(fn),
                    variants=tuple(text.get("variants", ())),
                    recheck_at_draw=recheck_at_draw,
                )
            )
            return fn

        return decorator


__all__ = [
    "ALL",
    "EU",
    "EU_MEMBER_STATES",
    "PACK_ORDER",
    "REGISTRY",
    "Pack",
    "Registry",
    "packs_for",
]
