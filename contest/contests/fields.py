"""Every configurable contest field, declared once.

:class:`ContestSettings` is the one declaration: each attribute carries its type, its default
and a :class:`~contest.contests.setting.Setting` (kind, bounds, label, which doors show it,
whether publication freezes it, the rules-engine fact it feeds). Everything else is derived
from it (``contest.contests.formats``): the workspace form's parsing and values, the API's
input, output and OpenAPI schema, the database row, and the facts handed to ``rules/``
(``contest.compliance``).

Adding a field is one line in :class:`ContestSettings`, a column in ``contest.models`` and a
migration. Prizes are ``rules.Prize``, their sub-fields declared in :data:`PRIZE_SETTINGS`;
qualifying questions are ``contest.forms.Question``, theirs in :data:`QUESTION_SETTINGS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Self, TypeVar

from contest.contests.setting import Kind, Setting, setting, settings_of
from contest.forms import CATALOGUE, Question
from contest.i18n import N_
from rules import US_STATES, Prize
from rules.facts import PAID_ENTRY_CHANNELS

T = TypeVar("T")

MAX_PRIZES = 10
MAX_QUESTIONS, MAX_CHOICES, MAX_CHOICE_LENGTH = 5, 8, 100  # qualifying questions
QUESTION_TARGETS = ("segment", "crm_field")
# A segment tag or a CRM field name: letters, digits, "_" and "-" (Brevo's attributes: A-Z_).
QUESTION_TARGET = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
LANGUAGES = ("fr", "en")
JURISDICTIONS = ("FR", "DE", "BE", "US")
AUDIENCES = ("everyone", "clients", "segment")
PRIZE_KINDS = ("voucher", "goods", "service")
RANDOMNESS_SOURCES = ("drand", "lottery", "bailiff")  # contest.draw.beacon.SOURCES
# contest.instantwin for the second; the third ranks the tie-breaker's closest answers.
DRAW, INSTANT_WIN, RANKING = "draw", "instant_win", "ranking"
GAMES = (DRAW, INSTANT_WIN, RANKING)
INSTANT_SPREADS = ("period", "daily")
INSTANT_LEFTOVERS = ("final_draw", "lost")
US_STATE_CODES = tuple(sorted(US_STATES))
# The ways to enter a contest may declare: the page itself, free ones run by the organizer, and
# the paid ones the rules refuse (FR-COSTS-1, FR-NOPURCHASE-1), named so that none slips by.
ENTRY_CHANNELS = ("web", "email", "post", "in_store", *PAID_ENTRY_CHANNELS)
DEFAULT_TIMEZONE = "Europe/Paris"
ORIGIN = re.compile(
    r"^(https://[a-z0-9.-]+(:\d{1,5})?|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)$"
)
SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


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
    description: str = setting("", Kind.TEXT, N_("Description"), max_length=5000, rows=3)
    language: str = setting(
        "fr", Kind.CHOICE, N_("Language of the contest"), choices=LANGUAGES, fact=None
    )
    jurisdictions: tuple[str, ...] = setting(
        ("FR",),
        Kind.CHOICES,
        N_("Where it runs (the legal rules of these places apply)"),
        choices=JURISDICTIONS,
        blank=(),
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
    # Left empty, the usual 18: never "0 or over" by omission.
    min_age: int = setting(18, Kind.INTEGER, N_("Minimum age"), low=0, high=99, blank=18)
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
    # United States (US-REG-1, US-REG-RI-1, US-GEO-1): states left out, registrations, and the
    # prizes' value in dollars when they are in another currency.
    us_states_excluded: tuple[str, ...] = setting(
        (),
        Kind.CHOICES,
        N_("US states excluded (void where prohibited)"),
        choices=US_STATE_CODES,
        blank=(),
    )
    us_registration_filed: bool = setting(
        False, Kind.BOOLEAN, N_("Registered and bonded in New York and Florida")
    )
    ny_filing_date: datetime | None = setting(
        None,
        Kind.MOMENT,
        N_("New York filing date"),
        hint=N_("At least 30 days before the opening."),
    )
    fl_filing_date: datetime | None = setting(
        None,
        Kind.MOMENT,
        N_("Florida filing date"),
        hint=N_("At least 7 days before the opening."),
    )
    ri_registration_filed: bool = setting(
        False,
        Kind.BOOLEAN,
        N_("Rhode Island statement filed (in-shop promotion over $500 of prizes)"),
    )
    ccpa_covered: bool = setting(
        False,
        Kind.BOOLEAN,
        N_("Your business is covered by the California Consumer Privacy Act (CCPA)"),
    )
    ccpa_incentive_notice: str = setting(
        "",
        Kind.TEXT,
        N_("Notice of Financial Incentive (California)"),
        hint=N_(
            "What participants give (their e-mail address and consents), what they get (an entry "
            "in the contest), how you value their data, and how they withdraw. Printed in the "
            "rules."
        ),
        max_length=3000,
        rows=4,
    )
    prizes_value_usd: Decimal | None = setting(
        None,
        Kind.MONEY,
        N_("Total prize value in US dollars"),
        hint=N_(
            "Needed when the prizes are in another currency: the US thresholds ($500 in Rhode "
            "Island, $5,000 in New York and Florida) are in dollars."
        ),
    )
    entry_channels: tuple[str, ...] = setting(
        ("web",),
        Kind.CHOICES,
        N_("Ways to enter"),
        choices=ENTRY_CHANNELS,
        blank=(),
    )
    # FR-COSTS-1: the optional reimbursement of what taking part costs (a stamp, a connection).
    cost_reimbursement: bool = setting(
        False, Kind.BOOLEAN, N_("Reimburse what taking part costs (stamp, connection)")
    )
    reimbursement_address: str = setting(
        "",
        Kind.TEXT,
        N_("Where to ask for the reimbursement"),
        hint=N_("A postal or e-mail address, printed in the rules."),
        max_length=300,
    )
    reimbursement_days: int | None = setting(
        None,
        Kind.INTEGER,
        N_("Days after the close to ask for it"),
        low=1,
        high=365,
        blank=None,
    )
    reimbursement_basis: str = setting(
        "",
        Kind.TEXT,
        N_("What is reimbursed, and on what basis"),
        hint=N_("For example: the stamp at the standard letter rate; 3 minutes of connection."),
        max_length=500,
    )
    requires_purchase: bool = setting(
        False, Kind.BOOLEAN, N_("Participants must have made a purchase")
    )
    purchase_bonus: bool = setting(False, Kind.BOOLEAN, N_("Extra chances for buyers"))
    form_fields: tuple[str, ...] = setting(
        ("first_name",), Kind.CHOICES, N_("Entry form"), choices=tuple(CATALOGUE), blank=()
    )
    # Up to five single- or multiple-choice questions on the entry form, typed like prizes
    # (``question-{index}-{name}``, QUESTION_SETTINGS; a list of objects in the API). They
    # feed EU-MINIMIZE-1 through contest.compliance, and are kept once the contest is live.
    questions: tuple[Question, ...] = setting(
        (),
        Kind.LIST,
        N_("Qualifying questions"),
        high=MAX_QUESTIONS,
        form=False,
        frozen_once_published=True,
        fact=None,
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
    confirm_reminder: bool = setting(
        True,
        Kind.BOOLEAN,
        N_("Remind once, 24 hours later, those who have not confirmed their entry"),
        fact=None,
    )
    friend_mail: bool = setting(
        True,
        Kind.BOOLEAN,
        N_("Tell referrers when friends confirm, with their new chances (at most once a day)"),
        fact=None,
    )
    last_days_mail: bool = setting(
        True,
        Kind.BOOLEAN,
        N_(
            "Three days before the close, e-mail those who accepted your offers their link to "
            "share (once, within the contact limit)"
        ),
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
    # Instant win (contest.instantwin): winning moments drawn and committed at publication.
    game: str = setting(
        "draw",
        Kind.CHOICE,
        N_("Game format"),
        choices=GAMES,
        frozen_once_published=True,
        fact=None,
    )
    instant_spread: str = setting(
        "period",
        Kind.CHOICE,
        N_("Winning moments (instant win)"),
        choices=INSTANT_SPREADS,
        frozen_once_published=True,
        fact=None,
    )
    instant_leftover: str = setting(
        "final_draw",
        Kind.CHOICE,
        N_("Prizes whose moment nobody reached (instant win)"),
        choices=INSTANT_LEFTOVERS,
        frozen_once_published=True,
        fact=None,
    )
    # The contest question (a game of knowledge: only the right answers take part) and the
    # tie-breaker question a "ranking" game is won by (contest.draw.drawing).
    question: str = setting(
        "",
        Kind.TEXT,
        N_("Contest question (optional)"),
        hint=N_(
            "A question with one right answer: only the entries that answer it right take part."
        ),
        max_length=300,
        frozen_once_published=True,
        fact=None,
    )
    question_choices: tuple[str, ...] = setting(
        (),
        Kind.LIST,
        N_("Its answers, one per line"),
        hint=N_("Shown as they are in both languages, e.g. Bleu / Blue."),
        max_length=1000,
        item=str.strip,
        frozen_once_published=True,
        fact=None,
    )
    question_answer: str = setting(
        "",
        Kind.TEXT,
        N_("The right answer"),
        max_length=100,
        frozen_once_published=True,
        fact=None,
    )
    tiebreaker: str = setting(
        "",
        Kind.TEXT,
        N_("Tie-breaker question (ranking)"),
        hint=N_(
            "Answered with a whole number; the winners are the closest to the number of entries "
            "confirmed before the close, for example: How many entries will be confirmed?"
        ),
        max_length=300,
        frozen_once_published=True,
        fact=None,
    )
    draw_method: str = setting("", Kind.TEXT, N_("How winners are chosen"), rows=3)
    randomness: str = setting(
        "drand",
        Kind.CHOICE,
        N_("Public value mixed into the draw"),
        choices=RANDOMNESS_SOURCES,
        frozen_once_published=True,
        fact=None,
    )
    randomness_detail: str = setting(
        "",
        Kind.TEXT,
        N_("Which lottery draw, or which bailiff"),
        hint=N_(
            "For a lottery: its name and the date of the draw whose result is used, after the "
            "close (e.g. EuroMillions of 15 December 2026). For a bailiff: their name and office."
        ),
        max_length=200,
        frozen_once_published=True,
        fact=None,
    )
    winner_notification: str = setting("", Kind.TEXT, N_("How winners are told"))
    # FR-DEPOSIT-1: the rules' deposit with a commissaire de justice, optional, printed in them.
    deposit_officer: str = setting(
        "",
        Kind.TEXT,
        N_("Rules deposited with (optional)"),
        hint=N_("The commissaire de justice or deposit service: name and office address."),
        max_length=300,
        fact=None,
    )
    deposit_reference: str = setting(
        "", Kind.TEXT, N_("Deposit reference"), max_length=100, fact=None
    )
    deposit_at: datetime | None = setting(None, Kind.MOMENT, N_("Deposit date"), fact=None)
    claim_days: int | None = setting(
        30, Kind.INTEGER, N_("Days to claim a prize"), low=1, high=365, blank=None
    )
    privacy_notice: str = setting(
        "", Kind.TEXT, N_("Personal-data notice"), max_length=5000, rows=4
    )
    results_mail: bool = setting(
        True,
        Kind.BOOLEAN,
        N_("After the draw, e-mail the results to every confirmed participant"),
        fact=None,
    )
    consolation: str = setting(
        "",
        Kind.TEXT,
        N_("Consolation offer for those not drawn (optional)"),
        hint=N_(
            "Sent with the results and stated in the rules, e.g. €10 off your next order with "
            "the code MERCI10 (create the code in your shop first)."
        ),
        rows=2,
        fact=None,
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
    # The contest's texts in its second language (English for a French contest, French for an
    # English one); a text left empty shows in the contest's own language.
    title_translation: str = setting(
        "", Kind.TEXT, N_("Title, in the second language"), max_length=200
    )
    description_translation: str = setting(
        "", Kind.TEXT, N_("Description, in the second language"), max_length=5000, rows=3
    )
    question_translation: str = setting(
        "", Kind.TEXT, N_("Contest question, in the second language"), max_length=300,
        frozen_once_published=True, fact=None,
    )  # fmt: skip
    tiebreaker_translation: str = setting(
        "", Kind.TEXT, N_("Tie-breaker question, in the second language"), max_length=300,
        frozen_once_published=True, fact=None,
    )  # fmt: skip
    draw_method_translation: str = setting(
        "", Kind.TEXT, N_("How winners are chosen, in the second language"), rows=3, fact=None
    )
    winner_notification_translation: str = setting(
        "", Kind.TEXT, N_("How winners are told, in the second language"), fact=None
    )
    privacy_notice_translation: str = setting(
        "", Kind.TEXT, N_("Personal-data notice, in the second language"), max_length=5000,
        rows=4, fact=None,
    )  # fmt: skip
    consolation_translation: str = setting(
        "", Kind.TEXT, N_("Consolation offer, in the second language"), rows=2, fact=None
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
    def second_language(self) -> str:
        return "en" if self.language == "fr" else "fr"

    def derived(self, compute: Callable[[Any], T]) -> T:
        """``compute(self)``, worked out once per snapshot (it never changes) and kept on it.

        Kept on the instance rather than in a cache keyed by the snapshot: such a key is
        hashed, field by field, at every look-up, and each reload of an unchanged contest
        (every few seconds) is compared with the first one field by field as well.
        """
        kept: dict[Callable[[Any], Any], Any] = self.__dict__.setdefault("_derived", {})
        try:
            value: T = kept[compute]
        except KeyError:
            value = kept[compute] = compute(self)
        return value

    def in_language(self, language: str) -> Self:
        """The same contest with its texts in ``language``: the second language's version of
        each text where it was given, the contest's own text where it was not."""
        if language == self.language:
            return self
        texts = {
            name: getattr(self, f"{name}_translation") or getattr(self, name) for name in TRANSLATED
        }
        prizes = tuple(
            replace(prize, description=prize.description_translation or prize.description)
            for prize in self.prizes
        )
        questions = tuple(question.translated() for question in self.questions)
        return replace(self, **texts, prizes=prizes, questions=questions)

    def prize_description(self, rank: int, default: str) -> str:
        """Prize ``rank``'s description (in this view's language), or ``default``."""
        return next((p.description for p in self.prizes if p.rank == rank), default)

    def missing_translations(self) -> tuple[str, ...]:
        """The form fields whose text is given in the contest's language but not in its
        second one (``prize-{index}-description_translation`` for a prize,
        ``question-{index}-text_translation`` and ``...-choices_translation`` for a question)."""
        missing = [
            f"{name}_translation"
            for name in TRANSLATED
            if getattr(self, name).strip() and not getattr(self, f"{name}_translation").strip()
        ]
        missing += [
            f"prize-{index}-description_translation"
            for index, prize in enumerate(self.prizes)
            if not prize.description_translation.strip()
        ]
        missing += [
            f"question-{index}-{name}"
            for index, question in enumerate(self.questions)
            for name in ("text_translation", "choices_translation")
            if not getattr(question, name)
        ]
        return tuple(missing)

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


# The texts given in each of the contest's languages (each has a ``{name}_translation``).
TRANSLATED = (
    "title",
    "description",
    "question",
    "tiebreaker",
    "draw_method",
    "winner_notification",
    "privacy_notice",
    "consolation",
)

SETTINGS: dict[str, Setting] = settings_of(ContestSettings)

# A prize line's fields (``rules.Prize``), as the form (``prize-{index}-{name}``) and the API
# (``prizes[index].name``) type them.
PRIZE_SETTINGS: dict[str, Setting] = {
    "description": Setting(Kind.TEXT, N_("Description"), blank=""),
    "description_translation": Setting(
        Kind.TEXT, N_("Description, in the second language"), blank=""
    ),
    "quantity": Setting(Kind.INTEGER, N_("Quantity"), low=1, high=100_000, blank=1),
    "unit_value": Setting(Kind.MONEY, N_("Unit value")),
    "currency": Setting(Kind.TEXT, N_("Currency"), max_length=3, blank="EUR"),
    "kind": Setting(Kind.CHOICE, N_("Kind"), choices=PRIZE_KINDS, blank="voucher"),
    "voucher_min_order": Setting(Kind.MONEY, N_("Minimum order (voucher)")),
    "voucher_validity_days": Setting(Kind.INTEGER, N_("Valid for (days)"), low=1, high=3650),
}

# A qualifying question's fields (``contest.forms.Question``), as the form
# (``question-{index}-{name}``) and the API (``questions[index].name``) type them.
QUESTION_SETTINGS: dict[str, Setting] = {
    "text": Setting(Kind.TEXT, N_("Question"), max_length=200, blank=""),
    "text_translation": Setting(
        Kind.TEXT, N_("Question, in the second language"), max_length=200, blank=""
    ),
    "choices": Setting(
        Kind.LIST,
        N_("Answers offered, one per line"),
        hint=N_("From 2 to 8 answers."),
        max_length=(MAX_CHOICE_LENGTH + 1) * MAX_CHOICES,
        item=str.strip,
    ),
    "choices_translation": Setting(
        Kind.LIST,
        N_("Answers, in the second language, one per line, in the same order"),
        max_length=(MAX_CHOICE_LENGTH + 1) * MAX_CHOICES,
        item=str.strip,
    ),
    "multiple": Setting(Kind.BOOLEAN, N_("Several answers may be chosen"), blank=False),
    "required": Setting(Kind.BOOLEAN, N_("An answer is required to enter"), blank=False),
    "maps_to": Setting(
        Kind.CHOICE, N_("The answers go to"), choices=QUESTION_TARGETS, blank="segment"
    ),
    "target": Setting(
        Kind.TEXT,
        N_("Segment tag or CRM field"),
        hint=N_(
            "Letters, digits, _ and -. A segment tag marks each lead with the answer "
            "(tag:answer); a CRM field receives the answer's wording."
        ),
        max_length=40,
        pattern=QUESTION_TARGET,
        pattern_problem=(
            "Lettres, chiffres, _ et - (40 au plus), sans espace.",
            "Letters, digits, _ and - (40 at most), no spaces.",
        ),
        blank="",
    ),
}
