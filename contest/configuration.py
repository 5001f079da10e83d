"""Configuring a contest: the organizer's form, its live compliance check, saving, publishing.

No HTTP here. A configuration is parsed into a :class:`ContestInput`, judged by the rules
engine (the same check drives the live panel, the Publish button and the server's refusal),
and saved. Once published, the official rules text is frozen as a :class:`RulesVersion`; a
later change is judged by ALL-RULES-LOCK-1 and, when allowed, makes a new version with its
reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from contest.compliance import contest_facts
from contest.contests import ConsentOption, ContestView, PrizeView
from contest.draw import commitment, new_secret
from contest.forms import CATALOGUE, CONTROL_CHARS
from contest.media import contrast
from contest.models import AuditEvent, Contest, ContestStatus, Organizer, RulesVersion
from contest.models import Prize as PrizeRow
from rules import (
    ContestFacts,
    Finding,
    Severity,
    Verdict,
    evaluate_change,
    evaluate_configuration,
)

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
ORIGIN = re.compile(
    r"^(https://[a-z0-9.-]+(:\d{1,5})?|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)$"
)
MAX_PRIZES = 10
LANGUAGES = ("fr", "en")
JURISDICTIONS = ("FR", "DE", "BE", "US")
AUDIENCES = ("everyone", "clients", "segment")
MANY_FIELDS = 4  # seed 004: each field asked lowers conversion
MIN_CONTRAST = 4.5  # WCAG AA for normal text


@dataclass(frozen=True)
class PrizeInput:
    description: str
    quantity: int
    unit_value: Decimal | None
    currency: str = "EUR"
    kind: str = "voucher"
    voucher_min_order: Decimal | None = None
    voucher_validity_days: int | None = None


@dataclass(frozen=True)
class ContestInput:
    title: str
    slug: str
    description: str = ""
    language: str = "fr"
    jurisdictions: tuple[str, ...] = ("FR",)
    timezone: str = "Europe/Paris"
    offered_at: datetime | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    draw_at: datetime | None = None
    audience: str = "everyone"
    segment: str | None = None
    segment_min_orders: int = 0
    client_cutoff_at: datetime | None = None
    min_age: int | None = 18
    form_fields: tuple[str, ...] = ("first_name",)
    marketing_label_fr: str = ""
    marketing_label_en: str = ""
    partners_label_fr: str = ""
    partners_label_en: str = ""
    partners: tuple[str, ...] = ()
    referral_bonus: int = 0
    referral_cap: int | None = None
    attribution_days: int = 30
    leaderboard: bool = False
    platform_invitations: bool = False
    invitations_override_reason: str = ""
    embed_origins: tuple[str, ...] = ()
    popin_delay_hours: int = 24
    requires_purchase: bool = False
    purchase_bonus: bool = False
    draw_method: str = ""
    winner_notification: str = ""
    claim_days: int | None = 30
    privacy_notice: str = ""
    retention_months: int | None = 12
    excluded_email_domains: tuple[str, ...] = ()
    brand_color: str = "#1f4fd1"
    accent_color: str = "#6b3fd1"
    image_path: str | None = None
    logo_path: str | None = None
    prizes: tuple[PrizeInput, ...] = ()

    @property
    def consents(self) -> list[dict[str, str]]:
        options = []
        if self.marketing_label_fr or self.marketing_label_en:
            options.append(
                {
                    "purpose": "marketing_email",
                    "label_fr": self.marketing_label_fr,
                    "label_en": self.marketing_label_en,
                }
            )
        if self.partners_label_fr or self.partners_label_en or self.partners:
            options.append(
                {
                    "purpose": "partners",
                    "label_fr": self.partners_label_fr,
                    "label_en": self.partners_label_en,
                }
            )
        return options


@dataclass
class ConfigErrors(Exception):
    """Field -> (French, English) message for input that cannot even be judged."""

    errors: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, name: str, french: str, english: str) -> None:
        self.errors.setdefault(name, (french, english))


# --- Parsing the form ----------------------------------------------------------------------


def _one(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _many(form: Mapping[str, object], name: str) -> list[str]:
    getter = getattr(form, "getlist", None)
    values = getter(name) if getter else ([form[name]] if name in form else [])
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def parse_contest_form(form: Mapping[str, object]) -> ContestInput:
    """Reads the configuration form; raises ConfigErrors for values that are not well formed.

    Legal problems are not refused here: they are the rules engine's to report, so that the
    organizer sees every one of them at once, with its rule and source.
    """
    errors = ConfigErrors()

    def text(name: str, limit: int, required: bool = False, fr: str = "", en: str = "") -> str:
        value = _one(form, name).replace("\r\n", "\n")
        if CONTROL_CHARS.search(value):
            errors.add(
                name,
                "Ce champ contient des caractères non autorisés.",
                "This field contains characters that are not allowed.",
            )
            return ""
        if len(value) > limit:
            errors.add(name, f"{limit} caractères au plus.", f"At most {limit} characters.")
        if required and not value:
            errors.add(name, fr or "Champ obligatoire.", en or "This field is required.")
        return value[:limit]

    def integer(name: str, low: int, high: int, default: int | None) -> int | None:
        raw = _one(form, name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            errors.add(name, "Saisissez un nombre entier.", "Enter a whole number.")
            return default
        if not low <= value <= high:
            errors.add(name, f"Entre {low} et {high}.", f"Between {low} and {high}.")
        return value

    def money(name: str) -> Decimal | None:
        raw = _one(form, name).replace(",", ".").replace(" ", "")
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            errors.add(name, "Saisissez un montant, par ex. 50.00.", "Enter an amount, e.g. 50.00.")
            return None
        if value < 0 or value > Decimal("10000000"):
            errors.add(name, "Montant hors limites.", "Amount out of range.")
            return None
        return value.quantize(Decimal("0.01"))

    timezone = _one(form, "timezone") or "Europe/Paris"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", "Fuseau horaire inconnu.", "Unknown time zone.")
        zone, timezone = ZoneInfo("Europe/Paris"), "Europe/Paris"

    def moment(name: str) -> datetime | None:
        raw = _one(form, name)
        if not raw:
            return None
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            errors.add(name, "Date invalide.", "Invalid date.")
            return None
        if not 2000 <= local.year <= 2200:
            errors.add(
                name, "Date hors limites (2000 à 2200).", "Date out of range (2000 to 2200)."
            )
            return None
        return local.replace(tzinfo=zone) if local.tzinfo is None else local

    title = text("title", 200, True, "Donnez un titre au jeu.", "Give the contest a title.")
    slug = _one(form, "slug").lower()
    if not SLUG.match(slug):
        errors.add(
            "slug",
            "Adresse : lettres minuscules, chiffres et tirets (2 à 64).",
            "Address: lower-case letters, digits and hyphens (2 to 64).",
        )
    language = _one(form, "language") or "fr"
    if language not in LANGUAGES:
        errors.add("language", "Langue inconnue.", "Unknown language.")
    jurisdictions = tuple(j for j in _many(form, "jurisdictions") if j in JURISDICTIONS)
    audience = _one(form, "audience") or "everyone"
    if audience not in AUDIENCES:
        errors.add("audience", "Public inconnu.", "Unknown audience.")
    fields = tuple(name for name in _many(form, "form_fields") if name in CATALOGUE)

    def colour(name: str, default: str) -> str:
        value = _one(form, name) or default
        if not COLOR.match(value):
            errors.add(name, "Couleur au format #RRGGBB.", "Colour as #RRGGBB.")
            return default
        if contrast(value, "#ffffff") < MIN_CONTRAST:
            errors.add(
                name,
                "Couleur trop claire : le texte blanc posé dessus doit rester lisible "
                f"(contraste {contrast(value, '#ffffff'):.1f}, il faut {MIN_CONTRAST}).",
                "Colour too light: white text on it must stay readable "
                f"(contrast {contrast(value, '#ffffff'):.1f}, {MIN_CONTRAST} needed).",
            )
        return value

    color = colour("brand_color", "#1f4fd1")
    accent = colour("accent_color", "#6b3fd1")
    prizes = []
    for index in range(MAX_PRIZES):
        prefix = f"prize-{index}-"
        description = text(prefix + "description", 500)
        if not description:
            continue
        kind = _one(form, prefix + "kind") or "voucher"
        prizes.append(
            PrizeInput(
                description=description,
                quantity=integer(prefix + "quantity", 1, 100_000, 1) or 1,
                unit_value=money(prefix + "unit_value"),
                currency=(_one(form, prefix + "currency") or "EUR").upper()[:3],
                kind=kind if kind in {"voucher", "goods", "service"} else "goods",
                voucher_min_order=money(prefix + "min_order"),
                voucher_validity_days=integer(prefix + "validity_days", 1, 3650, None),
            )
        )
    result = ContestInput(
        title=title,
        slug=slug,
        description=text("description", 5000),
        language=language,
        jurisdictions=jurisdictions,
        timezone=timezone,
        offered_at=moment("offered_at"),
        opens_at=moment("opens_at"),
        closes_at=moment("closes_at"),
        draw_at=moment("draw_at"),
        audience=audience,
        segment=text("segment", 64) or None,
        segment_min_orders=integer("segment_min_orders", 0, 100_000, 0) or 0,
        client_cutoff_at=moment("client_cutoff_at"),
        min_age=integer("min_age", 0, 99, None),
        form_fields=fields,
        marketing_label_fr=text("marketing_label_fr", 500),
        marketing_label_en=text("marketing_label_en", 500),
        partners_label_fr=text("partners_label_fr", 500),
        partners_label_en=text("partners_label_en", 500),
        partners=tuple(p.strip() for p in text("partners", 1000).split("\n") if p.strip()),
        referral_bonus=integer("referral_bonus", 0, 100, 0) or 0,
        referral_cap=integer("referral_cap", 0, 10_000, None),
        attribution_days=integer("attribution_days", 1, 365, 30) or 30,
        leaderboard=_one(form, "leaderboard") == "on",
        platform_invitations=_one(form, "platform_invitations") == "on",
        invitations_override_reason=text("invitations_override_reason", 500),
        embed_origins=tuple(
            origin.rstrip("/")
            for origin in re.split(r"[\s,]+", text("embed_origins", 1000))
            if ORIGIN.match(origin.rstrip("/"))
        ),
        popin_delay_hours=integer("popin_delay_hours", 1, 24 * 90, 24) or 24,
        requires_purchase=_one(form, "requires_purchase") == "on",
        purchase_bonus=_one(form, "purchase_bonus") == "on",
        draw_method=text("draw_method", 500),
        winner_notification=text("winner_notification", 500),
        claim_days=integer("claim_days", 1, 365, None),
        privacy_notice=text("privacy_notice", 5000),
        retention_months=integer("retention_months", 1, 120, None),
        excluded_email_domains=tuple(
            d.strip().lower().lstrip("@")
            for d in re.split(r"[\s,;]+", text("excluded_email_domains", 1000))
            if d.strip()
        ),
        brand_color=color,
        accent_color=accent,
        prizes=tuple(prizes),
    )
    if errors.errors:
        raise errors
    return result


# --- Judging ---------------------------------------------------------------------------------


def view_of(contest: ContestInput, organizer: Organizer, status: str = "draft") -> ContestView:
    """The configuration as participants would see it (the preview and the rules use this)."""
    assert organizer.id is not None
    return ContestView(
        id=0,
        organizer_id=organizer.id,
        slug=contest.slug,
        title=contest.title,
        description=contest.description,
        language=contest.language,
        jurisdictions=contest.jurisdictions,
        status=status,
        audience=contest.audience,
        segment=contest.segment,
        segment_min_orders=contest.segment_min_orders,
        offered_at=contest.offered_at,
        opens_at=contest.opens_at,
        closes_at=contest.closes_at,
        draw_at=contest.draw_at,
        client_cutoff_at=contest.client_cutoff_at,
        timezone=contest.timezone,
        min_age=contest.min_age if contest.min_age is not None else 0,
        form_fields=contest.form_fields,
        consents=tuple(
            ConsentOption(c["purpose"], c["label_fr"], c["label_en"]) for c in contest.consents
        ),
        partners=contest.partners,
        excluded_email_domains=contest.excluded_email_domains,
        draw_method=contest.draw_method,
        winner_notification=contest.winner_notification,
        claim_days=contest.claim_days,
        privacy_notice=contest.privacy_notice,
        retention_months=contest.retention_months,
        referral_bonus=contest.referral_bonus,
        referral_cap=contest.referral_cap,
        attribution_days=contest.attribution_days,
        leaderboard=contest.leaderboard,
        platform_invitations=contest.platform_invitations,
        invitations_override_reason=contest.invitations_override_reason,
        embed_origins=contest.embed_origins,
        popin_delay_hours=contest.popin_delay_hours,
        draw_commitment=None,
        requires_purchase=contest.requires_purchase,
        purchase_bonus=contest.purchase_bonus,
        brand_color=contest.brand_color,
        accent_color=contest.accent_color,
        image_path=contest.image_path,
        logo_path=contest.logo_path,
        organizer_name=organizer.legal_name,
        organizer_address=organizer.postal_address,
        organizer_contact=organizer.contact_email,
        prizes=tuple(
            PrizeView(
                rank=rank,
                description=p.description,
                quantity=p.quantity,
                unit_value=p.unit_value,
                currency=p.currency,
                kind=p.kind,
                voucher_min_order=p.voucher_min_order,
                voucher_validity_days=p.voucher_validity_days,
            )
            for rank, p in enumerate(contest.prizes, start=1)
        ),
    )


def facts_of(contest: ContestInput, organizer: Organizer) -> ContestFacts:
    """The rules engine's view of a configuration and its organizer's identity."""
    return contest_facts(view_of(contest, organizer))


FORM_DISCIPLINE = Finding(
    rule_id="FORM-FIELDS-1",
    severity=Severity.WARN,
    message_fr=(
        "Plus de quatre champs sont demandés : chaque champ en plus fait baisser le nombre de "
        "participations."
    ),
    message_en="More than four fields are asked: each extra field lowers the number of entries.",
    source="Product practice (seed 004: few, relevant fields)",
    field="form_fields",
)


def judge(contest: ContestInput, organizer: Organizer, now: datetime) -> Verdict:
    """Every refusal and warning for this configuration, as of publishing it at ``now``."""
    facts = facts_of(contest, organizer)
    if facts.offered_at is None:
        facts = replace(facts, offered_at=now)
    verdict = evaluate_configuration(facts, now)
    if len(contest.form_fields) + 1 > MANY_FIELDS:
        verdict = Verdict((*verdict.findings, FORM_DISCIPLINE))
    return verdict


# --- Saving and the lifecycle ------------------------------------------------------------------


class ContestRefused(Exception):
    """A save or a transition refused by the rules; ``verdict`` holds every reason."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(", ".join(verdict.rule_ids))
        self.verdict = verdict


class SlugTaken(Exception):
    """Another contest already uses this address."""


class TransitionRefused(Exception):
    """The contest cannot go from its status to the one asked for."""


TRANSITIONS = {
    "publish": ({ContestStatus.DRAFT}, None),
    "close": ({ContestStatus.SCHEDULED, ContestStatus.OPEN}, ContestStatus.CLOSED),
    "archive": ({ContestStatus.CLOSED, ContestStatus.DRAWN}, ContestStatus.ARCHIVED),
}


def _apply(row: Contest, contest: ContestInput) -> None:
    row.title = contest.title
    row.slug = contest.slug
    row.description = contest.description
    row.language = contest.language
    row.jurisdictions = list(contest.jurisdictions)
    row.timezone = contest.timezone
    row.offered_at = contest.offered_at if row.status == ContestStatus.DRAFT else row.offered_at
    row.opens_at = contest.opens_at
    row.closes_at = contest.closes_at
    row.draw_at = contest.draw_at
    row.audience = contest.audience
    row.segment = contest.segment
    row.segment_min_orders = contest.segment_min_orders
    row.client_cutoff_at = contest.client_cutoff_at
    row.min_age = contest.min_age if contest.min_age is not None else 0
    row.form_fields = list(contest.form_fields)
    row.consents = contest.consents
    row.partners = list(contest.partners)
    row.referral_bonus = contest.referral_bonus
    row.referral_cap = contest.referral_cap
    row.attribution_days = contest.attribution_days
    row.leaderboard = contest.leaderboard
    row.platform_invitations = contest.platform_invitations
    row.invitations_override_reason = contest.invitations_override_reason
    row.embed_origins = list(contest.embed_origins)
    row.popin_delay_hours = contest.popin_delay_hours
    row.requires_purchase = contest.requires_purchase
    row.purchase_bonus = contest.purchase_bonus
    row.draw_method = contest.draw_method
    row.winner_notification = contest.winner_notification
    row.claim_days = contest.claim_days
    row.privacy_notice = contest.privacy_notice
    row.retention_months = contest.retention_months
    row.excluded_email_domains = list(contest.excluded_email_domains)
    row.brand_color = contest.brand_color
    row.accent_color = contest.accent_color
    row.image_path = contest.image_path
    row.logo_path = contest.logo_path


def _replace_prizes(session: Session, contest_id: int, prizes: Sequence[PrizeInput]) -> None:
    for old in session.exec(select(PrizeRow).where(PrizeRow.contest_id == contest_id)).all():
        session.delete(old)
    session.flush()
    for rank, prize in enumerate(prizes, start=1):
        session.add(
            PrizeRow(
                contest_id=contest_id,
                rank=rank,
                description=prize.description,
                quantity=prize.quantity,
                unit_value=prize.unit_value,
                currency=prize.currency,
                kind=prize.kind,
                voucher_min_order=prize.voucher_min_order,
                voucher_validity_days=prize.voucher_validity_days,
            )
        )


def _slug_free(session: Session, slug: str, contest_id: int | None) -> bool:
    taken = session.exec(select(Contest.id).where(Contest.slug == slug)).first()
    return taken is None or taken == contest_id


def audit(
    session: Session, organizer_id: int, contest_id: int | None, action: str, **detail: object
) -> None:
    session.add(
        AuditEvent(organizer_id=organizer_id, contest_id=contest_id, action=action, detail=detail)
    )


def form_values(contest: ContestInput) -> dict[str, object]:
    """The configuration as the form's fields (strings), to fill the form back in."""

    def local(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(ZoneInfo(contest.timezone)).strftime("%Y-%m-%dT%H:%M")

    def number(value: object) -> str:
        return "" if value is None else str(value)

    values: dict[str, object] = {
        "title": contest.title,
        "slug": contest.slug,
        "description": contest.description,
        "language": contest.language,
        "jurisdictions": list(contest.jurisdictions),
        "timezone": contest.timezone,
        "offered_at": local(contest.offered_at),
        "opens_at": local(contest.opens_at),
        "closes_at": local(contest.closes_at),
        "draw_at": local(contest.draw_at),
        "audience": contest.audience,
        "segment": contest.segment or "",
        "segment_min_orders": number(contest.segment_min_orders),
        "client_cutoff_at": local(contest.client_cutoff_at),
        "min_age": number(contest.min_age),
        "form_fields": list(contest.form_fields),
        "marketing_label_fr": contest.marketing_label_fr,
        "marketing_label_en": contest.marketing_label_en,
        "partners_label_fr": contest.partners_label_fr,
        "partners_label_en": contest.partners_label_en,
        "partners": "\n".join(contest.partners),
        "referral_bonus": number(contest.referral_bonus),
        "referral_cap": number(contest.referral_cap),
        "attribution_days": number(contest.attribution_days),
        "leaderboard": "on" if contest.leaderboard else "",
        "platform_invitations": "on" if contest.platform_invitations else "",
        "invitations_override_reason": contest.invitations_override_reason,
        "embed_origins": "\n".join(contest.embed_origins),
        "popin_delay_hours": number(contest.popin_delay_hours),
        "requires_purchase": "on" if contest.requires_purchase else "",
        "purchase_bonus": "on" if contest.purchase_bonus else "",
        "draw_method": contest.draw_method,
        "winner_notification": contest.winner_notification,
        "claim_days": number(contest.claim_days),
        "privacy_notice": contest.privacy_notice,
        "retention_months": number(contest.retention_months),
        "excluded_email_domains": ", ".join(contest.excluded_email_domains),
        "brand_color": contest.brand_color,
        "accent_color": contest.accent_color,
    }
    for index, prize in enumerate(contest.prizes):
        prefix = f"prize-{index}-"
        values[prefix + "description"] = prize.description
        values[prefix + "quantity"] = number(prize.quantity)
        values[prefix + "unit_value"] = number(prize.unit_value)
        values[prefix + "currency"] = prize.currency
        values[prefix + "kind"] = prize.kind
        values[prefix + "min_order"] = number(prize.voucher_min_order)
        values[prefix + "validity_days"] = number(prize.voucher_validity_days)
    return values


def raw_values(form: Mapping[str, object]) -> dict[str, object]:
    """What the organizer typed, to show it back next to the errors."""
    values: dict[str, object] = {}
    for name in form:
        many = _many(form, name)
        values[name] = many if name in {"jurisdictions", "form_fields"} else _one(form, name)
    return values


def input_of(row: Contest, prizes: Sequence[PrizeRow]) -> ContestInput:
    """The configuration of a stored contest, as the form would send it back."""
    labels = {c["purpose"]: c for c in row.consents}
    marketing = labels.get("marketing_email", {})
    partners = labels.get("partners", {})
    return ContestInput(
        title=row.title,
        slug=row.slug,
        description=row.description,
        language=row.language,
        jurisdictions=tuple(row.jurisdictions),
        timezone=row.timezone,
        offered_at=row.offered_at,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        draw_at=row.draw_at,
        audience=row.audience,
        segment=row.segment,
        segment_min_orders=row.segment_min_orders,
        client_cutoff_at=row.client_cutoff_at,
        min_age=row.min_age,
        form_fields=tuple(row.form_fields),
        marketing_label_fr=marketing.get("label_fr", ""),
        marketing_label_en=marketing.get("label_en", ""),
        partners_label_fr=partners.get("label_fr", ""),
        partners_label_en=partners.get("label_en", ""),
        partners=tuple(row.partners),
        referral_bonus=row.referral_bonus,
        referral_cap=row.referral_cap,
        attribution_days=row.attribution_days,
        leaderboard=row.leaderboard,
        platform_invitations=row.platform_invitations,
        invitations_override_reason=row.invitations_override_reason,
        embed_origins=tuple(row.embed_origins or ()),
        popin_delay_hours=row.popin_delay_hours,
        requires_purchase=row.requires_purchase,
        purchase_bonus=row.purchase_bonus,
        draw_method=row.draw_method,
        winner_notification=row.winner_notification,
        claim_days=row.claim_days,
        privacy_notice=row.privacy_notice,
        retention_months=row.retention_months,
        excluded_email_domains=tuple(row.excluded_email_domains),
        brand_color=row.brand_color,
        accent_color=row.accent_color,
        image_path=row.image_path,
        logo_path=row.logo_path,
        prizes=tuple(
            PrizeInput(
                description=p.description,
                quantity=p.quantity,
                unit_value=p.unit_value,
                currency=p.currency,
                kind=p.kind,
                voucher_min_order=p.voucher_min_order,
                voucher_validity_days=p.voucher_validity_days,
            )
            for p in sorted(prizes, key=lambda p: p.rank)
        ),
    )


def prizes_of(session: Session, contest_id: int) -> list[PrizeRow]:
    return list(
        session.exec(
            select(PrizeRow).where(PrizeRow.contest_id == contest_id).order_by(col(PrizeRow.rank))
        ).all()
    )


def create_contest(
    session: Session, organizer: Organizer, contest: ContestInput, now: datetime
) -> Contest:
    """Saves a new draft. Drafts may be incomplete; only publishing is judged by the rules.

    Refuses (SlugTaken) an address another contest already uses.
    """
    assert organizer.id is not None
    if not _slug_free(session, contest.slug, None):
        raise SlugTaken(contest.slug)
    row = Contest(organizer_id=organizer.id, slug=contest.slug, title=contest.title)
    row.status = ContestStatus.DRAFT
    _apply(row, contest)
    row.created_at = row.updated_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    _replace_prizes(session, row.id, contest.prizes)
    audit(session, organizer.id, row.id, "contest.created", slug=row.slug)
    session.commit()
    return row


def update_contest(
    session: Session,
    organizer: Organizer,
    row: Contest,
    contest: ContestInput,
    now: datetime,
    reason: str = "",
) -> Contest:
    """Saves a changed configuration.

    A draft changes freely. A published contest keeps its address, and a change is judged
    twice: the new configuration must pass the rules (ContestRefused otherwise), and the
    change itself must not hurt participants (ALL-RULES-LOCK-1). An allowed change freezes a
    new rules version; its reason is required and kept.
    """
    assert organizer.id is not None and row.id is not None
    published = row.status != ContestStatus.DRAFT
    if published:
        contest = replace(contest, slug=row.slug)
        before = facts_of(input_of(row, prizes_of(session, row.id)), organizer)
        after = replace(facts_of(contest, organizer), offered_at=row.offered_at)
        verdict = Verdict(
            (
                *evaluate_change(before, after, now).findings,
                *judge(contest, organizer, now).findings,
            )
        )
        if not verdict.ok:
            raise ContestRefused(verdict)
        if not reason.strip():
            raise ConfigErrors(
                {
                    "reason": (
                        "Indiquez la raison de la modification : "
                        "elle est publiée avec le règlement.",
                        "Give the reason for the change: it is published with the rules.",
                    )
                }
            )
    elif not _slug_free(session, contest.slug, row.id):
        raise SlugTaken(contest.slug)
    _apply(row, contest)
    row.updated_at = now
    session.add(row)
    _replace_prizes(session, row.id, contest.prizes)
    audit(session, organizer.id, row.id, "contest.updated", reason=reason.strip())
    session.flush()
    if published:
        freeze_rules(session, row, now, reason.strip())
    session.commit()
    return row


def freeze_rules(session: Session, row: Contest, now: datetime, reason: str) -> RulesVersion | None:
    """Stores the rules text as published now, unless this exact text is already stored."""
    from contest.contests import load_contest
    from contest.officialrules import rules_text, rules_version

    assert row.id is not None
    view = load_contest(session.connection(), row.slug)
    if view is None:
        return None
    version = rules_version(view)
    exists = session.exec(
        select(RulesVersion).where(
            RulesVersion.contest_id == row.id, RulesVersion.version == version
        )
    ).first()
    if exists is not None:
        return None
    frozen = RulesVersion(
        contest_id=row.id, version=version, text=rules_text(view), reason=reason, published_at=now
    )
    session.add(frozen)
    return frozen


def publish_contest(session: Session, organizer: Organizer, row: Contest, now: datetime) -> Contest:
    """Publishes a draft: it becomes visible, and open once its opening date comes.

    Refuses (ContestRefused, with every failing rule) while any refuse-level rule fails; the
    moment of publication becomes the date the contest was offered (FR-CLIENTS-1 compares the
    client cut-off with it) unless an earlier one was set.
    """
    assert organizer.id is not None and row.id is not None
    if row.status != ContestStatus.DRAFT:
        raise TransitionRefused(f"{row.status} -> publish")
    contest = input_of(row, prizes_of(session, row.id))
    offered = min(contest.offered_at, now) if contest.offered_at else now
    verdict = judge(replace(contest, offered_at=offered), organizer, now)
    if not verdict.ok:
        raise ContestRefused(verdict)
    row.offered_at = offered
    if row.draw_secret is None:  # ALL-DRAW-COMMIT-1: commit before the pool even exists
        row.draw_secret = new_secret()
        row.draw_commitment = commitment(row.draw_secret)
    row.status = (
        ContestStatus.OPEN
        if row.opens_at is None or row.opens_at <= now
        else ContestStatus.SCHEDULED
    )
    row.updated_at = now
    session.add(row)
    session.flush()
    freeze_rules(session, row, now, "publication")
    audit(session, organizer.id, row.id, "contest.published", status=row.status)
    session.commit()
    return row


def transition(
    session: Session, organizer: Organizer, row: Contest, action: str, now: datetime
) -> Contest:
    """Closes or archives a contest; refuses (TransitionRefused) any other move.

    Closing before the closing date in the rules is refused: it would shorten the contest to
    the participants' detriment (ALL-RULES-LOCK-1).
    """
    assert organizer.id is not None
    allowed, target = TRANSITIONS.get(action, (set(), None))
    if row.status not in allowed or target is None:
        raise TransitionRefused(f"{row.status} -> {action}")
    if action == "close" and row.closes_at is not None and row.closes_at > now:
        raise TransitionRefused("ALL-RULES-LOCK-1")
    row.status = target
    row.updated_at = now
    session.add(row)
    audit(session, organizer.id, row.id, f"contest.{action}")
    session.commit()
    return row
