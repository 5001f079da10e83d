"""E-mail campaigns: a contest announced to a segment of the organizer's leads.

Who receives one
    The organizer's leads (``contest.leads.export.lead_query``) matching the campaign's filters:
    segment, minimum score, source, client or prospect, last activity, language. Among them,
    each person is either ``eligible`` or left out for one reason, counted before sending:
    ``bounced`` (the address was refused for good), ``unsubscribed`` (withdrew their consent),
    ``no_consent`` (never gave it, or never confirmed it), ``cap`` (reached as often as the
    organizer's contact limit allows, ``contest.leads.pressure``); erased people are counted
    apart (nothing is left of them to filter on).

On which lawful basis
    ``consent``: the person's consent to the organizer's offers by e-mail stands (confirmed,
    not withdrawn). ``existing_customer``, only to announce a contest reserved to clients: the
    shop's clients receive it unless they objected (the French soft opt-in, CPCE L34-5, for
    similar products and services); prospects still need their consent. The basis is recorded
    in the audit log when sending starts, and in the consent ledger for each client reached on
    it (purpose ``client_contests``, channel ``soft-opt-in``, the basis as its wording), so
    that their preferences page lists it and one click records their objection.

Sending
    The worker's duty :func:`send_due` queues at most ``rate_per_minute`` messages per campaign
    each minute through the outbox, recording each person once (``campaignrecipient``) and
    each message as a marketing contact. Pausing stops the queueing; resuming goes on where it
    stopped; several workers never queue one person twice (the campaign row is locked, others
    skipped). Each message carries the person's preferences link, RFC 8058 List-Unsubscribe
    headers and the campaign's tracked link (``/s/{code}``), whose clicks, entries and
    confirmations :func:`report` counts. No tracking pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import outbox, tables
from contest.audit import audit
from contest.contests.setting import ConfigErrors, Kind, setting, settings_of
from contest.i18n import N_
from contest.leads.consents import consent_state, current_consents, text_hash
from contest.leads.export import CLIENT, LOYAL_CLIENT, SEGMENTS, lead_query
from contest.leads.pressure import ContactPolicy, over_limit, policy_of, record_contact
from contest.models import CampaignStatus, ContestStatus, OutboxStatus
from contest.organizer_contests import ContestNotFound
from contest.storage import write_options
from rules import Refusal
from viral.links import LinkFields, create_source_link, source_links_report

CLIENT_FILTERS = ("any", "clients", "prospects")
LANGUAGE_FILTERS = ("any", "fr", "en")
BASES = ("consent", "existing_customer")
REASONS = ("eligible", "bounced", "unsubscribed", "no_consent", "cap")
REASON_LABELS = {
    "eligible": N_("will receive it"),
    "bounced": N_("address refused for good (bounced)"),
    "unsubscribed": N_("unsubscribed (consent withdrawn)"),
    "no_consent": N_("no current consent to your offers"),
    "cap": N_("contact limit reached"),
    "erased": N_("erased at their request"),
}
ANNOUNCED = (ContestStatus.SCHEDULED, ContestStatus.OPEN)
BATCH_EVERY = timedelta(minutes=1)
NAME_REQUIRED = ("Donnez un nom à la campagne.", "Give the campaign a name.")
CONTEST_REQUIRED = ("Choisissez le jeu annoncé.", "Choose the contest announced.")


@dataclass(frozen=True, kw_only=True)
class CampaignSettings:
    """A campaign as the organizer writes it: the one list of its fields (form and API)."""

    name: str = setting("", Kind.TEXT, N_("Name (for you)"), max_length=100, required=NAME_REQUIRED)
    contest: str = setting(
        "", Kind.TEXT, N_("Contest announced"), max_length=64, required=CONTEST_REQUIRED
    )
    subject_fr: str = setting("", Kind.TEXT, N_("Subject in French"), max_length=200)
    body_fr: str = setting("", Kind.TEXT, N_("Message in French"), max_length=5000, rows=8)
    subject_en: str = setting("", Kind.TEXT, N_("Subject in English"), max_length=200)
    body_en: str = setting("", Kind.TEXT, N_("Message in English"), max_length=5000, rows=8)
    segment: str | None = setting(
        None, Kind.CHOICE, N_("Segment"), choices=tuple(s for s, _, _ in SEGMENTS), blank=None
    )
    min_score: int = setting(0, Kind.INTEGER, N_("Minimum score"), low=0, high=100)
    source: str | None = setting(
        None,
        Kind.TEXT,
        N_("Source"),
        hint=N_("As the leads list names it, e.g. partner:AB12CD34; empty: any."),
        max_length=64,
        blank=None,
    )
    clients: str = setting("any", Kind.CHOICE, N_("Clients or prospects"), choices=CLIENT_FILTERS)
    active_days: int | None = setting(
        None,
        Kind.INTEGER,
        N_("Active in the last (days)"),
        hint=N_("Entered or confirmed within this many days; empty: any time."),
        low=1,
        high=3650,
        blank=None,
    )
    language: str = setting("any", Kind.CHOICE, N_("Language"), choices=LANGUAGE_FILTERS)
    basis: str = setting("consent", Kind.CHOICE, N_("Lawful basis"), choices=BASES)
    rate_per_minute: int = setting(
        100, Kind.INTEGER, N_("Messages sent per minute at most"), low=1, high=10_000
    )

    def text(self, language: str) -> tuple[str, str]:
        """Subject and message in ``language``, or in the other one when it has none."""
        mine = (
            (self.subject_fr, self.body_fr) if language == "fr" else (self.subject_en, self.body_en)
        )
        other = (
            (self.subject_en, self.body_en) if language == "fr" else (self.subject_fr, self.body_fr)
        )
        return mine if mine[0] and mine[1] else other

    def language_for(self, language: str) -> str:
        """The language a person reading ``language`` receives it in."""
        written = self.subject_fr if language == "fr" else self.subject_en
        return language if written else ("en" if language == "fr" else "fr")


CAMPAIGN_SETTINGS = settings_of(CampaignSettings)


@dataclass(frozen=True)
class CampaignView:
    id: int
    organizer_id: int
    contest_id: int
    contest_title: str
    contest_clients_only: bool
    settings: CampaignSettings
    status: str
    link_code: str
    audience_at_start: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued: int


class CampaignNotFound(ContestNotFound):
    """No such campaign among the organizer's (a 404, as for a contest)."""


class CampaignRefused(Refusal):
    """The campaign cannot do that now (start a sent campaign, change one being sent)."""


# --- Writing one ------------------------------------------------------------------------------


def _announced(connection: Connection, organizer_id: int, slug: str) -> Any:
    contest = tables.contest
    return connection.execute(
        sa.select(contest.c.id, contest.c.title, contest.c.audience, contest.c.status).where(
            contest.c.organizer_id == organizer_id, contest.c.slug == slug
        )
    ).first()


def check(connection: Connection, organizer_id: int, settings: CampaignSettings) -> int:
    """The announced contest's id; raises ConfigErrors beside the fields otherwise: a contest
    that is not the organizer's or not taking entries, a language half written, no language,
    the existing-customer basis for a contest open to everyone."""
    errors = ConfigErrors()
    found = _announced(connection, organizer_id, settings.contest)
    if found is None:
        errors.add(
            "contest",
            "Aucun de vos jeux n'a cette adresse.",
            "None of your contests has this address.",
        )
    elif found.status not in ANNOUNCED:
        errors.add(
            "contest",
            "Seul un jeu publié et pas encore clos peut être annoncé.",
            "Only a published contest that has not closed can be announced.",
        )
    written = []
    for language, subject, body in (
        ("fr", settings.subject_fr, settings.body_fr),
        ("en", settings.subject_en, settings.body_en),
    ):
        if bool(subject) != bool(body):
            name = f"{'subject' if not subject else 'body'}_{language}"
            errors.add(
                name, "L'objet et le message vont ensemble.", "Subject and message go together."
            )
        elif subject:
            written.append(language)
    if not written and "subject_fr" not in errors.errors:
        errors.add(
            "subject_fr",
            "Écrivez l'objet et le message dans au moins une langue.",
            "Write the subject and the message in at least one language.",
        )
    if settings.basis == "existing_customer" and found is not None and found.audience == "everyone":
        errors.add(
            "basis",
            "Le fondement « client existant » ne vaut que pour annoncer un jeu réservé aux "
            "clients ; pour un jeu ouvert à tous, il faut le consentement.",
            "The existing-customer basis only covers announcing a contest reserved to clients; "
            "a contest open to everyone needs consent.",
        )
    if errors.errors:
        raise errors
    return int(found.id)


@dataclass(frozen=True)
class Announceable:
    slug: str
    title: str
    clients_only: bool


def announceable(connection: Connection, organizer_id: int) -> list[Announceable]:
    """The organizer's contests a campaign may announce: published and not closed."""
    contest = tables.contest
    rows = connection.execute(
        sa.select(contest.c.slug, contest.c.title, contest.c.audience)
        .where(contest.c.organizer_id == organizer_id, contest.c.status.in_(ANNOUNCED))
        .order_by(contest.c.id.desc())
    ).all()
    return [Announceable(r.slug, r.title, r.audience != "everyone") for r in rows]


def _row_values(settings: CampaignSettings, contest_id: int) -> dict[str, Any]:
    values = {spec.name: getattr(settings, spec.name) for spec in fields(settings)}
    values.pop("contest")
    return {**values, "contest_id": contest_id}


def create_campaign(
    connection: Connection, organizer_id: int, settings: CampaignSettings, now: datetime
) -> int:
    """A new draft campaign with its own tracked link to the contest; its id."""
    contest_id = check(connection, organizer_id, settings)
    link = create_source_link(
        connection,
        contest_id,
        LinkFields(label=f"Campaign: {settings.name}"[:100], kind="newsletter"),
        now,
    )
    campaign = tables.campaign
    created = connection.execute(
        sa.insert(campaign)
        .values(
            **_row_values(settings, contest_id),
            organizer_id=organizer_id,
            status=CampaignStatus.DRAFT,
            link_code=link.code,
            created_at=now,
        )
        .returning(campaign.c.id)
    ).scalar_one()
    audit(connection, organizer_id, "campaign.created", {"name": settings.name}, now, contest_id)
    return int(created)


def update_campaign(
    connection: Connection,
    organizer_id: int,
    campaign_id: int,
    settings: CampaignSettings,
    now: datetime,
) -> None:
    """Changes a draft (a campaign that started keeps what its recipients received)."""
    current = campaign_of(connection, organizer_id, campaign_id)
    if current.status != CampaignStatus.DRAFT:
        raise CampaignRefused(
            "not_draft",
            "Une campagne commencée ne se modifie plus : dupliquez-la.",
            "A campaign that started cannot change any more.",
        )
    contest_id = check(connection, organizer_id, settings)
    campaign = tables.campaign
    connection.execute(
        sa.update(campaign)
        .where(campaign.c.id == campaign_id)
        .values(**_row_values(settings, contest_id))
    )
    audit(connection, organizer_id, "campaign.changed", {"name": settings.name}, now, contest_id)


def campaign_of(connection: Connection, organizer_id: int, campaign_id: int) -> CampaignView:
    """The organizer's campaign; CampaignNotFound for anyone else's."""
    found = [v for v in _views(connection, organizer_id, campaign_id)]
    if not found:
        raise CampaignNotFound(campaign_id)
    return found[0]


def list_campaigns(connection: Connection, organizer_id: int) -> list[CampaignView]:
    return _views(connection, organizer_id, None)


def _views(
    connection: Connection, organizer_id: int, campaign_id: int | None
) -> list[CampaignView]:
    campaign, contest, recipient = tables.campaign, tables.contest, tables.campaignrecipient
    queued = (
        sa.select(sa.func.count()).where(recipient.c.campaign_id == campaign.c.id).scalar_subquery()
    )
    query = (
        sa.select(
            campaign,
            contest.c.slug,
            contest.c.title.label("contest_title"),
            contest.c.audience,
            queued.label("queued"),
        )
        .join(contest, contest.c.id == campaign.c.contest_id)
        .where(campaign.c.organizer_id == organizer_id)
        .order_by(campaign.c.id.desc())
    )
    if campaign_id is not None:
        query = query.where(campaign.c.id == campaign_id)
    views = []
    for row in connection.execute(query):
        values = {name: row._mapping[name] for name in CAMPAIGN_SETTINGS if name != "contest"}
        views.append(
            CampaignView(
                id=row.id,
                organizer_id=row.organizer_id,
                contest_id=row.contest_id,
                contest_title=row.contest_title,
                contest_clients_only=row.audience != "everyone",
                settings=CampaignSettings(**values, contest=row.slug),
                status=row.status,
                link_code=row.link_code,
                audience_at_start=row.audience_at_start,
                created_at=row.created_at,
                started_at=row.started_at,
                finished_at=row.finished_at,
                queued=int(row.queued),
            )
        )
    return views


# --- Who receives it --------------------------------------------------------------------------


def _audience(
    organizer_id: int, view: CampaignView, policy: ContactPolicy, now: datetime
) -> sa.Subquery:
    """Every lead matching the filters, with the reason it is left out, or ``eligible``."""
    s = view.settings
    leads = lead_query(organizer_id, now=now, segment=s.segment, source=s.source).subquery()
    person, entry = tables.person, tables.entry
    language = sa.func.coalesce(
        sa.select(entry.c.language)
        .where(entry.c.person_id == leads.c.person_id)
        .order_by(entry.c.id.desc())
        .limit(1)
        .scalar_subquery(),
        "fr",
    )
    is_client = leads.c.segment.in_((CLIENT, LOYAL_CLIENT))
    lawful = leads.c.consent_state == "confirmed"
    if s.basis == "existing_customer" and view.contest_clients_only:
        states = current_consents(None, organizer_id, [SOFT_PURPOSE])
        objected = sa.select(states.c.person_id).where(states.c.state == "withdrawn")
        lawful = sa.or_(lawful, sa.and_(is_client, leads.c.person_id.not_in(objected)))
    reason = sa.case(
        (person.c.undeliverable.is_(True), "bounced"),
        (leads.c.consent_state == "withdrawn", "unsubscribed"),
        (~lawful, "no_consent"),
        (over_limit(leads.c.person_id, policy, now), "cap"),
        else_="eligible",
    )
    query = sa.select(
        leads.c.person_id,
        leads.c.email,
        language.label("language"),
        reason.label("reason"),
        (leads.c.consent_state == "confirmed").label("consented"),
    ).select_from(leads.join(person, person.c.id == leads.c.person_id))
    if s.min_score:
        query = query.where(leads.c.score >= s.min_score)
    if s.clients != "any":
        query = query.where(is_client if s.clients == "clients" else ~is_client)
    if s.active_days is not None:
        since = now - timedelta(days=s.active_days)
        query = query.where(leads.c.last_activity_at >= since)
    if s.language != "any":
        query = query.where(language == s.language)
    return query.subquery("audience")


@dataclass(frozen=True)
class AudienceCount:
    eligible: int
    left_out: dict[str, int]  # reason -> how many, every reason listed

    @property
    def total(self) -> int:
        return self.eligible + sum(self.left_out.values())


def count_audience(connection: Connection, view: CampaignView, now: datetime) -> AudienceCount:
    """How many would receive the campaign now, and how many are left out, by reason."""
    policy = policy_of(connection, view.organizer_id)
    audience = _audience(view.organizer_id, view, policy, now)
    counts = dict(
        connection.execute(
            sa.select(audience.c.reason, sa.func.count()).group_by(audience.c.reason)
        ).all()
    )
    person = tables.person
    counts["erased"] = connection.execute(
        sa.select(sa.func.count()).where(
            person.c.organizer_id == view.organizer_id, person.c.erased_at.is_not(None)
        )
    ).scalar_one()
    left_out = {reason: int(counts.get(reason, 0)) for reason in (*REASONS[1:], "erased")}
    return AudienceCount(int(counts.get("eligible", 0)), left_out)


# --- Sending ----------------------------------------------------------------------------------


def start(connection: Connection, organizer_id: int, campaign_id: int, now: datetime) -> None:
    """Starts (or resumes) sending: the worker queues the messages from its next round."""
    view = campaign_of(connection, organizer_id, campaign_id)
    if view.status not in (CampaignStatus.DRAFT, CampaignStatus.PAUSED):
        raise CampaignRefused(
            "not_startable",
            "Cette campagne est déjà en cours d'envoi ou terminée.",
            "This campaign is already being sent, or finished.",
        )
    check(connection, organizer_id, view.settings)
    values: dict[str, Any] = {"status": CampaignStatus.SENDING}
    if view.status == CampaignStatus.DRAFT:
        values |= {
            "started_at": now,
            "audience_at_start": count_audience(connection, view, now).eligible,
        }
    campaign = tables.campaign
    connection.execute(sa.update(campaign).where(campaign.c.id == campaign_id).values(**values))
    detail = {"name": view.settings.name, "basis": view.settings.basis}
    action = "campaign.started" if view.status == CampaignStatus.DRAFT else "campaign.resumed"
    audit(connection, organizer_id, action, detail, now, view.contest_id)


def pause(connection: Connection, organizer_id: int, campaign_id: int, now: datetime) -> None:
    view = campaign_of(connection, organizer_id, campaign_id)
    if view.status != CampaignStatus.SENDING:
        raise CampaignRefused(
            "not_sending",
            "Cette campagne n'est pas en cours d'envoi.",
            "This campaign is not being sent.",
        )
    campaign = tables.campaign
    connection.execute(
        sa.update(campaign).where(campaign.c.id == campaign_id).values(status=CampaignStatus.PAUSED)
    )
    audit(
        connection,
        organizer_id,
        "campaign.paused",
        {"name": view.settings.name},
        now,
        view.contest_id,
    )


def send_test(
    connection: Connection,
    organizer_id: int,
    campaign_id: int,
    recipient: str,
    language: str,
    now: datetime,
) -> None:
    """Queues the campaign, as a person reading ``language`` would receive it, to the member
    who asked (a test: no one's consent, no contact counted)."""
    view = campaign_of(connection, organizer_id, campaign_id)
    outbox.enqueue(
        connection,
        key=f"campaign-test:{campaign_id}:{language}:{now.timestamp():.6f}",
        template="campaign",
        recipient=recipient,
        language=view.settings.language_for(language),
        payload={"campaign": campaign_id, "person": None},
        now=now,
    )


def send_due(engine: Engine, now: datetime) -> int:
    """The worker's duty: for each campaign being sent whose last batch is a minute old, queues
    the next ``rate_per_minute`` messages (a campaign with no one left is marked sent); gives
    how many were queued."""
    campaign = tables.campaign
    with engine.connect() as connection:
        due = (
            connection.execute(
                sa.select(campaign.c.id).where(
                    campaign.c.status == CampaignStatus.SENDING,
                    sa.or_(
                        campaign.c.last_batch_at.is_(None),
                        campaign.c.last_batch_at <= now - BATCH_EVERY,
                    ),
                )
            )
            .scalars()
            .all()
        )
    return sum(_send_batch(engine, campaign_id, now) for campaign_id in due)


def _send_batch(engine: Engine, campaign_id: int, now: datetime) -> int:
    campaign, recipient = tables.campaign, tables.campaignrecipient
    with engine.connect().execution_options(**write_options()) as connection:
        with connection.begin():
            locked = connection.execute(
                sa.select(campaign.c.organizer_id)
                .where(
                    campaign.c.id == campaign_id,
                    campaign.c.status == CampaignStatus.SENDING,
                    sa.or_(
                        campaign.c.last_batch_at.is_(None),
                        campaign.c.last_batch_at <= now - BATCH_EVERY,
                    ),
                )
                .with_for_update(skip_locked=True)
            ).first()
            if locked is None:  # another worker has it, or it was paused meanwhile
                return 0
            view = campaign_of(connection, int(locked.organizer_id), campaign_id)
            policy = policy_of(connection, view.organizer_id)
            audience = _audience(view.organizer_id, view, policy, now)
            already = sa.select(recipient.c.person_id).where(recipient.c.campaign_id == campaign_id)
            rows = connection.execute(
                sa.select(
                    audience.c.person_id,
                    audience.c.email,
                    audience.c.language,
                    audience.c.consented,
                )
                .where(audience.c.reason == "eligible", audience.c.person_id.not_in(already))
                .order_by(audience.c.person_id)
                .limit(view.settings.rate_per_minute)
            ).all()
            if not rows:
                connection.execute(
                    sa.update(campaign)
                    .where(campaign.c.id == campaign_id)
                    .values(status=CampaignStatus.SENT, finished_at=now)
                )
                return 0
            connection.execute(
                sa.insert(recipient),
                [
                    {"campaign_id": campaign_id, "person_id": r.person_id, "queued_at": now}
                    for r in rows
                ],
            )
            outbox.enqueue_many(
                connection,
                [
                    outbox.message_row(
                        key=f"campaign:{campaign_id}:{row.person_id}",
                        template="campaign",
                        recipient=row.email,
                        language=view.settings.language_for(row.language),
                        payload={
                            "campaign": campaign_id,
                            "person": row.person_id,
                            "client": not row.consented,  # the existing-customer basis
                        },
                        now=now,
                    )
                    for row in rows
                ],
            )
            for row in rows:
                record_contact(connection, view.organizer_id, row.person_id, "campaign", now)
            _record_basis(connection, view, [r for r in rows if not r.consented], now)
            connection.execute(
                sa.update(campaign).where(campaign.c.id == campaign_id).values(last_batch_at=now)
            )
    return len(rows)


SOFT_PURPOSE = "client_contests"
SOFT_WORDING = (
    "Client de la boutique : annonce d'un jeu réservé aux clients, sans consentement préalable "
    "(client existant, produits analogues, article L34-5 du CPCE). Opposition possible à tout "
    "moment, en un clic."
)


def _record_basis(
    connection: Connection, view: CampaignView, rows: list[Any], now: datetime
) -> None:
    """Records in the consent ledger each client reached on the existing-customer basis for
    the first time: what they may object to, in one click, from their preferences page."""
    consent = tables.consentrecord
    for row in rows:
        if consent_state(connection, row.person_id, SOFT_PURPOSE).record_id is not None:
            continue
        connection.execute(
            sa.insert(consent).values(
                organizer_id=view.organizer_id,
                person_id=row.person_id,
                entry_id=None,
                purpose=SOFT_PURPOSE,
                event="granted",
                wording=SOFT_WORDING,
                wording_hash=text_hash(SOFT_WORDING),
                language="fr",
                page_url=f"campaign:{view.id}",
                channel="soft-opt-in",
                ip_truncated="",
                user_agent="",
                created_at=now,
            )
        )


# --- What it brought --------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignReport:
    queued: int
    sent: int
    delivered: int
    bounced: int
    clicked: int
    entered: int
    confirmed: int
    unsubscribed: int


def report(connection: Connection, view: CampaignView) -> CampaignReport:
    """Sent, delivered, bounced (the addresses refused since), clicks on its link, entries and
    confirmations through it, and the recipients who withdrew their consent since."""
    recipient, person, consent = tables.campaignrecipient, tables.person, tables.consentrecord
    message = tables.outboxmessage
    sent = connection.execute(
        sa.select(sa.func.count()).where(
            message.c.idempotency_key.like(f"campaign:{view.id}:%"),
            message.c.status == OutboxStatus.SENT,
        )
    ).scalar_one()
    mine = recipient.c.campaign_id == view.id
    bounced = connection.execute(
        sa.select(sa.func.count())
        .select_from(recipient.join(person, person.c.id == recipient.c.person_id))
        .where(mine, person.c.undeliverable.is_(True))
    ).scalar_one()
    withdrew = (
        sa.select(consent.c.id)
        .where(
            consent.c.person_id == recipient.c.person_id,
            consent.c.purpose == "marketing_email",
            consent.c.event == "withdrawn",
            consent.c.created_at >= recipient.c.queued_at,
        )
        .exists()
    )
    unsubscribed = connection.execute(sa.select(sa.func.count()).where(mine, withdrew)).scalar_one()
    link = next(
        (r for r in source_links_report(connection, view.contest_id) if r.code == view.link_code),
        None,
    )
    return CampaignReport(
        queued=view.queued,
        sent=int(sent),
        delivered=max(int(sent) - int(bounced), 0),
        bounced=int(bounced),
        clicked=link.clicks if link else 0,
        entered=link.entries if link else 0,
        confirmed=link.confirmed if link else 0,
        unsubscribed=int(unsubscribed),
    )


# --- The message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignMessage:
    organizer_id: int
    contest_slug: str
    subject: str
    paragraphs: tuple[str, ...]
    link_code: str
    final: bool  # started: the text can no longer change


def message_of(connection: Connection, campaign_id: int, language: str) -> CampaignMessage | None:
    """What the e-mail says in ``language`` (None when the campaign is gone)."""
    campaign, contest = tables.campaign, tables.contest
    row = connection.execute(
        sa.select(campaign.c.organizer_id, campaign.c.id).where(campaign.c.id == campaign_id)
    ).first()
    if row is None:
        return None
    view = campaign_of(connection, int(row.organizer_id), campaign_id)
    subject, body = view.settings.text(language)
    paragraphs = tuple(p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip())
    slug = connection.execute(
        sa.select(contest.c.slug).where(contest.c.id == view.contest_id)
    ).scalar_one()
    final = view.status != CampaignStatus.DRAFT
    return CampaignMessage(view.organizer_id, slug, subject, paragraphs, view.link_code, final)
