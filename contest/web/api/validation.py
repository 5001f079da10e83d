"""What the OpenAPI document declares, enforced: a request body or a query parameter is checked
against its operation's own schema before the handler uses it, so the types, lengths, bounds,
patterns, choices, required and unknown fields the document states are the ones the API
refuses (a body with 422, a query with 400).

Only the part of JSON Schema the document uses is read: ``$ref`` to its components, ``type``,
``enum``, ``properties``, ``required``, ``additionalProperties``, ``items``, ``minItems``,
``maxItems``, ``minLength``, ``maxLength``, ``minimum``, ``maximum``, ``pattern`` and
``anyOf``, and the ``date-time`` format (RFC 3339: a date, a time and its offset).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

REF = "#/components/schemas/"
INTEGER_TEXT = re.compile(r"-?[0-9]{1,18}")
NUMBER_TEXT = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)

# A problem: where (a dotted path, "" for the whole body), the French and English messages.
Problem = tuple[str, str, str]

TYPE_NAMES = {
    "string": ("un texte", "a string"),
    "integer": ("un nombre entier", "a whole number"),
    "number": ("un nombre", "a number"),
    "boolean": ("true ou false", "true or false"),
    "object": ("un objet", "an object"),
    "array": ("une liste", "a list"),
    "null": ("null", "null"),
}


def _is(value: Any, kind: str) -> bool:
    match kind:
        case "string":
            return isinstance(value, str)
        case "integer":  # JSON has one kind of number: 2.0 is a whole number
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer()
            )
        case "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "boolean":
            return isinstance(value, bool)
        case "object":
            return isinstance(value, dict)
        case "array":
            return isinstance(value, list)
        case "null":
            return value is None
    return True


def _at(where: str, name: object) -> str:
    return f"{where}.{name}" if where else str(name)


def problems(
    value: Any, schema: Mapping[str, Any], components: Mapping[str, Any], where: str = ""
) -> Iterator[Problem]:
    """What in ``value`` the ``schema`` refuses, each problem once, where it is."""
    reference = schema.get("$ref")
    if isinstance(reference, str):
        target = components.get(reference.removeprefix(REF))
        if target is not None:
            yield from problems(value, target, components, where)
        return
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, kind) for kind in allowed):
            french = " ou ".join(TYPE_NAMES[kind][0] for kind in allowed)
            english = " or ".join(TYPE_NAMES[kind][1] for kind in allowed)
            yield where, f"Attendu : {french}.", f"Expected: {english}."
            return
    if "enum" in schema and value not in schema["enum"]:
        choices, shown = ", ".join(str(c) for c in schema["enum"][:12]), str(value)[:20]
        yield (
            where,
            f"Valeur inconnue : {shown} (possibles : {choices}).",
            f"Unknown value: {shown} (one of {choices}).",
        )
        return
    if "anyOf" in schema:
        if all(any(problems(value, branch, components, where)) for branch in schema["anyOf"]):
            text = schema.get("description", "")
            yield where, f"Combinaison non permise. {text}".strip(), f"Not allowed. {text}".strip()
            return
    if isinstance(value, str):
        yield from _string_problems(value, schema, where)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield from _number_problems(value, schema, where)
    elif isinstance(value, list):
        yield from _list_problems(value, schema, components, where)
    elif isinstance(value, dict):
        yield from _object_problems(value, schema, components, where)


def _string_problems(value: str, schema: Mapping[str, Any], where: str) -> Iterator[Problem]:
    if "minLength" in schema and len(value) < schema["minLength"]:
        low = schema["minLength"]
        yield where, f"{low} caractère(s) au moins.", f"At least {low} character(s)."
    elif "maxLength" in schema and len(value) > schema["maxLength"]:
        high = schema["maxLength"]
        yield where, f"{high} caractères au plus.", f"At most {high} characters."
    elif "pattern" in schema and not re.search(schema["pattern"], value):
        shape = schema["pattern"]
        yield where, f"Format non valide ({shape}).", f"Not in the expected format ({shape})."
    elif schema.get("format") == "date-time" and not _is_date_time(value):
        yield (
            where,
            "Une date et une heure avec leur décalage, par ex. 2026-05-01T09:00:00+02:00.",
            "A date and time with its offset, e.g. 2026-05-01T09:00:00+02:00.",
        )


def _is_date_time(text: str) -> bool:
    """An RFC 3339 date-time, as the document's ``format: date-time`` says."""
    if not DATE_TIME.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.upper())
    except ValueError:
        return False
    return True


def _number_problems(value: float, schema: Mapping[str, Any], where: str) -> Iterator[Problem]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is None or value >= low) and (high is None or value <= high):
        return
    if low is not None and high is not None:  # the whole range, as the workspace says it
        yield where, f"Entre {low} et {high}.", f"Between {low} and {high}."
    elif low is not None:
        yield where, f"Au moins {low}.", f"At least {low}."
    else:
        yield where, f"Au plus {high}.", f"At most {high}."


def _list_problems(
    value: list[Any], schema: Mapping[str, Any], components: Mapping[str, Any], where: str
) -> Iterator[Problem]:
    if "minItems" in schema and len(value) < schema["minItems"]:
        low = schema["minItems"]
        yield where, f"{low} élément(s) au moins.", f"At least {low} item(s)."
    elif "maxItems" in schema and len(value) > schema["maxItems"]:
        high = schema["maxItems"]
        yield where, f"{high} éléments au plus.", f"At most {high} items."
    elif isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):  # a list of texts is one field, as in the form
            place = _at(where, index) if isinstance(item, dict | list) else where
            yield from problems(item, schema["items"], components, place)


def _object_problems(
    value: dict[str, Any], schema: Mapping[str, Any], components: Mapping[str, Any], where: str
) -> Iterator[Problem]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            yield _at(where, name), "Champ obligatoire.", "Required field."
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            yield from problems(item, properties[name], components, _at(where, name))
        elif extra is False:
            yield _at(where, str(name)[:64]), "Champ inconnu.", "Unknown field."
        elif isinstance(extra, Mapping):
            yield from problems(item, extra, components, _at(where, str(name)[:64]))


def query_problems(texts: list[str], schema: Mapping[str, Any], name: str) -> Iterator[Problem]:
    """What the ``schema`` of the query parameter ``name`` refuses in the texts sent for it:
    a number is written in digits, and a parameter is sent once."""
    if len(texts) > 1:
        yield name, "Paramètre envoyé plusieurs fois.", "Parameter sent more than once."
        return
    text = texts[0]
    kinds = schema.get("type")
    if kinds == "integer" and not INTEGER_TEXT.fullmatch(text):
        yield name, "Un nombre entier, en chiffres.", "A whole number, in digits."
    elif kinds == "number" and not NUMBER_TEXT.fullmatch(text):
        yield name, "Un nombre, en chiffres.", "A number, in digits."
    elif kinds in {"integer", "number"}:
        yield from problems(float(text) if "." in text else int(text), schema, {}, name)
    else:
        yield from problems(text, schema, {}, name)
