"""The entry form: a closed catalogue of fields, parsed and checked without touching storage.

Every problem is reported against its field, as an English message id translated where it is
shown, so that a refusal can be displayed next to the field that caused it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from contest.i18n import N_
from contest.people import EmailCleaner, InvalidEmail
from rules import US_STATES

# clean_email, with each domain checked once per process: most entrants share a few domains.
_clean_email = EmailCleaner()

# Controls, line separators, zero-width and bidirectional controls (overrides, isolates, marks),
# soft hyphen and byte-order mark: invisible characters that let one name pass for another.
CONTROL_CHARS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    max_length: int
    input_type: str = "text"
    autocomplete: str = "off"
    required: bool = True


# The fields an organizer may ask for besides the e-mail (EU-MINIMIZE-1: few, relevant).
CATALOGUE: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("first_name", N_("First name"), 100, autocomplete="given-name", required=False),
        FieldSpec("last_name", N_("Last name"), 100, autocomplete="family-name"),
        FieldSpec("birth_date", N_("Date of birth"), 10, input_type="date", autocomplete="bday"),
        FieldSpec("postcode", N_("Postcode"), 16, autocomplete="postal-code"),
        FieldSpec("phone", N_("Phone"), 32, input_type="tel", autocomplete="tel", required=False),
        FieldSpec("interest", N_("What interests you most in our shop?"), 200, required=False),
    )
}
EMAIL = FieldSpec("email", N_("E-mail address"), 254, input_type="email", autocomplete="email")
# Asked by a contest that runs in the United States, and only there (minimisation): the state
# decides who may enter (US-GEO-1, void where prohibited) and the age of majority (US-AGE-1).
STATE = FieldSpec("region", N_("State of residence"), 2, input_type="select")
# The contest question's answer and the tie-breaker's, in an entry's ``answers``.
CONTEST_ANSWER, TIEBREAKER = "question", "tiebreaker"
SINGLE_VALUED = (
    "email", "accept_rules", "form_token", "ref", "src", "lang", "region", CONTEST_ANSWER,
    TIEBREAKER, *CATALOGUE,
)  # fmt: skip
ANSWER_PREFIX = "answer-"  # a qualifying question's answers: answer-{question key}
QUESTIONS = "questions"  # where the answers go in an entry's ``answers``: {key: [choice keys]}


def choice_key(label: str) -> str:
    """A stable identifier for an answer offered: its wording in lower-case ASCII, hyphens
    between words (``Peau sèche`` -> ``peau-seche``), at most 40 characters."""
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:40].strip("-")


@dataclass(frozen=True)
class Question:
    """A qualifying question of the entry form: single or multiple choice, optional or
    required, whose answers go to a segment tag or a CRM field named ``target``.

    ``target`` is also its key: an entry keeps its answers under it, as the keys of the
    answers chosen (``keys``, derived from the answers in the contest's language, so that
    they stay the same whatever language the form is shown in).
    """

    text: str
    choices: tuple[str, ...]
    target: str
    text_translation: str = ""
    choices_translation: tuple[str, ...] = ()
    multiple: bool = False
    required: bool = False
    maps_to: str = "segment"  # "segment" (a tag) or "crm_field"
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            keys: list[str] = []
            for index, label in enumerate(self.choices):
                key = choice_key(label) or str(index + 1)
                keys.append(key if key not in keys else f"{key}-{index + 1}")
            object.__setattr__(self, "keys", tuple(keys))

    @property
    def key(self) -> str:
        return self.target

    @property
    def field_name(self) -> str:
        """The name of its inputs on the entry form."""
        return ANSWER_PREFIX + self.target

    @property
    def options(self) -> tuple[tuple[str, str], ...]:
        """(key, wording) of each answer offered, in order."""
        return tuple(zip(self.keys, self.choices, strict=False))

    def labels(self, keys: Sequence[str]) -> list[str]:
        """The wordings of the answers ``keys`` (unknown keys as they are)."""
        wording = dict(self.options)
        return [wording.get(key, key) for key in keys]

    def translated(self) -> Question:
        """The question in the contest's second language where it is given; the answers keep
        their keys."""
        choices = self.choices_translation
        if len(choices) != len(self.choices):
            choices = self.choices
        return replace(self, text=self.text_translation or self.text, choices=choices)


@dataclass
class FormErrors(Exception):
    """Field name -> (message id, parameters). Empty means the form is valid."""

    errors: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)

    def add(self, name: str, message: str, **params: object) -> None:
        self.errors.setdefault(name, (message, params))


@dataclass(frozen=True)
class EntryForm:
    email: str
    # The catalogue's fields by name (text), and the qualifying questions' answers under
    # ``QUESTIONS`` ({question key: [choice keys]}), as the entry keeps them.
    answers: dict[str, object]
    consents: frozenset[str]
    accepted_rules: bool
    birth_date: date | None = None
    region: str | None = None  # a US state code, when the contest asks for it

    @property
    def first_name(self) -> str:
        name = self.answers.get("first_name", "")
        return name if isinstance(name, str) else ""


def clean_text(value: str, max_length: int) -> tuple[str | None, str | None]:
    """(cleaned value, error message id)."""
    if CONTROL_CHARS.search(value):
        return None, N_("This field contains characters that are not allowed.")
    value = unicodedata.normalize("NFC", value).strip()
    if "\n" in value:  # every entry field is one line; a name goes into mail headers
        return None, N_("This field takes one line: remove the line break.")
    if len(value) > max_length:
        return None, N_("This field is too long (at most %(max)s characters).")
    return value, None


def parse_entry_form(
    data: Mapping[str, Sequence[str]],
    fields: Sequence[str],
    consent_purposes: Sequence[str],
    state: str = "",
    questions: Sequence[Question] = (),
    knowledge: Sequence[str] = (),
    tiebreaker: bool = False,
) -> EntryForm:
    """Check a submitted entry form against the contest's fields; raises FormErrors.

    Marketing consents count only when their box was ticked: a missing or empty value is a
    refusal, never a default yes (EU-CONSENT-ACTIVE-1). Accepting the rules is required.
    ``state`` is "required" when the contest asks every entrant's US state, "optional" when it
    asks it of US residents only, empty when it does not ask it. A qualifying question refuses
    an answer it does not offer, a second answer when it takes one, and no answer when one is
    required; its answers are kept as the keys of the answers chosen. ``knowledge`` are the
    answers the contest question offers (an answer is required, one of them), ``tiebreaker``
    whether the tie-breaker question is asked (a whole number is required).
    """
    errors = FormErrors()
    for name in SINGLE_VALUED:
        if len(data.get(name, ())) > 1:
            errors.add(name if name != "form_token" else "form", N_("This field was sent twice."))

    def first(name: str) -> str:
        values = data.get(name) or [""]
        return values[0]

    email = ""
    raw_email, problem = clean_text(first("email"), EMAIL.max_length)
    if problem:
        errors.add("email", problem, max=EMAIL.max_length)
    elif not raw_email:
        errors.add("email", N_("Please enter your e-mail address."))
    else:
        try:
            email = _clean_email(raw_email)
        except InvalidEmail:
            errors.add("email", N_("This e-mail address does not look right. Please check it."))

    answers: dict[str, object] = {}
    birth_date: date | None = None
    for name in fields:
        spec = CATALOGUE.get(name)
        if spec is None:
            continue
        value, problem = clean_text(first(name), spec.max_length)
        if problem:
            errors.add(name, problem, max=spec.max_length)
            continue
        assert value is not None
        if not value:
            if spec.required:
                errors.add(name, N_("Please fill in this field."))
            continue
        if name == "birth_date":
            try:
                birth_date = date.fromisoformat(value)
            except ValueError:
                errors.add(name, N_("Please enter a date as YYYY-MM-DD."))
                continue
        answers[name] = value

    if knowledge:
        answer = first(CONTEST_ANSWER).strip()
        if not answer:
            errors.add(CONTEST_ANSWER, N_("Please answer the question."))
        elif answer not in knowledge:
            errors.add(CONTEST_ANSWER, N_("Please choose among the answers offered."))
        else:
            answers[CONTEST_ANSWER] = answer
    if tiebreaker:
        estimate = first(TIEBREAKER).strip()
        if not (estimate.isascii() and estimate.isdigit()) or len(estimate) > 9:
            errors.add(TIEBREAKER, N_("Please answer with a whole number."))
        else:
            answers[TIEBREAKER] = str(int(estimate))
    region = first("region").strip().upper() or None
    if state and region is None and state == "required":
        errors.add("region", N_("Please choose your state of residence."))
    elif region is not None and (not state or region not in US_STATES):
        errors.add("region", N_("Please choose your state from the list."))
    elif region is not None:
        answers["region"] = region  # kept with the entry: who it was judged as
    chosen = _answers(data, questions, errors)
    if chosen:
        answers[QUESTIONS] = chosen
    accepted = first("accept_rules") in {"on", "yes", "1", "true"}
    if not accepted:
        errors.add("accept_rules", N_("Please accept the official rules to take part."))
    ticked = frozenset(
        purpose for purpose in consent_purposes if first(f"consent_{purpose}") in {"on", "yes"}
    )
    if errors.errors:
        raise errors
    return EntryForm(
        email=email,
        answers=answers,
        consents=ticked,
        accepted_rules=accepted,
        birth_date=birth_date,
        region=region,
    )


def _answers(
    data: Mapping[str, Sequence[str]], questions: Sequence[Question], errors: FormErrors
) -> dict[str, list[str]]:
    """The answers chosen to each qualifying question, by question key; problems go to
    ``errors`` against the question's inputs."""
    chosen: dict[str, list[str]] = {}
    for question in questions:
        name = question.field_name
        picked = list(dict.fromkeys(v.strip() for v in data.get(name, ()) if v.strip()))
        if any(key not in question.keys for key in picked):
            errors.add(name, N_("Please choose among the answers offered."))
        elif len(picked) > 1 and not question.multiple:
            errors.add(name, N_("Please choose one answer only."))
        elif picked:
            chosen[question.key] = picked
        elif question.required:
            errors.add(name, N_("Please answer this question."))
    return chosen
