"""A whole contest configuration through each door: the workspace form, the JSON API (and
its schema), and the database row; each field handled as its declaration says."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contest.contests.fields import (
    DEFAULT_TIMEZONE,
    MAX_CHOICE_LENGTH,
    MAX_CHOICES,
    MAX_PRIZES,
    MAX_QUESTIONS,
    PRIZE_SETTINGS,
    QUESTION_SETTINGS,
    RANKING,
    SETTINGS,
    ContestSettings,
)
from contest.contests.setting import ConfigErrors, Kind, Setting, many, one, scalar, settings_of
from contest.forms import Question, choice_key
from rules import Prize

QUESTIONS = "questions"  # the setting typed as question lines, not through its Setting


def _zone(form: Mapping[str, Any], errors: ConfigErrors) -> ZoneInfo:
    name = one(form, "timezone") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", "Fuseau horaire inconnu.", "Unknown time zone.")
        return ZoneInfo(DEFAULT_TIMEZONE)


# A prize line counts once any of these is given (quantity, kind and currency have defaults):
# a value without a description is kept, for ALL-PRIZE-DESC-1 to ask what the prize is.
TYPED_PRIZE_FIELDS = (
    "description",
    "description_translation",
    "unit_value",
    "voucher_min_order",
    "voucher_validity_days",
)
# A question line counts once any of these is given (the others have defaults).
TYPED_QUESTION_FIELDS = ("text", "text_translation", "choices", "choices_translation", "target")


def parse_contest_form(form: Mapping[str, Any]) -> ContestSettings:
    """Reads the configuration form; raises :class:`ConfigErrors` for values that are not well
    formed.

    Legal problems are not refused here: they are the rules engine's to report, so that the
    organizer sees every one of them at once, with its rule and source.
    """
    errors = ConfigErrors()
    zone = _zone(form, errors)
    values = {
        name: spec.parse(name, form, zone, errors) for name, spec in SETTINGS.items() if spec.form
    }
    values["timezone"] = zone.key
    values[QUESTIONS] = _parse_questions(form, zone, errors)
    prizes: list[Prize] = []
    for index in range(MAX_PRIZES):
        prefix = f"prize-{index}-"
        item = {
            name: spec.parse(prefix + name, form, zone, errors)
            for name, spec in PRIZE_SETTINGS.items()
        }
        if any(item[name] not in ("", None) for name in TYPED_PRIZE_FIELDS):
            item["currency"] = (item["currency"] or "EUR").upper()[:3]
            prizes.append(Prize(rank=len(prizes) + 1, **item))
    _check_contest_question(values, errors)
    if errors.errors:
        raise errors
    return ContestSettings(**values, prizes=tuple(prizes))


def _check_contest_question(values: Mapping[str, Any], errors: ConfigErrors) -> None:
    """The contest question offers at least two answers, the right one among them; a ranking
    is won by the tie-breaker question, which it therefore needs."""
    choices = tuple(values.get("question_choices") or ())
    if values.get("question") or choices or values.get("question_answer"):
        if len(choices) < 2 or len(set(choices)) != len(choices):
            errors.add(
                "question_choices",
                "Proposez au moins deux réponses, toutes différentes, une par ligne.",
                "Offer at least two different answers, one per line.",
            )
        if values.get("question_answer") not in choices:
            errors.add(
                "question_answer",
                "La bonne réponse doit être l'une des réponses proposées.",
                "The right answer must be one of the answers offered.",
            )
        if not values.get("question"):
            errors.add("question", "Écrivez la question.", "Write the question.")
    if values.get("game") == RANKING and not values.get("tiebreaker"):
        errors.add(
            "tiebreaker",
            "Un classement se fait par la question subsidiaire : écrivez-la.",
            "A ranking is won by the tie-breaker question: write it.",
        )


def _parse_questions(
    form: Mapping[str, Any], zone: ZoneInfo, errors: ConfigErrors
) -> tuple[Question, ...]:
    """The question lines of the form (``question-{index}-{name}``), the empty ones left out.

    Refuses (into ``errors``) a question without its wording, with fewer than two answers or
    more than ``MAX_CHOICES``, an answer too long or given twice, translations that do not
    match the answers one to one, and a segment tag or CRM field missing or already taken by
    another question (it is the key the answers are kept under).
    """
    questions: list[Question] = []
    for index in range(MAX_QUESTIONS):
        prefix = f"question-{index}-"
        item = {
            name: spec.parse(prefix + name, form, zone, errors)
            for name, spec in QUESTION_SETTINGS.items()
        }
        if not any(item[name] for name in TYPED_QUESTION_FIELDS):
            continue
        _check_question(prefix, item, [q.target.lower() for q in questions], errors)
        questions.append(Question(**item))
    return tuple(questions)


def _check_question(
    prefix: str, item: Mapping[str, Any], taken: list[str], errors: ConfigErrors
) -> None:
    choices, translated = item["choices"], item["choices_translation"]
    if not item["text"]:
        errors.add(prefix + "text", "Écrivez la question.", "Write the question.")
    if not MAX_CHOICES >= len(choices) >= 2:
        errors.add(
            prefix + "choices",
            f"Proposez de 2 à {MAX_CHOICES} réponses, une par ligne.",
            f"Offer from 2 to {MAX_CHOICES} answers, one per line.",
        )
    elif any(len(choice) > MAX_CHOICE_LENGTH for choice in choices):
        errors.add(
            prefix + "choices",
            f"Une réponse tient en {MAX_CHOICE_LENGTH} caractères au plus.",
            f"An answer holds at most {MAX_CHOICE_LENGTH} characters.",
        )
    elif len({choice_key(c) or c.casefold() for c in choices}) < len(choices):
        errors.add(
            prefix + "choices",
            "Deux réponses se lisent de la même façon.",
            "Two answers read the same.",
        )
    if translated and len(translated) != len(choices):
        errors.add(
            prefix + "choices_translation",
            "Une traduction par réponse, dans le même ordre.",
            "One translation per answer, in the same order.",
        )
    target = item["target"]
    if not target:
        errors.add(
            prefix + "target",
            "Nommez le tag de segment ou le champ du CRM qui recevra les réponses.",
            "Name the segment tag or the CRM field that receives the answers.",
        )
    elif target.lower() in taken:
        errors.add(
            prefix + "target",
            "Une autre question envoie déjà ses réponses à ce nom.",
            "Another question already sends its answers to this name.",
        )


def with_changes(
    contest: ContestSettings, changes: Sequence[tuple[str, str]], *, replaces_prizes: bool
) -> ContestSettings:
    """The configuration with ``changes`` (form fields) applied, the other fields kept, and
    the prizes too unless ``replaces_prizes`` (then the prizes sent are the new list). The
    questions likewise, when ``changes`` carries the ``questions`` marker of
    :func:`json_as_form`. Raises :class:`ConfigErrors` as :func:`parse_contest_form` does."""
    current = form_values(contest)
    if replaces_prizes:
        current = {k: v for k, v in current.items() if not k.startswith("prize-")}
    if any(name == QUESTIONS for name, _ in changes):
        current = {k: v for k, v in current.items() if not k.startswith("question-")}
    return parse_contest_form(FormFields(_merged(current, changes)))


def _merged(
    current: Mapping[str, object], changes: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The form's current fields, those named in ``changes`` replaced by them."""
    changed = {name for name, _ in changes}
    kept = [
        (name, str(v))
        for name, value in current.items()
        if name not in changed
        for v in (value if isinstance(value, list) else [value])
    ]
    return kept + list(changes)


class FormFields(Mapping[str, str]):
    """Form fields as a submitted form gives them: ``get`` the last value of a name,
    ``getlist`` all of them in order."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = list(pairs)
        self._last = dict(self._pairs)

    def __getitem__(self, name: str) -> str:
        return self._last[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def form_values(contest: ContestSettings) -> dict[str, object]:
    """The configuration as the form's fields, to fill the form in."""
    zone = ZoneInfo(contest.timezone)
    values: dict[str, object] = {
        name: spec.form_value(getattr(contest, name), zone)
        for name, spec in SETTINGS.items()
        if spec.form
    }
    for index, prize in enumerate(contest.prizes):
        for name, spec in PRIZE_SETTINGS.items():
            values[f"prize-{index}-{name}"] = spec.form_value(getattr(prize, name), zone)
    for index, question in enumerate(contest.questions):
        for name, spec in QUESTION_SETTINGS.items():
            values[f"question-{index}-{name}"] = spec.form_value(getattr(question, name), zone)
    return values


def raw_values(form: Mapping[str, Any]) -> dict[str, object]:
    """What the organizer typed, to show it back next to the errors."""
    return {
        name: many(form, name)
        if name in SETTINGS and SETTINGS[name].kind is Kind.CHOICES
        else one(form, name)
        for name in form
    }


def json_as_form(data: Any, extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """An API configuration as the form's fields; refuses unknown fields (:class:`ConfigErrors`).

    ``extra`` names fields the caller reads itself (the reason of a change). A prize's ``rank``
    is accepted as GET returns it, and must match its place in the list; a question's
    ``choice_keys`` too, and ignored (they follow from its answers). A ``questions`` list
    comes with a ``("questions", "")`` marker: the list sent replaces the current one.
    """
    errors = ConfigErrors()
    if not isinstance(data, dict):
        errors.add("", "Un objet JSON est attendu.", "A JSON object is expected.")
        raise errors
    prizes = data.get("prizes", [])
    others = {name: value for name, value in data.items() if name not in {"prizes", QUESTIONS}}
    pairs = _json_pairs(SETTINGS, others, errors, extra)
    if "prizes" in data:
        pairs.extend(_prizes_as_form(prizes, errors))
    if QUESTIONS in data:
        pairs.append((QUESTIONS, ""))
        pairs.extend(_questions_as_form(data[QUESTIONS], errors))
    if errors.errors:
        raise errors
    return pairs


def _json_pairs(
    specs: Mapping[str, Setting],
    data: Mapping[Any, Any],
    errors: ConfigErrors,
    extra: Iterable[str],
) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in data.items():
        spec = specs.get(name)
        if name in extra:
            continue
        if spec is None or not spec.api:
            errors.add(str(name)[:64], "Champ inconnu.", "Unknown field.")
        else:
            pairs.extend(spec.json_as_form(name, value, errors))
    return pairs


def _prizes_as_form(value: Any, errors: ConfigErrors) -> list[tuple[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_PRIZES:
        errors.add(
            "prizes",
            f"Une liste de {MAX_PRIZES} lots au plus.",
            f"A list of at most {MAX_PRIZES} prizes.",
        )
        return []
    pairs: list[tuple[str, str]] = []
    for index, prize in enumerate(value):
        if not isinstance(prize, dict):
            errors.add(f"prizes.{index}", "Un objet est attendu.", "An object is expected.")
            continue
        for key, item in prize.items():
            where = f"prizes.{index}.{str(key)[:64]}"
            if key == "rank":
                if item != index + 1:
                    errors.add(
                        where,
                        "Le rang d'un lot est sa place dans la liste (1, 2, …).",
                        "A prize's rank is its place in the list (1, 2, …).",
                    )
            elif key in PRIZE_SETTINGS:
                pairs.append((f"prize-{index}-{key}", scalar(where, item, errors)))
            else:
                errors.add(where, "Champ inconnu.", "Unknown field.")
    return pairs


def _questions_as_form(value: Any, errors: ConfigErrors) -> list[tuple[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_QUESTIONS:
        errors.add(
            QUESTIONS,
            f"Une liste de {MAX_QUESTIONS} questions au plus.",
            f"A list of at most {MAX_QUESTIONS} questions.",
        )
        return []
    pairs: list[tuple[str, str]] = []
    for index, question in enumerate(value):
        if not isinstance(question, dict):
            errors.add(f"questions.{index}", "Un objet est attendu.", "An object is expected.")
            continue
        for key, item in question.items():
            spec = QUESTION_SETTINGS.get(key)
            if spec is not None:
                pairs.extend(spec.json_as_form(f"question-{index}-{key}", item, errors))
            elif key != "choice_keys":
                errors.add(f"questions.{index}.{str(key)[:64]}", "Champ inconnu.", "Unknown field.")
    return pairs


def question_json(question: Question) -> dict[str, Any]:
    """A question as the API returns it and the contest row stores it, with the keys its
    answers are kept under (``choice_keys``, in the order of ``choices``)."""
    return {
        name: spec.json_value(getattr(question, name)) for name, spec in QUESTION_SETTINGS.items()
    } | {"choice_keys": list(question.keys)}


def question_of_json(data: Mapping[str, Any]) -> Question:
    """A stored question (:func:`question_json`); its answers' keys derived again."""
    return Question(
        **{
            name: spec.from_row(data[name]) if name in data else spec.blank_value()
            for name, spec in QUESTION_SETTINGS.items()
        }
    )


def settings_json(contest: ContestSettings) -> dict[str, Any]:
    """The configuration as the API returns it (what PATCH accepts back)."""
    out = {
        name: spec.json_value(getattr(contest, name)) for name, spec in SETTINGS.items() if spec.api
    }
    out["prizes"] = [
        {"rank": prize.rank}
        | {name: spec.json_value(getattr(prize, name)) for name, spec in PRIZE_SETTINGS.items()}
        for prize in contest.prizes
    ]
    out[QUESTIONS] = [question_json(question) for question in contest.questions]
    return out


def json_schema(*, output: bool) -> dict[str, Any]:
    """The configuration's JSON Schema properties, for input (PATCH/POST) or output (GET)."""
    prize = {name: spec.schema() for name, spec in PRIZE_SETTINGS.items()}
    properties = {name: spec.schema() for name, spec in SETTINGS.items() if spec.api}
    properties["prizes"] = {
        "type": "array",
        "maxItems": MAX_PRIZES,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"rank": {"type": "integer", "minimum": 1}, **prize},
            **({} if output else {"required": ["description"]}),
        },
    }
    question = {name: spec.schema() for name, spec in QUESTION_SETTINGS.items()}
    for name in ("choices", "choices_translation"):
        question[name] = {
            "type": "array",
            "maxItems": MAX_CHOICES,
            "items": {"type": "string", "maxLength": MAX_CHOICE_LENGTH},
        }
    keys = {"type": "array", "items": {"type": "string"}, "readOnly": True}
    properties[QUESTIONS] = {
        "type": "array",
        "maxItems": MAX_QUESTIONS,
        "description": "Qualifying questions of the entry form, kept once the contest is "
        "published. Answers are stored under the question's target, as choice keys.",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**question, "choice_keys": keys},
            **({} if output else {"required": ["text", "choices", "target"]}),
        },
    }
    return properties


# --- The database row --------------------------------------------------------------------------


def row_values(contest: ContestSettings, *, published: bool) -> dict[str, Any]:
    """The columns to write for this configuration; a published contest keeps its frozen ones."""
    values = {
        name: spec.to_row(getattr(contest, name))
        for name, spec in SETTINGS.items()
        if not (published and spec.frozen_once_published)
    }
    if QUESTIONS in values:
        values[QUESTIONS] = [question_json(question) for question in contest.questions]
    return values


def settings_of_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The typed settings of a stored contest row (a mapping of its columns)."""
    values = {name: spec.from_row(row[name]) for name, spec in SETTINGS.items()}
    values[QUESTIONS] = questions_of_row(row[QUESTIONS])
    return values


def questions_of_row(raw: Any) -> tuple[Question, ...]:
    """A contest row's ``questions`` column as questions."""
    return tuple(question_of_json(item) for item in raw or () if isinstance(item, dict))


def prize_of_row(row: Any) -> Prize:
    return Prize(rank=row.rank, **{name: getattr(row, name) for name in PRIZE_SETTINGS})


# --- Any other declared settings (an organization's) --------------------------------------------

S = TypeVar("S")


def parse_settings(declaration: type[S], form: Mapping[str, Any]) -> S:
    """Reads a form of ``declaration``'s settings; raises :class:`ConfigErrors`."""
    errors = ConfigErrors()
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    values = {
        name: spec.parse(name, form, zone, errors)
        for name, spec in settings_of(declaration).items()
        if spec.form
    }
    if errors.errors:
        raise errors
    return declaration(**values)


def settings_form_values(settings: Any) -> dict[str, object]:
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    return {
        name: spec.form_value(getattr(settings, name), zone)
        for name, spec in settings_of(type(settings)).items()
        if spec.form
    }


def settings_as_json(settings: Any) -> dict[str, Any]:
    return {
        name: spec.json_value(getattr(settings, name))
        for name, spec in settings_of(type(settings)).items()
        if spec.api
    }


def changed_settings(settings: S, data: Any) -> S:
    """``settings`` with the fields of the JSON object ``data`` changed, the others kept;
    refuses (ConfigErrors) unknown fields and values that are not well formed."""
    errors = ConfigErrors()
    if not isinstance(data, dict):
        errors.add("", "Un objet JSON est attendu.", "A JSON object is expected.")
        raise errors
    specs = settings_of(type(settings))
    changes = _json_pairs(specs, data, errors, ())
    if errors.errors:
        raise errors
    merged = _merged(settings_form_values(settings), changes)
    return parse_settings(type(settings), FormFields(merged))


def settings_schema(declaration: type) -> dict[str, Any]:
    return {name: spec.schema() for name, spec in settings_of(declaration).items() if spec.api}
