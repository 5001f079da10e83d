"""One configuration field: its kind, bounds and label, and how each door reads and writes it.

A :class:`Setting` knows how its kind is typed into the workspace form, sent as JSON, described
in JSON Schema and stored; ``contest.contests.fields`` declares the contest's settings with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contest.forms import CONTROL_CHARS
from contest.media import contrast

MIN_CONTRAST = 4.5  # WCAG AA for normal text: white text on the organizer's colours
MAX_MONEY = Decimal("10000000")

Problem = tuple[str, str]  # (French, English)


class Kind(StrEnum):
    TEXT = "text"  # one line, or several with ``rows``
    CHOICE = "choice"  # one of ``choices``
    CHOICES = "choices"  # several of ``choices`` (check boxes)
    INTEGER = "integer"
    BOOLEAN = "boolean"
    MOMENT = "moment"  # a local date and time in the contest's time zone
    ZONE = "zone"  # an IANA time zone
    COLOR = "color"  # #RRGGBB, readable under white text
    LIST = "list"  # several texts, typed as one text split by ``separator``
    MONEY = "money"  # a non-negative amount, two decimals


@dataclass(frozen=True)
class Setting:
    """How one configuration field is typed, bounded, shown and judged."""

    kind: Kind
    label: str  # an English message id; the French is in the catalogue
    hint: str = ""
    max_length: int = 500
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    required: Problem | None = None  # the message when it is left empty
    blank: Any = None  # what an empty field means (None: nothing set)
    pattern: str | None = None
    pattern_problem: Problem | None = None
    rows: int = 0  # a text area of this many rows
    lower: bool = False  # typed in any case, kept in lower case
    separator: str = r"\n"  # LIST: how the typed text splits; items joined back with ``joiner``
    joiner: str = "\n"
    item: Callable[[str], str | None] | None = None  # LIST: cleans an item, None drops it
    form: bool = True  # the workspace form shows it
    api: bool = True  # the API reads and writes it
    frozen_once_published: bool = False  # a published contest keeps the value it had
    fact: str | None = ""  # the ``rules.ContestFacts`` attribute it feeds ("" same name)

    @property
    def many(self) -> bool:
        return self.kind in {Kind.CHOICES, Kind.LIST}

    # --- the workspace form ----------------------------------------------------------------

    def parse(
        self, name: str, form: Mapping[str, Any], zone: ZoneInfo, errors: ConfigErrors
    ) -> Any:
        """The typed value of the form's field ``name``; problems are added to ``errors``."""
        if self.kind is Kind.CHOICES:
            chosen = many(form, name)
            unknown = [value for value in chosen if value not in self.choices]
            if unknown:  # never dropped in silence: "XX" is not "nowhere"
                errors.add(
                    name,
                    f"Valeur inconnue : {unknown[0][:20]} (possibles : {', '.join(self.choices)}).",
                    f"Unknown value: {unknown[0][:20]} (one of {', '.join(self.choices)}).",
                )
            return tuple(dict.fromkeys(value for value in chosen if value in self.choices))
        if self.kind is Kind.BOOLEAN:
            return one(form, name) == "on"
        raw = one(form, name).lower() if self.lower else one(form, name)
        if self.kind in {Kind.TEXT, Kind.LIST}:
            raw = raw.replace("\r\n", "\n")
            if CONTROL_CHARS.search(raw):
                errors.add(name, *CONTROL_PROBLEM)
                return self.blank_value()
            if self.kind is Kind.TEXT and not self.rows and "\n" in raw:
                errors.add(name, *ONE_LINE_PROBLEM)  # it goes into mail headers and titles
                return self.blank_value()
            if len(raw) > self.max_length:
                errors.add(
                    name,
                    f"{self.max_length} caractères au plus.",
                    f"At most {self.max_length} characters.",
                )
                raw = raw[: self.max_length]
        if not raw:
            if self.required:
                errors.add(name, *self.required)
            return self.blank_value()
        match self.kind:
            case Kind.TEXT:
                if self.pattern and not re.match(self.pattern, raw):
                    errors.add(name, *(self.pattern_problem or INVALID))
                return raw
            case Kind.ZONE:
                try:
                    return ZoneInfo(raw).key
                except (ZoneInfoNotFoundError, ValueError):
                    errors.add(name, "Fuseau horaire inconnu.", "Unknown time zone.")
                    return self.blank_value()
            case Kind.LIST:
                items = (self.item(p) if self.item else p for p in re.split(self.separator, raw))
                return tuple(item for item in items if item)
            case Kind.CHOICE:
                if raw not in self.choices:
                    errors.add(name, "Valeur inconnue.", "Unknown value.")
                    return self.blank_value()
                return raw
            case Kind.INTEGER:
                return self._integer(name, raw, errors)
            case Kind.MONEY:
                return _money(name, raw, errors)
            case Kind.MOMENT:
                return _moment(name, raw, zone, errors)
            case Kind.COLOR:
                return self._colour(name, raw, errors)
        raise AssertionError(self.kind)

    def blank_value(self) -> Any:
        return () if self.many and self.blank is None else self.blank

    def _integer(self, name: str, raw: str, errors: ConfigErrors) -> int | None:
        try:
            value = int(raw)
        except ValueError:
            errors.add(name, "Saisissez un nombre entier.", "Enter a whole number.")
            return self.blank_value()  # type: ignore[no-any-return]
        low = -(2**31) if self.low is None else self.low
        high = 2**31 - 1 if self.high is None else self.high
        if not low <= value <= high:
            errors.add(name, f"Entre {low} et {high}.", f"Between {low} and {high}.")
        return value

    def _colour(self, name: str, raw: str, errors: ConfigErrors) -> str:
        if not re.match(r"^#[0-9a-fA-F]{6}$", raw):
            errors.add(name, "Couleur au format #RRGGBB.", "Colour as #RRGGBB.")
            return str(self.blank)
        ratio = contrast(raw, "#ffffff")
        if ratio < MIN_CONTRAST:
            errors.add(
                name,
                "Couleur trop claire : le texte blanc posé dessus doit rester lisible "
                f"(contraste {ratio:.1f}, il faut {MIN_CONTRAST}).",
                "Colour too light: white text on it must stay readable "
                f"(contrast {ratio:.1f}, {MIN_CONTRAST} needed).",
            )
        return raw

    def form_value(self, value: Any, zone: ZoneInfo) -> str | list[str]:
        """The value as the form's field shows it."""
        match self.kind:
            case Kind.CHOICES:
                return list(value)
            case Kind.LIST:
                return self.joiner.join(value)
            case Kind.BOOLEAN:
                return "on" if value else ""
            case Kind.MOMENT:
                return "" if value is None else _local_moment(value, zone)
        return "" if value is None else str(value)

    # --- the API -----------------------------------------------------------------------------

    def json_as_form(self, name: str, value: Any, errors: ConfigErrors) -> list[tuple[str, str]]:
        """A JSON value as the form's fields, so that one parser judges both doors."""
        if self.many:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.add(
                    name, "Une liste de textes est attendue.", "A list of strings is expected."
                )
                return []
            if self.kind is Kind.CHOICES:
                return [(name, v) for v in value]
            return [(name, self.joiner.join(value))]
        if self.kind is Kind.BOOLEAN:
            if not isinstance(value, bool):
                errors.add(name, "Vrai ou faux attendu.", "true or false expected.")
                return []
            return [(name, "on" if value else "")]
        return [(name, scalar(name, value, errors))]

    def json_value(self, value: Any) -> Any:
        match self.kind:
            case Kind.CHOICES | Kind.LIST:
                return list(value)
            case Kind.MOMENT:
                return None if value is None else value.astimezone(UTC).isoformat()
            case Kind.MONEY:
                return None if value is None else str(value)
        return value

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the value, for the OpenAPI document."""
        nullable = self.blank is None and not self.required and not self.many
        base: dict[str, Any]
        match self.kind:
            case Kind.TEXT | Kind.ZONE:
                base = {"type": "string", "maxLength": self.max_length}
                if self.pattern:  # an optional field may also be left empty
                    base["pattern"] = self.pattern if self.required else f"^$|{self.pattern}"
                if self.required:
                    base["minLength"] = 1
            case Kind.CHOICE:
                base = {"type": "string", "enum": list(self.choices)}
            case Kind.CHOICES:
                return {"type": "array", "items": {"type": "string", "enum": list(self.choices)}}
            case Kind.LIST:
                return {"type": "array", "items": {"type": "string", "maxLength": 200}}
            case Kind.INTEGER:
                base = {"type": "integer"}
                if self.low is not None:
                    base["minimum"] = self.low
                if self.high is not None:
                    base["maximum"] = self.high
            case Kind.BOOLEAN:
                return {"type": "boolean"}
            case Kind.MOMENT:  # as the form reads it: the offset may be left out
                return {
                    "type": ["string", "null"],
                    "pattern": MOMENT_PATTERN,
                    "description": "A date and time, ISO 8601; without an offset, in the "
                    "contest's time zone.",
                }
            case Kind.COLOR:
                return {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
            case Kind.MONEY:
                return {"type": ["string", "number", "null"]}
        if nullable:
            base["type"] = [base["type"], "null"]
        return base

    # --- the database ----------------------------------------------------------------------

    def to_row(self, value: Any) -> Any:
        return list(value) if self.many else value

    def from_row(self, raw: Any) -> Any:
        return tuple(raw or ()) if self.many else raw


def setting(default: Any, kind: Kind, label: str, **options: Any) -> Any:
    """A field of a settings dataclass (a contest's, an organization's): its default and how
    it is handled."""
    options.setdefault("blank", default if kind is not Kind.TEXT else "")
    return field(default=default, metadata={"setting": Setting(kind, label, **options)})


def settings_of(declaration: type) -> dict[str, Setting]:
    """The declared settings of a dataclass, by name, in their order."""
    return {
        spec.name: spec.metadata["setting"]
        for spec in fields(declaration)
        if "setting" in spec.metadata
    }


# --- Reading typed text ------------------------------------------------------------------------


@dataclass
class ConfigErrors(Exception):
    """Field -> (French, English) message for input that cannot even be judged."""

    errors: dict[str, Problem] = field(default_factory=dict)

    def add(self, name: str, french: str, english: str) -> None:
        self.errors.setdefault(name, (french, english))


# What :func:`_moment` reads (datetime.fromisoformat), as the API's schema states it.
MOMENT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$"
)
CONTROL_PROBLEM = (
    "Ce champ contient des caractères non autorisés.",
    "This field contains characters that are not allowed.",
)
ONE_LINE_PROBLEM = (
    "Ce champ tient sur une seule ligne : retirez le retour à la ligne.",
    "This field takes one line: remove the line break.",
)
INVALID = ("Valeur non valide.", "Invalid value.")


def one(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def many(form: Mapping[str, Any], name: str) -> list[str]:
    getter = getattr(form, "getlist", None)
    values = getter(name) if getter else ([form[name]] if name in form else [])
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def scalar(name: str, value: Any, errors: ConfigErrors) -> str:
    """A JSON scalar as the text a form would carry."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # JSON Schema counts 40.0 as an integer
    if isinstance(value, int | float | str):
        return str(value)
    errors.add(name, "Valeur d'un type inattendu.", "Value of an unexpected type.")
    return ""


def _money(name: str, raw: str, errors: ConfigErrors) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        errors.add(name, "Saisissez un montant, par ex. 50.00.", "Enter an amount, e.g. 50.00.")
        return None
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        errors.add(name, "Montant hors limites.", "Amount out of range.")
        return None
    return value.quantize(Decimal("0.01"))


def _local_moment(value: datetime, zone: ZoneInfo) -> str:
    """A moment as the form types it, to the minute unless it carries seconds: a stored
    11:00:30 shown as 11:00 would come back a change (the draw brought forward).

    At most milliseconds: a browser's date-time field takes no more, and empties a value
    with microseconds, so the form would send the date back blank. A moment sent back as
    shown keeps its stored microseconds (:func:`shown_as_stored`)."""
    local = value.astimezone(zone).replace(tzinfo=None)
    if local.second or local.microsecond:
        return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    return local.strftime("%Y-%m-%dT%H:%M")


def shown_as_stored(sent: datetime | None, stored: datetime | None) -> bool:
    """Whether ``sent`` is the stored moment as the form showed it (to the millisecond)."""
    if sent is None or stored is None:
        return False
    return sent == stored.replace(microsecond=stored.microsecond // 1000 * 1000)


def _moment(name: str, raw: str, zone: ZoneInfo, errors: ConfigErrors) -> datetime | None:
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        errors.add(name, "Date invalide.", "Invalid date.")
        return None
    if not 2000 <= local.year <= 2200:
        errors.add(name, "Date hors limites (2000 à 2200).", "Date out of range (2000 to 2200).")
        return None
    return local.replace(tzinfo=zone) if local.tzinfo is None else local
