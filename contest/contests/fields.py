"""Every configurable contest field, declared once.

:class:`ContestSettings` is the one declaration: each attribute carries its type, its default
and a :class:`Setting` (kind, bounds, label, which doors show it, whether publication freezes
it, the rules-engine fact it feeds). Everything else is derived from it:

- the workspace form's parsing (:func:`parse_contest_form`) and the values it shows back
  (:func:`form_values`);
- the API's input (:func:`json_as_form`, so the API and the form share one parser), its
  output (:func:`settings_json`) and its OpenAPI schema (:func:`json_schema`);
- the database row (:func:`row_values`, :func:`settings_of_row`);
- the facts handed to ``rules/`` (``contest.compliance``).

Adding a field is one line in :class:`ContestSettings`, a column in ``contest.models`` and a
migration. Prizes are ``rules.Prize``, their sub-fields declared in :data:`PRIZE_SETTINGS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contest.forms import CATALOGUE, CONTROL_CHARS
from contest.i18n import N_
from contest.media import contrast
from rules import Prize

MAX_PRIZES = 10
LANGUAGES = ("fr", "en")
JURISDICTIONS = ("FR", "DE", "BE", "US")
AUDIENCES = ("everyone", "clients", "segment")
PRIZE_KINDS = ("voucher", "goods", "service")
MIN_CONTRAST = 4.5  # WCAG AA for normal text: white text on the organizer's colours
MAX_MONEY = Decimal("10000000")
DEFAULT_TIMEZONE = "Europe/Paris"
ORIGIN = re.compile(
    r"^(https://[a-z0-9.-]+(:\d{1,5})?|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)$"
)
SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


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


Problem = tuple[str, str]  # (French, English)


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
            return tuple(value for value in many(form, name) if value in self.choices)
        if self.kind is Kind.BOOLEAN:
            return one(form, name) == "on"
        raw = one(form, name).lower() if self.lower else one(form, name)
        if self.kind in {Kind.TEXT, Kind.LIST}:
            raw = raw.replace("\r\n", "\n")
            if CONTROL_CHARS.search(raw):
                errors.add(name, *CONTROL_PROBLEM)
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
            case Kind.TEXT | Kind.ZONE:
                if self.pattern and not re.match(self.pattern, raw):
                    errors.add(name, *(self.pattern_problem or INVALID))
                return raw
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
                return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
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
                if self.pattern:
                    base["pattern"] = self.pattern
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
            case Kind.MOMENT:
                return {"type": ["string", "null"], "format": "date-time"}
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
    """A field of :class:`ContestSettings`: its default and how it is handled."""
    options.setdefault("blank", default if kind is not Kind.TEXT else "")
    return field(default=default, metadata={"setting": Setting(kind, label, **options)})


def _origin(item: str) -> str | None:
    origin = item.strip().rstrip("/")
    return origin if ORIGIN.match(origin) else None


def _domain(item: str) -> str | None:
    return item.strip().lower().lstrip("@") or None


REQUIRED_TITLE = ("Donnez un titre au jeu.", "Give the contest a title.")
SLUG_PROBLEM = (
    "Adresse : lettres minuscules, chiffres et tirets (2 à 64).",
    "Address: lower-case letters, digits and hyphens (2 to 64).",
)


@dataclass(frozen=True, kw_only=True)
class ContestSettings:
    """A contest's configuration as the organizer sets it: the one list of its fields."""

    title: str = setting("", Kind.TEXT, N_("Title"), max_length=200, required=REQUIRED_TITLE)
    slug: str = setting(
        "",
        Kind.TEXT,
        N_("Address"),
        hint=N_("Lower-case letters, digits and hyphens: the page will be /c/your-address."),
        max_length=64,
        pattern=SLUG,
        pattern_problem=SLUG_PROBLEM,
        required=SLUG_PROBLEM,
        lower=True,
        frozen_once_published=True,
    )
    description: str = setting("", Kind.TEXT, N_("Description"), max_length=5000, rows=3, fact=None)
    language: str = setting(
        "fr", Kind.CHOICE, N_("Language of the contest"), choices=LANGUAGES, fact=None
    )
    jurisdictions: tuple[str, ...] = setting(
        ("FR",), Kind.CHOICES, N_("Where it runs (the legal rules of these places apply)"), choices=JURISDICTIONS, blank=()
    )
    timezone: str = setting(
        DEFAULT_TIMEZONE, Kind.ZONE, N_("Time zone"), hint=N_("For example Europe/Paris."),
        max_length=64, fact=None,
    )  # fmt: skip
    offered_at: datetime | None = setting(
        None,
        Kind.MOMENT,
        N_("First announced on (optional)"),
        hint=N_("When the contest is first shown or sent; by default, when you publish it."),
        frozen_once_published=True,
    )
    opens_at: datetime | None = setting(None, Kind.MOMENT, N_("Opens on"))
    closes_at: datetime | None = setting(None, Kind.MOMENT, N_("Closes on"))
    draw_at: datetime | None = setting(None, Kind.MOMENT, N_("Draw on"))
    audience: str = setting("everyone", Kind.CHOICE, N_("Audience"), choices=AUDIENCES)
    client_cutoff_at: datetime | None = setting(
        None,
        Kind.MOMENT,
        N_("Clients before (cut-off)"),
        hint=N_(
            "Only people who were clients before this moment may enter; it must come before "
            "the contest is announced."
        ),
    )
    segment: str | None = setting(
        None, Kind.TEXT, N_("Segment (tag in your client list)"), max_length=64, blank=None
    )
    segment_min_orders: int = setting(
        0, Kind.INTEGER, N_("Minimum number of orders"), low=0, high=100_000
    )
    min_age: int = setting(18, Kind.INTEGER, N_("Minimum age"), low=0, high=99, blank=0)
    excluded_email_domains: tuple[str, ...] = setting(
        (),
        Kind.LIST,
        N_("Excluded e-mail domains (staff)"),
        hint=N_("Separated by commas, e.g. myshop.fr"),
        max_length=1000,
        separator=r"[\s,;]+",
        joiner=", ",
        item=_domain,
    )
    requires_purchase: bool = setting(
        False, Kind.BOOLEAN, N_("Participants must have made a purchase")
    )
    purchase_bonus: bool = setting(False, Kind.BOOLEAN, N_("Extra chances for buyers"))
    form_fields: tuple[str, ...] = setting(
        ("first_name",), Kind.CHOICES, N_("Entry form"), choices=tuple(CATALOGUE), blank=()
    )
    marketing_label_fr: str = setting(
        "", Kind.TEXT, N_("Your e-mail offers: wording in French"), fact=None
    )
    marketing_label_en: str = setting(
        "", Kind.TEXT, N_("Your e-mail offers: wording in English"), fact=None
    )
    partners_label_fr: str = setting(
        "", Kind.TEXT, N_("Partners' offers: wording in French"), fact=None
    )
    partners_label_en: str = setting(
        "", Kind.TEXT, N_("Partners' offers: wording in English"), fact=None
    )
    partners: tuple[str, ...] = setting(
        (),
        Kind.LIST,
        N_("Partners, one per line"),
        hint=N_("Partners must be named on the form; nothing is shared while the list is empty."),
        max_length=1000,
        item=str.strip,
        fact=None,
    )
    referral_bonus: int = setting(
        0, Kind.INTEGER, N_("Extra chances per confirmed referral (0: off)"), low=0, high=100
    )
    referral_cap: int | None = setting(
        None, Kind.INTEGER, N_("Most extra chances per participant"), low=0, high=10_000
    )
    attribution_days: int = setting(
        30,
        Kind.INTEGER,
        N_("A link counts for (days after the first click)"),
        low=1,
        high=365,
        fact=None,
    )
    leaderboard: bool = setting(
        False,
        Kind.BOOLEAN,
        N_("Show a leaderboard of referrers (first name and initial only)"),
        fact=None,
    )
    platform_invitations: bool = setting(
        False,
        Kind.BOOLEAN,
        N_("Let participants have the platform e-mail an invitation (not allowed in the EU)"),
    )
    invitations_override_reason: str = setting(
        "",
        Kind.TEXT,
        N_("Legal override for EU contests (reason, logged)"),
        hint=N_(
            "Only with your counsel's advice: German and French law treat such e-mails as "
            "your own unsolicited advertising."
        ),
        rows=3,
        fact=None,
    )
    embed_origins: tuple[str, ...] = setting(
        (),
        Kind.LIST,
        N_("Shop addresses allowed to show the pop-in, one per line"),
        hint=N_("For example https://www.myshop.fr"),
        max_length=1000,
        separator=r"[\s,]+",
        item=_origin,
        fact=None,
    )
    popin_delay_hours: int = setting(
        24,
        Kind.INTEGER,
        N_("After a visitor closes it, hide it for (hours)"),
        low=1,
        high=24 * 90,
        fact=None,
    )
    draw_method: str = setting("", Kind.TEXT, N_("How winners are chosen"), rows=3)
    winner_notification: str = setting("", Kind.TEXT, N_("How winners are told"))
    claim_days: int | None = setting(
        30, Kind.INTEGER, N_("Days to claim a prize"), low=1, high=365, blank=None
    )
    privacy_notice: str = setting(
        "", Kind.TEXT, N_("Personal-data notice"), max_length=5000, rows=4
    )
    retention_months: int | None = setting(
        12,
        Kind.INTEGER,
        N_("Months data are kept after the contest"),
        low=1,
        high=120,
        blank=None,
    )
    brand_color: str = setting("#1f4fd1", Kind.COLOR, N_("Main colour (buttons, links)"), fact=None)
    accent_color: str = setting(
        "#6b3fd1", Kind.COLOR, N_("Second colour (prize banner)"), fact=None
    )
    # Uploaded files: set by the upload, not typed into the form or the API.
    image_path: str | None = setting(
        None, Kind.TEXT, N_("Contest image"), form=False, api=False, fact=None, blank=None
    )
    logo_path: str | None = setting(
        None, Kind.TEXT, N_("Logo"), form=False, api=False, fact=None, blank=None
    )
    prizes: tuple[Prize, ...] = ()

    @property
    def consents(self) -> tuple[ConsentOption, ...]:
        """The optional consent boxes the entry form shows, from their wordings."""
        options = []
        if self.marketing_label_fr or self.marketing_label_en:
            options.append(
                ConsentOption("marketing_email", self.marketing_label_fr, self.marketing_label_en)
            )
        if self.partners_label_fr or self.partners_label_en or self.partners:
            options.append(
                ConsentOption("partners", self.partners_label_fr, self.partners_label_en)
            )
        return tuple(options)


@dataclass(frozen=True)
class ConsentOption:
    purpose: str
    label_fr: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" else self.label_en


SETTINGS: dict[str, Setting] = {
    spec.name: spec.metadata["setting"]
    for spec in fields(ContestSettings)
    if "setting" in spec.metadata
}

# A prize line's fields (``rules.Prize``), as the form (``prize-{index}-{name}``) and the API
# (``prizes[index].name``) type them.
PRIZE_SETTINGS: dict[str, Setting] = {
    "description": Setting(Kind.TEXT, N_("Description"), blank=""),
    "quantity": Setting(Kind.INTEGER, N_("Quantity"), low=1, high=100_000, blank=1),
    "unit_value": Setting(Kind.MONEY, N_("Unit value")),
    "currency": Setting(Kind.TEXT, N_("Currency"), max_length=3, blank="EUR"),
    "kind": Setting(Kind.CHOICE, N_("Kind"), choices=PRIZE_KINDS, blank="voucher"),
    "voucher_min_order": Setting(Kind.MONEY, N_("Minimum order (voucher)")),
    "voucher_validity_days": Setting(Kind.INTEGER, N_("Valid for (days)"), low=1, high=3650),
}


# --- Reading typed text ----------------------------------------------------------------------


@dataclass
class ConfigErrors(Exception):
    """Field -> (French, English) message for input that cannot even be judged."""

    errors: dict[str, Problem] = field(default_factory=dict)

    def add(self, name: str, french: str, english: str) -> None:
        self.errors.setdefault(name, (french, english))


CONTROL_PROBLEM = (
    "Ce champ contient des caractères non autorisés.",
    "This field contains characters that are not allowed.",
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


def _zone(form: Mapping[str, Any], errors: ConfigErrors) -> ZoneInfo:
    name = one(form, "timezone") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", "Fuseau horaire inconnu.", "Unknown time zone.")
        return ZoneInfo(DEFAULT_TIMEZONE)


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
    prizes: list[Prize] = []
    for index in range(MAX_PRIZES):
        prefix = f"prize-{index}-"
        item = {
            name: spec.parse(prefix + name, form, zone, errors)
            for name, spec in PRIZE_SETTINGS.items()
        }
        if item["description"]:
            item["currency"] = (item["currency"] or "EUR").upper()[:3]
            prizes.append(Prize(rank=len(prizes) + 1, **item))
    if errors.errors:
        raise errors
    return ContestSettings(**values, prizes=tuple(prizes))


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
    is accepted as GET returns it, and must match its place in the list.
    """
    errors = ConfigErrors()
    if not isinstance(data, dict):
        errors.add("", "Un objet JSON est attendu.", "A JSON object is expected.")
        raise errors
    pairs: list[tuple[str, str]] = []
    for name, value in data.items():
        spec = SETTINGS.get(name)
        if name in extra:
            continue
        if name == "prizes":
            pairs.extend(_prizes_as_form(value, errors))
        elif spec is None or not spec.api:
            errors.add(str(name)[:64], "Champ inconnu.", "Unknown field.")
        else:
            pairs.extend(spec.json_as_form(name, value, errors))
    if errors.errors:
        raise errors
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
    return properties


# --- The database row --------------------------------------------------------------------------


def row_values(contest: ContestSettings, *, published: bool) -> dict[str, Any]:
    """The columns to write for this configuration; a published contest keeps its frozen ones."""
    return {
        name: spec.to_row(getattr(contest, name))
        for name, spec in SETTINGS.items()
        if not (published and spec.frozen_once_published)
    }


def settings_of_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The typed settings of a stored contest row (a mapping of its columns)."""
    return {name: spec.from_row(row[name]) for name, spec in SETTINGS.items()}


def prize_of_row(row: Any) -> Prize:
    return Prize(rank=row.rank, **{name: getattr(row, name) for name in PRIZE_SETTINGS})


def with_prizes(contest: ContestSettings, prizes: Iterable[Prize]) -> ContestSettings:
    return replace(contest, prizes=tuple(prizes))
