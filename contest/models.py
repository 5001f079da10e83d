"""The database tables (SQLModel), related tables together.

Uniqueness that the product promises ("one entry per person and contest", "one person per
organizer and address", "a message is sent once") is enforced here by constraints, not by
application code alone. Timestamps are stored in UTC and always come back timezone-aware.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from contest.actors import current_actor
from contest.columns import UTCDateTime, utcnow

# --- Organizers and their contests -------------------------------------------------------


class Organizer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    password_hash: str = Field(max_length=255)
    # Legal identity printed in the official rules and in every e-mail (FR-RULES-1, US-CANSPAM-1).
    legal_name: str = Field(default="", max_length=200)
    postal_address: str = Field(default="", max_length=500)
    contact_email: str = Field(default="", max_length=254)
    legal_form: str = Field(default="", max_length=100)
    company_number: str = Field(default="", max_length=50)
    privacy_contact: str = Field(default="", max_length=254)
    # How e-mails present the organization: the sender's name and where replies go.
    sender_name: str = Field(default="", max_length=100)
    reply_to: str = Field(default="", max_length=254)
    logo_path: str | None = Field(default=None, max_length=200)
    # What a new contest starts with.
    default_timezone: str = Field(default="Europe/Paris", max_length=64)
    default_language: str = Field(default="fr", max_length=5)
    # The contact-pressure cap (contest.leads.pressure): at most this many marketing messages
    # to one person in this many days, whatever sends them.
    contact_limit: int = 1
    contact_period_days: int = 7
    # Bumped when the password changes: every session cookie signed before is refused.
    session_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Member(SQLModel, table=True):
    """A colleague or an agency working in an organizer's workspace, with a role
    (contest.members). The organizer's own account is its first owner and has no row here."""

    __table_args__ = (sa.UniqueConstraint("organizer_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    email: str = Field(max_length=254, index=True)
    role: str = Field(max_length=16)
    # Empty until the invitation is accepted and a password chosen.
    password_hash: str = Field(default="", max_length=255)
    session_version: int = 1
    invited_by: str = Field(default="", max_length=254)
    invited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ContestStatus:
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    DRAWN = "drawn"
    ARCHIVED = "archived"


class Contest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    slug: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    language: str = Field(default="fr", max_length=5)
    jurisdictions: list[str] = Field(default_factory=lambda: ["FR"], sa_type=JSON)
    status: str = Field(default=ContestStatus.DRAFT, max_length=16)
    audience: str = Field(default="everyone", max_length=16)
    segment: str | None = Field(default=None, max_length=64)
    segment_min_orders: int = 0
    offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    draw_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    client_cutoff_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    min_age: int = 18
    # Extra form fields besides the e-mail, from a closed catalogue (see contest.forms).
    form_fields: list[str] = Field(default_factory=lambda: ["first_name"], sa_type=JSON)
    # Qualifying questions (contest.forms.Question as contest.contests.formats stores them);
    # an entry keeps its answers in ``answers["questions"]``.
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # The wordings of the optional consent boxes (a box shows when it has a wording).
    marketing_label_fr: str = Field(default="", max_length=500)
    marketing_label_en: str = Field(default="", max_length=500)
    partners_label_fr: str = Field(default="", max_length=500)
    partners_label_en: str = Field(default="", max_length=500)
    partners: list[str] = Field(default_factory=list, sa_type=JSON)
    # Staff and people running the contest are excluded by their e-mail domain (ALL-ELIGIBILITY-1).
    excluded_email_domains: list[str] = Field(default_factory=list, sa_type=JSON)
    draw_method: str = Field(default="", max_length=500)
    winner_notification: str = Field(default="", max_length=500)
    claim_days: int | None = 30
    privacy_notice: str = Field(default="", max_length=5000)
    retention_months: int | None = 12
    referral_bonus: int = 0
    referral_cap: int | None = None
    # First-touch attribution window for referral and partner links, in days.
    attribution_days: int = 30
    # Platform-sent invitations (ALL-REFER-INVITE-1): off unless the rules allow them.
    platform_invitations: bool = False
    invitations_override_reason: str = Field(default="", max_length=500)
    leaderboard: bool = False
    confirm_reminder: bool = True
    friend_mail: bool = True
    last_days_mail: bool = True
    results_mail: bool = True
    consolation: str = Field(default="", max_length=500)
    # The capture pop-in for the organizer's shop: where it may be embedded, and how long a
    # dismissal lasts before it may show again.
    embed_origins: list[str] = Field(default_factory=list, sa_type=JSON)
    popin_delay_hours: int = 24
    # Commit before, reveal after (ALL-DRAW-COMMIT-1): the secret is drawn at publication and
    # only its SHA-256 commitment is shown until the draw record reveals it.
    draw_secret: str | None = Field(default=None, max_length=64)
    draw_commitment: str | None = Field(default=None, max_length=64)
    # Instant win (contest.instantwin): the format, how moments are spread, what becomes of a
    # prize whose moment nobody reached; the salt the moments come from (secret until the
    # close) and the commitment to the moments published at publication.
    game: str = Field(default="draw", max_length=16)
    instant_spread: str = Field(default="period", max_length=16)
    instant_leftover: str = Field(default="final_draw", max_length=16)
    instant_salt: str | None = Field(default=None, max_length=64)
    instant_commitment: str | None = Field(default=None, max_length=64)
    # The contest question (one right answer) and the tie-breaker a "ranking" game is won by.
    question: str = Field(default="", max_length=300)
    question_translation: str = Field(default="", max_length=300)
    question_choices: list[str] = Field(default_factory=list, sa_type=JSON)
    question_answer: str = Field(default="", max_length=100)
    tiebreaker: str = Field(default="", max_length=300)
    tiebreaker_translation: str = Field(default="", max_length=300)
    # The ways to enter (FR-COSTS-1): the page, free channels the organizer runs, paid ones.
    entry_channels: list[str] = Field(default_factory=lambda: ["web"], sa_type=JSON)
    # FR-DEPOSIT-1: where the rules were deposited (optional), printed in them.
    deposit_officer: str = Field(default="", max_length=300)
    deposit_reference: str = Field(default="", max_length=100)
    deposit_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # United States: states left out, NY/FL registration, the prizes' value in dollars.
    us_states_excluded: list[str] = Field(default_factory=list, sa_type=JSON)
    us_registration_filed: bool = False
    ny_filing_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fl_filing_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    prizes_value_usd: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    ri_registration_filed: bool = False
    # California (US-CA-CCPA-1): the organizer's CCPA coverage and its notice, in the rules.
    ccpa_covered: bool = False
    ccpa_incentive_notice: str = Field(default="", max_length=3000)
    # FR-COSTS-1: the optional reimbursement of participation costs, printed in the rules.
    cost_reimbursement: bool = False
    reimbursement_address: str = Field(default="", max_length=300)
    reimbursement_days: int | None = None
    reimbursement_basis: str = Field(default="", max_length=500)
    # The public value mixed into the draw (contest.draw.beacon): its source as the organizer
    # chose it, and, from publication, its announcement (JSON), e.g. the drand round.
    randomness: str = Field(default="drand", max_length=16)
    randomness_detail: str = Field(default="", max_length=200)
    draw_beacon: str | None = Field(default=None, sa_type=sa.Text)
    # Kept only so that the rules engine can refuse them: never publishable for prospects.
    requires_purchase: bool = False
    purchase_bonus: bool = False
    brand_color: str = Field(default="#1f4fd1", max_length=7)
    accent_color: str = Field(default="#6b3fd1", max_length=7)
    image_path: str | None = Field(default=None, max_length=200)
    logo_path: str | None = Field(default=None, max_length=200)
    # The texts in the contest's second language (see ContestSettings.in_language).
    title_translation: str = Field(default="", max_length=200)
    description_translation: str = Field(default="", max_length=5000)
    draw_method_translation: str = Field(default="", max_length=500)
    winner_notification_translation: str = Field(default="", max_length=500)
    privacy_notice_translation: str = Field(default="", max_length=5000)
    consolation_translation: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Prize(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    rank: int
    description: str = Field(max_length=500)
    quantity: int = 1
    unit_value: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    currency: str = Field(default="EUR", max_length=3)
    kind: str = Field(default="voucher", max_length=16)
    voucher_min_order: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    voucher_validity_days: int | None = None
    description_translation: str = Field(default="", max_length=500)


class Client(SQLModel, table=True):
    """A client of the organizer's shop, as the shop knows them (FR-CLIENTS-1)."""

    __table_args__ = (sa.UniqueConstraint("organizer_id", "email_key"),)

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id")
    email_key: str = Field(max_length=254)
    client_since: datetime = Field(sa_type=UTCDateTime)
    orders_count: int = 0
    segments: list[str] = Field(default_factory=list, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClientVersion(SQLModel, table=True):
    """What the shop said about a client, and when we learned it: every import or API upsert
    that changes a client appends one. Rows are only ever inserted. Eligibility for a
    client-only contest reads the latest version learned before the contest's cut-off, so a
    later sync (more orders, an earlier ``client_since``) cannot let anyone in (FR-CLIENTS-1)."""

    __tablename__ = "clientversion"
    __table_args__ = (sa.Index("ix_clientversion_lookup", "organizer_id", "email_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id")
    email_key: str = Field(max_length=254)
    client_since: datetime = Field(sa_type=UTCDateTime)
    orders_count: int = 0
    segments: list[str] = Field(default_factory=list, sa_type=JSON)
    learned_at: datetime = Field(sa_type=UTCDateTime)


class ClientSet(SQLModel, table=True):
    """The clients a client-only contest admits, committed at publication: their count and the
    SHA-256 of their sorted identity keys, shown on the official rules."""

    __tablename__ = "clientset"

    contest_id: int = Field(foreign_key="contest.id", primary_key=True)
    cutoff: datetime = Field(sa_type=UTCDateTime)
    clients: int = 0
    digest: str = Field(max_length=64)
    committed_at: datetime = Field(sa_type=UTCDateTime)


# --- Participants ------------------------------------------------------------------------


class Person(SQLModel, table=True):
    """One person per organizer and identity key (normalised e-mail)."""

    __table_args__ = (sa.UniqueConstraint("organizer_id", "email_key"),)

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id")
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254)
    first_name: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Meaningful activity only (an entry, a confirmation, a click): the retention clock.
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undeliverable: bool = False  # a hard bounce was reported for the address
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EntryStatus:
    PENDING = "pending"
    CONFIRMED = "confirmed"


class Entry(SQLModel, table=True):
    """One entry per person and contest; pending until the double opt-in link is followed."""

    __table_args__ = (
        sa.UniqueConstraint("contest_id", "person_id"),
        # The dashboard's totals and viral counts from the index alone (migration 0035).
        sa.Index(
            "ix_entry_contest_status",
            "contest_id",
            "status",
            "referrer_entry_id",
            "confirmed_at",
            "chances",
        ),
        sa.Index("ix_entry_contest_source", "contest_id", "source", "status"),
        # Down referral chains (viral.stats generations and cohorts): children by referrer.
        sa.Index("ix_entry_referrer_status", "referrer_entry_id", "status", "contest_id"),
        # The bot guard's recent traffic (contest.botguard): entries of the last hour, counted
        # from the index alone.
        sa.Index("ix_entry_contest_created", "contest_id", "created_at", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    contest_id: int = Field(foreign_key="contest.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(default=EntryStatus.PENDING, max_length=16)
    chances: int = 1
    rules_version: str = Field(max_length=64)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    source: str = Field(default="direct", max_length=64)
    language: str = Field(default="fr", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmation_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the one reminder to confirm went out (contest.reminders); never a second one.
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the referrer was last told that friends confirmed (at most daily, contest.reminders).
    friends_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the "last days" e-mail and the results went out (contest.reminders); once each.
    last_days_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    results_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the entrant was last told of a change to the rules (contest.reminders).
    rules_noticed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The participant's share code (/r/{code}), given at confirmation.
    referral_code: str | None = Field(
        default=None, max_length=16, sa_column_kwargs={"unique": True}
    )
    # Who brought this entry (first touch within the contest's window), if anyone.
    referrer_entry_id: int | None = Field(default=None, foreign_key="entry.id")
    ip_network: str = Field(default="", max_length=64)
    # The evidence of the eligibility decision: for a client-only contest, the client version
    # it read (or none), the cut-off and the rule's outcome (contest.eligibility).
    eligibility: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ConsentRecord(SQLModel, table=True):
    """Append-only proof of consent (EU-CONSENT-PROOF-1): who, when, what wording, how.

    Rows are only ever inserted. The current state of a consent is the latest row for the
    person and purpose.
    """

    __table_args__ = (
        sa.Index("ix_consent_person_purpose", "person_id", "purpose", "id"),
        sa.UniqueConstraint("organizer_id", "seq", name="uq_consent_chain_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id")
    person_id: int = Field(foreign_key="person.id")
    entry_id: int | None = Field(default=None, foreign_key="entry.id")
    purpose: str = Field(max_length=32)  # rules | marketing_email | marketing_sms | partners
    event: str = Field(max_length=16)  # granted | confirmed | withdrawn
    wording: str = Field(max_length=2000)
    wording_hash: str = Field(max_length=64)
    language: str = Field(max_length=5)
    page_url: str = Field(default="", max_length=500)
    channel: str = Field(default="web", max_length=16)
    ip_truncated: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Tamper evidence: the sealer numbers each organizer's records in order and chains their
    # hashes (record_hash covers the record and prev_hash). Unsealed records have seq NULL.
    seq: int | None = None
    prev_hash: str | None = Field(default=None, max_length=64)
    record_hash: str | None = Field(default=None, max_length=64)


class ConsentChain(SQLModel, table=True):
    """The head of an organizer's consent chain: the last sealed record."""

    organizer_id: int = Field(foreign_key="organizer.id", primary_key=True)
    last_seq: int = 0
    last_hash: str = Field(default="", max_length=64)


class DataRequest(SQLModel, table=True):
    """A data-subject request (access, erasure), logged with its legal deadline (EU-RIGHTS-1)."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    person_id: int | None = Field(default=None)
    kind: str = Field(max_length=16)  # access | erasure
    channel: str = Field(default="web", max_length=16)  # web | api | mail
    requested_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PurgeLog(SQLModel, table=True):
    """What the retention purge removed, and when (EU-RETENTION-1)."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    contest_id: int | None = Field(default=None)
    persons: int = 0
    ran_at: datetime = Field(sa_type=UTCDateTime)


class CampaignStatus:
    DRAFT = "draft"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"


class Campaign(SQLModel, table=True):
    """An e-mail announcing a contest to a segment of the organizer's leads (contest.campaigns);
    its settings are :class:`contest.campaigns.CampaignSettings`."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    contest_id: int = Field(foreign_key="contest.id")
    name: str = Field(max_length=100)
    subject_fr: str = Field(default="", max_length=200)
    body_fr: str = Field(default="", max_length=5000)
    subject_en: str = Field(default="", max_length=200)
    body_en: str = Field(default="", max_length=5000)
    segment: str | None = Field(default=None, max_length=32)
    min_score: int = 0
    source: str | None = Field(default=None, max_length=64)
    clients: str = Field(default="any", max_length=16)
    active_days: int | None = None
    language: str = Field(default="any", max_length=5)
    basis: str = Field(default="consent", max_length=32)
    rate_per_minute: int = 100
    status: str = Field(default=CampaignStatus.DRAFT, max_length=16)
    link_code: str = Field(max_length=16)  # its tracked link (/s/{code}) to the contest
    audience_at_start: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_batch_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CampaignRecipient(SQLModel, table=True):
    """A person a campaign's e-mail was queued for: once per campaign, whatever happens."""

    __table_args__ = (sa.UniqueConstraint("campaign_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    queued_at: datetime = Field(sa_type=UTCDateTime)


class ContactEvent(SQLModel, table=True):
    """A marketing contact made with a person (e-mail, pop-in), for the pressure cap."""

    __table_args__ = (sa.Index("ix_contactevent_person_time", "person_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id")
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)


class CrmConnection(SQLModel, table=True):
    """Where an organizer's leads are pushed: a signed webhook or Brevo."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=16)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The secret settings (keys, signing secrets), encrypted with the app's key
    # (contest.secretbox); never shown again in full.
    sealed: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Outbox ------------------------------------------------------------------------------


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    """A message to deliver, written in the same transaction as what caused it.

    The worker claims rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), renders the template
    with the payload, delivers, and marks the row sent. ``idempotency_key`` is unique: the
    same cause never enqueues two messages, and it becomes the e-mail's Message-ID.
    """

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, sa_column_kwargs={"unique": True})
    kind: str = Field(default="email", max_length=16)
    template: str = Field(max_length=64)
    recipient: str = Field(max_length=254)
    language: str = Field(default="fr", max_length=5)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- Organizer workspace -----------------------------------------------------------------


class RulesVersion(SQLModel, table=True):
    """The official rules as published: frozen text, its hash, and why it changed."""

    __table_args__ = (sa.UniqueConstraint("contest_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    version: str = Field(max_length=64)  # SHA-256 of the text
    text: str
    reason: str = Field(default="", max_length=500)
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The PDF of this version as rendered when it was stored (contest.rulespdf), and its hash.
    pdf: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    pdf_sha256: str | None = Field(default=None, max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API, scoped to one organizer; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=12)
    # What the token may do (contest.roles); tokens are created by owners.
    role: str = Field(default="owner", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrganizerSession(SQLModel, table=True):
    """A signed-in browser of the workspace (contest.sessions): the cookie is valid only while
    its row is neither revoked nor past its end, so signing out, or the owner's "sign out this
    session", ends a copied cookie too. Only the hash of the cookie's nonce is stored."""

    __tablename__ = "organizersession"

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    nonce_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    device: str = Field(default="", max_length=120)  # a summary of the User-Agent
    network: str = Field(default="", max_length=64)  # the /24 or /48, never the address


class RateLimitHit(SQLModel, table=True):
    """Fixed-window counters shared by every app process (login, entries, resends)."""

    __tablename__ = "ratelimit"
    bucket: str = Field(max_length=200, primary_key=True)
    window_start: datetime = Field(sa_type=UTCDateTime)
    hits: int = 0


class ChallengeState(SQLModel, table=True):
    """Whether a contest's entry form asks for the proof of work now (contest.botguard), as
    every app process reads it, and how many entries the challenge stopped."""

    contest_id: int = Field(foreign_key="contest.id", primary_key=True)
    required: bool = False
    reason: str = Field(default="", max_length=16)  # the signal that turned it on
    switched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_at: datetime = Field(sa_type=UTCDateTime)
    stopped_entries: int = 0
    stopped_invitations: int = 0


class SpentChallenge(SQLModel, table=True):
    """A proof of work already used (contest.proofofwork): each solves one form, once. Kept
    until its challenge expires, then purged."""

    signature: str = Field(max_length=128, primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class AuditEvent(SQLModel, table=True):
    """Append-only log of organizer actions (EU-ACCOUNT-1): who did what, to what, when."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True)
    contest_id: int | None = Field(default=None, foreign_key="contest.id")
    action: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Who acted (contest.actors): filled in from the request, whichever code writes the event.
    actor: str = Field(
        default_factory=current_actor,
        max_length=254,
        sa_column_kwargs={"default": current_actor},
    )


class FunnelCount(SQLModel, table=True):
    """Reporting counters per contest and day: page views, form starts (approximate)."""

    __table_args__ = (sa.UniqueConstraint("contest_id", "day", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id")
    day: date
    metric: str = Field(max_length=32)
    count: int = 0


# --- The draw ----------------------------------------------------------------------------------


class DrawRecordRow(SQLModel, table=True):
    """The signed record of a contest's draw; one per contest (a contest is drawn once)."""

    __tablename__ = "drawrecord"

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", sa_column_kwargs={"unique": True})
    record: str  # the JSON of contest.draw.DrawRecord, signed
    pool_digest: str = Field(max_length=64)
    drawn_at: datetime = Field(sa_type=UTCDateTime)
    operator: str = Field(default="", max_length=254)


class DrawPoolChunk(SQLModel, table=True):
    """The published pool file of a draw whose pool is too large to list in its record: the
    gzip of ``contest-pool-tsv/1`` text in parts of about a mebibyte, in order (no personal data:
    tickets and weights only)."""

    __tablename__ = "drawpoolchunk"

    contest_id: int = Field(foreign_key="contest.id", primary_key=True)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)


class InstantMoment(SQLModel, table=True):
    """One winning moment of an instant-win contest, fixed at publication: the first entry
    confirmed at or after ``at`` wins the prize line ``prize_rank`` (contest.instantwin)."""

    __tablename__ = "instantmoment"
    __table_args__ = (
        sa.UniqueConstraint("contest_id", "position"),
        sa.UniqueConstraint("contest_id", "entry_id"),
        sa.Index("ix_instantmoment_open", "contest_id", "entry_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id")
    position: int  # 1, 2, ... in time order
    at: datetime = Field(sa_type=UTCDateTime)
    prize_rank: int
    entry_id: int | None = Field(default=None, foreign_key="entry.id")
    won_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PoolFreeze(SQLModel, table=True):
    """A contest's pool as it stood at the close, frozen once by the worker (or by the draw, if
    it comes first): the entries confirmed before the close, with the chances earned by then,
    that the rules admit. The listing itself is the pool file (``drawpoolchunk``); the draw
    reads exactly that. Nothing that happens after the close changes it."""

    __tablename__ = "poolfreeze"

    contest_id: int = Field(foreign_key="contest.id", primary_key=True)
    closed_at: datetime = Field(sa_type=UTCDateTime)
    frozen_at: datetime = Field(sa_type=UTCDateTime)
    digest: str = Field(max_length=64)
    merkle_root: str = Field(max_length=64)
    entries: int = 0
    total_weight: int = 0
    exclusions: dict[str, int] = Field(default_factory=dict, sa_type=JSON)


class DrawPlacementRow(SQLModel, table=True):
    """Winners and alternates of a draw, linked back to their entries (kept private)."""

    __tablename__ = "drawplacement"
    __table_args__ = (sa.UniqueConstraint("contest_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    entry_id: int = Field(foreign_key="entry.id")
    rank: int
    kind: str = Field(max_length=16)  # winner | alternate
    prize_rank: int | None = None
    ticket: str = Field(max_length=128)


class AwardStatus:
    NOTIFIED = "notified"  # the winner was told and may claim until the deadline
    CLAIMED = "claimed"  # claimed: the voucher is issued
    DELIVERED = "delivered"  # the shop confirmed the voucher's code
    TO_IMPORT = "to_import"  # issued, no shop connection: the organizer imports the codes (CSV)
    EXPIRED = "expired"  # not claimed in time: passed to the next alternate


class PrizeAward(SQLModel, table=True):
    """A prize offered to one drawn person; one prize per person and contest."""

    __tablename__ = "prizeaward"
    __table_args__ = (sa.UniqueConstraint("contest_id", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    entry_id: int = Field(foreign_key="entry.id")
    prize_rank: int
    status: str = Field(default=AwardStatus.NOTIFIED, max_length=16)
    deadline: datetime = Field(sa_type=UTCDateTime)
    notified_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voucher_code: str | None = Field(default=None, max_length=40, sa_column_kwargs={"unique": True})
    shop_reference: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=200)


class ShopConnection(SQLModel, table=True):
    """Where an organizer's vouchers are created: WooCommerce, PrestaShop or a webhook."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=16)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    sealed: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SendingDomain(SQLModel, table=True):
    """A domain e-mails are sent From and its DKIM key (contest.sendingdomains): one per
    organizer, or with no organizer the platform's own (that of CONTEST_MAIL_FROM)."""

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int | None = Field(
        default=None, foreign_key="organizer.id", sa_column_kwargs={"unique": True}
    )
    address: str = Field(max_length=254)  # the From address, on the domain
    domain: str = Field(max_length=253, index=True)  # in ASCII (IDNA)
    selector: str = Field(max_length=63)
    public_key: str = Field(sa_type=sa.Text)  # the DKIM record's p=
    sealed_key: str = Field(sa_type=sa.Text)  # the private key, sealed (contest.secretbox)
    created_at: datetime = Field(sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_check: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# The referral and attribution tables belong to viral/; imported here so that every table is
# in the metadata (migrations, tests) whoever imports the models.
from viral.models import (  # noqa: E402
    Invitation,
    InviteSuppression,
    LinkClick,
    Referral,
    ReferralStatus,
    SourceLink,
)

__all__ = [
    "Invitation",
    "InviteSuppression",
    "LinkClick",
    "Referral",
    "ReferralStatus",
    "SourceLink",
    "UTCDateTime",
    "utcnow",
]
