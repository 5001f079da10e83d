"""The bridge from the contest engine to the rules engine: stored configuration -> facts.

Each setting feeds the fact its declaration names (``Setting.fact``); the facts below it are
derived from several settings or from the organizer.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contest.contests.fields import DEFAULT_TIMEZONE, SETTINGS
from contest.contests.view import ContestView
from contest.forms import CATALOGUE, Question
from rules import AskedQuestion, ConsentField, ContestFacts


@cache
def _fact_types() -> dict[str, Any]:
    return typing.get_type_hints(ContestFacts)


def _as_fact(name: str, value: Any) -> Any:
    """A setting's value in the fact's own type: a set for a set, None for an empty text that
    the rules read as "not given"."""
    hint = _fact_types()[name]
    if typing.get_origin(hint) is frozenset:
        return frozenset(value)
    if isinstance(value, datetime) and date in typing.get_args(hint):
        return value.date()  # a day the rules compare (a filing date), in the contest's zone
    optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    if optional and value == "":
        return None
    return value


def _local(value: Any, zone: ZoneInfo) -> Any:
    """A moment in the contest's time zone, so that the rules' messages state it as the
    organizer set it ("01/03/2026", not "28/02/2026 at 23:00 UTC"); the instant is the same."""
    return value.astimezone(zone) if isinstance(value, datetime) else value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def settings_facts(contest: ContestView) -> dict[str, Any]:
    """The facts fed one to one by a setting; moments in the contest's time zone."""
    zone = _zone(contest.timezone)
    return {
        spec.fact or name: _as_fact(spec.fact or name, _local(getattr(contest, name), zone))
        for name, spec in SETTINGS.items()
        if spec.fact is not None
    }


def offered_languages(contest: ContestView) -> tuple[str, ...]:
    """The languages the contest is offered in. French as a second language counts only when
    every text is given in it (FR-LANG-1): until then French visitors read the first
    language's texts."""
    if contest.second_language == "fr" and contest.missing_translations():
        return (contest.language,)
    return contest.languages


# EU-REFER-NOSEND-1's override is a legal opinion, logged: a sentence, not "ok" or "x".
OVERRIDE_MIN_WORDS = 6


def override_given(reason: str) -> bool:
    """Whether an override reason says enough to count (it is audited at publication)."""
    return len(reason.split()) >= OVERRIDE_MIN_WORDS


def contest_facts(contest: ContestView) -> ContestFacts:
    """The facts the rules judge, for a contest snapshot (kept on it: snapshots never change)."""
    return contest.derived(_contest_facts)


def _contest_facts(contest: ContestView) -> ContestFacts:
    return ContestFacts(
        **settings_facts(contest),
        languages=offered_languages(contest),
        consent_fields=tuple(
            ConsentField(
                purpose=option.purpose,
                label_fr=option.label_fr,
                label_en=option.label_en,
                partners=contest.partners if option.purpose == "partners" else (),
            )
            for option in contest.consents
        ),
        organizer_name=contest.organizer_name or None,
        organizer_address=contest.organizer_address or None,
        organizer_contact=contest.organizer_contact or None,
        prizes=contest.prizes,
        platform_invitations_override=override_given(contest.invitations_override_reason),
        in_store_promotion="in_store" in contest.entry_channels,
        mandatory_fields=tuple(
            name for name in contest.form_fields if name in CATALOGUE and CATALOGUE[name].required
        ),
        questions=tuple(asked_question(question) for question in contest.questions),
    )


def asked_question(question: Question) -> AskedQuestion:
    """A qualifying question as EU-MINIMIZE-1 judges it: every text it shows, in both
    languages, and whether it must be answered."""
    return AskedQuestion(
        question=question.text,
        texts=(question.text_translation, *question.choices, *question.choices_translation),
        required=question.required,
    )
