"""Qualified leads: a score and a segment per person, the lead list, and its CSV export.

Everything is computed by the database for one organizer at a time: one ``GROUP BY`` per
person over the organizer's entries, the confirmed entries each person brought and the consent
ledger, then key lookups of the person, the current consent record, the shop's client row and
the first entry; the score and the segment are SQL ``CASE`` expressions. Python never loops
over entry rows to score them, and the export streams the result in chunks (each chunk reads
the qualifying answers of its persons, for the ``answers`` column, with one query).

The score (0-100) is the sum of ``SCORE_FORMULA``, shown to the organizer as it is here.
The segment is the first of ``SEGMENTS`` (loyal client > client > hot > warm > cold prospect)
whose condition holds.

What the export refuses, and why:

- a marketing purpose (``CONSENT_PURPOSES``) exports only the persons whose consent for that
  purpose is current: the latest ledger event for the person and purpose is ``confirmed``
  (EU-CONSENT-PROOF-1, DE-DOI-1), and whose address has not bounced for good. A lawful basis
  cannot replace that consent (FR-EMAIL-OPTIN-1);
- a partner export is for one contest and one of the partners it names, and holds only the
  persons whose current partner consent was given on that contest's form and names that
  partner, with the consent version and the source (EU-CONSENT-SPECIFIC-1): each partner
  gets its own file, and the audit log says which partner received which;
- any other purpose (prize fulfilment...) exports every participant of one contest, and only
  once the organizer has written the lawful basis, which the file's first line records;
- the qualifying answers (the ``answers`` column) go only to the organizer's own marketing
  purposes: a partner's file and a file for any other purpose leave the column empty;
- a contest that is not the organizer's is unknown.

Every export is written in the organizer's audit log.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.audit import audit
from contest.csvcells import spreadsheet_safe
from contest.forms import QUESTIONS
from contest.i18n import N_
from contest.leads.subscriptions import PreferenceLinks
from contest.models import EntryStatus, ReferralStatus, UTCDateTime
from contest.storage import write_options
from rules import Refusal

MARKETING_EMAIL = "marketing_email"
PARTNERS = "partners"
# Purposes that rest on the person's consent: exported only while it is current.
CONSENT_PURPOSES = (MARKETING_EMAIL, "marketing_sms", PARTNERS, "client_contests")
CONFIRMED, NO_CONSENT = "confirmed", "none"

# --- The score ---------------------------------------------------------------------------

SCORED_FIELDS = ("first_name", "last_name", "birth_date", "postcode", "phone")
POINTS_PER_FIELD = 4
CONFIRMED_POINTS = 15
INTEREST_POINTS = 15
POINTS_PER_REFERRAL, REFERRAL_POINTS_CAP = 5, 15
CLIENT_POINTS, ORDER_POINTS_CAP = 10, 10  # plus one point per order, up to the cap
RECENCY_POINTS = ((30, 15), (90, 10), (365, 5))  # (at most so many days ago, points)


@dataclass(frozen=True)
class Criterion:
    key: str
    max_points: int
    rule_en: str
    rule_fr: str


SCORE_FORMULA = (
    Criterion(
        "fields",
        POINTS_PER_FIELD * len(SCORED_FIELDS),
        "4 points per field given in any entry: first name, last name, date of birth, "
        "postcode, phone.",
        "4 points par champ renseigné dans une participation : prénom, nom, date de "
        "naissance, code postal, téléphone.",
    ),
    Criterion(
        "confirmed",
        CONFIRMED_POINTS,
        "15 points when the address was confirmed (double opt-in) in at least one entry.",
        "15 points si l'adresse a été confirmée (double opt-in) dans au moins une participation.",
    ),
    Criterion(
        "interest",
        INTEREST_POINTS,
        "15 points when the product interest question, or a qualifying question of a contest, "
        "was answered.",
        "15 points si la question sur les produits qui l'intéressent, ou une question de "
        "qualification d'un jeu, a reçu une réponse.",
    ),
    Criterion(
        "referrals",
        REFERRAL_POINTS_CAP,
        "5 points per confirmed entry the person brought by referral, at most 15 "
        "(referrals flagged as fraud do not count).",
        "5 points par participation confirmée obtenue par parrainage, au plus 15 "
        "(les parrainages signalés comme fraude ne comptent pas).",
    ),
    Criterion(
        "client",
        CLIENT_POINTS + ORDER_POINTS_CAP,
        "10 points for a client of the shop, plus 1 point per order, at most 10.",
        "10 points pour un client de la boutique, plus 1 point par commande, au plus 10.",
    ),
    Criterion(
        "recency",
        RECENCY_POINTS[0][1],
        "Last entry or confirmation: within 30 days 15 points, 90 days 10, 365 days 5.",
        "Dernière participation ou confirmation : moins de 30 jours 15 points, 90 jours 10, "
        "365 jours 5.",
    ),
)

# --- The segments, by precedence ---------------------------------------------------------

LOYAL_CLIENT, CLIENT = "loyal_client", "client"
HOT, WARM, COLD = "hot_prospect", "warm_prospect", "cold_prospect"
# How segments and consent states are called on the workspace's pages.
SEGMENT_LABELS = {
    LOYAL_CLIENT: N_("Loyal client"),
    CLIENT: N_("Client"),
    HOT: N_("Hot prospect"),
    WARM: N_("Warm prospect"),
    COLD: N_("Cold prospect"),
}
CONSENT_STATE_LABELS = {
    "granted": N_("waiting for confirmation"),
    "confirmed": N_("given"),
    "withdrawn": N_("withdrawn"),
    "none": N_("none"),
}
LOYAL_ORDERS, LOYAL_TAG = 5, "loyal"
SEGMENTS = (  # (segment, when, in English and French)
    (
        LOYAL_CLIENT,
        "a client with 5 orders or more, or tagged 'loyal' by the shop",
        "un client ayant passé au moins 5 commandes, ou marqué « loyal » par la boutique",
    ),
    (CLIENT, "a client of the shop", "un client de la boutique"),
    (
        HOT,
        "brought at least one confirmed referral, or entered 3 contests or more",
        "a amené au moins un filleul confirmé, ou participé à au moins 3 jeux",
    ),
    (
        WARM,
        "answered the interest question or a qualifying question, or entered 2 contests or more",
        "a répondu à la question d'intérêt ou à une question de qualification, ou participé à "
        "au moins 2 jeux",
    ),
    (COLD, "entered, nothing more", "a participé, sans plus"),
)

CSV_COLUMNS = (
    "email",
    "first_name",
    "segment",
    "score",
    "consent_purpose",
    "consent_state",
    "consent_since",
    "consent_version",
    "source",
    "contests",
    "preferences_url",
    # The qualifying answers, as JSON: {contest slug: {question target: [answer keys]}}.
    "answers",
)
CHUNK_ROWS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class LeadExportRefused(Refusal):
    """The export cannot be made as asked; nothing was read. ``code`` names the reason."""


@dataclass(frozen=True)
class Answer:
    """An answer to one of a contest's qualifying questions, to filter the leads by."""

    contest_id: int
    question: str  # the question's key (its target)
    choice: str  # the answer's key


_person, _entry, _contest = tables.person, tables.entry, tables.contest
_consent, _client, _referral = tables.consentrecord, tables.client, tables.referral


def lead_query(
    organizer_id: int,
    *,
    now: datetime,
    segment: str | None = None,
    consent: str | None = None,
    contest_id: int | None = None,
    source: str | None = None,
    deliverable: bool = False,
    partner: str | None = None,
    answer: Answer | None = None,
) -> sa.Select[Any]:
    """One row per person of the organizer (erased persons excepted), ordered by person.

    Columns: person_id, email, first_name, segment, score, consent_purpose, consent_state
    (``granted``, ``confirmed``, ``withdrawn`` or ``none``), consent_since, consent_version
    (the wording's hash), contests (entered, all of the organizer's),
    first_source (of the first entry; of the entry in ``contest_id`` when given), and
    last_activity_at (last entry or confirmation). The consent columns describe ``consent``
    when given, else ``marketing_email``.

    Filters: ``segment`` (one of ``SEGMENTS``, else ValueError), ``consent`` (its current
    state is ``confirmed``), ``contest_id`` (entered that contest), ``source`` (an entry came
    from that source, in ``contest_id`` when given), ``answer`` (chose that answer to that
    question of that contest, which must be the organizer's). With ``consent="partners"`` and
    a contest, the partner consent must have been given on that contest's form: it names that
    contest's partners (EU-CONSENT-SPECIFIC-1). ``deliverable`` leaves out the addresses that
    bounced for good (marked undeliverable by a hard bounce). ``now`` is the clock of the
    recency points.
    """
    if segment is not None and segment not in {name for name, _, _ in SEGMENTS}:
        raise ValueError(f"unknown segment {segment!r}")
    purpose = consent or MARKETING_EMAIL
    owned = sa.select(_contest.c.id).where(_contest.c.organizer_id == organizer_id)
    # A person with no fact at all (no entry, referral or consent record) can only be listed
    # when neither the consent nor the contest is asked for: only then are they gathered.
    everyone = consent is None and contest_id is None
    figures = _figures(organizer_id, purpose, owned, everyone=everyone)
    current = _consent.alias("current_consent")
    first = _entry.alias("first_entry")
    client = _client

    contests, brought, interest = figures.c.contests, figures.c.referrals, figures.c.interest
    is_client = client.c.id.is_not(None)
    last_activity = _later(figures.c.last_entry_at, figures.c.last_confirmed_at)
    fields = [figures.c[name] for name in SCORED_FIELDS]
    score = (
        POINTS_PER_FIELD * sum(fields[1:], fields[0])
        + CONFIRMED_POINTS * figures.c.confirmed
        + INTEREST_POINTS * interest
        + sa.case(
            (brought * POINTS_PER_REFERRAL >= REFERRAL_POINTS_CAP, REFERRAL_POINTS_CAP),
            else_=brought * POINTS_PER_REFERRAL,
        )
        + sa.case(
            (client.c.orders_count >= ORDER_POINTS_CAP, CLIENT_POINTS + ORDER_POINTS_CAP),
            (is_client, CLIENT_POINTS + client.c.orders_count),
            else_=0,
        )
        + sa.case(
            *(
                (last_activity >= sa.literal(now - timedelta(days=days), UTCDateTime()), points)
                for days, points in RECENCY_POINTS
            ),
            else_=0,
        )
    )
    tagged_loyal = sa.func.lower(sa.cast(client.c.segments, sa.Text)).like(f'%"{LOYAL_TAG}"%')
    segment_of = sa.case(
        (
            sa.and_(is_client, sa.or_(client.c.orders_count >= LOYAL_ORDERS, tagged_loyal)),
            LOYAL_CLIENT,
        ),
        (is_client, CLIENT),
        (sa.or_(brought >= 1, contests >= 3), HOT),
        (sa.or_(interest == 1, contests >= 2), WARM),
        else_=COLD,
    )

    # Only key lookups after the aggregate (primary keys, unique keys): whatever the
    # planner's statistics say, no join can make the query grow as persons squared.
    joined = (
        figures.join(_person, _person.c.id == figures.c.person_id)
        .outerjoin(current, current.c.id == figures.c.latest_id)
        .outerjoin(
            client,
            sa.and_(
                client.c.organizer_id == organizer_id, client.c.email_key == _person.c.email_key
            ),
        )
    )
    if contest_id is not None:  # only the contest's participants, by their entry in it
        joined = joined.join(
            first,
            sa.and_(first.c.contest_id == contest_id, first.c.person_id == figures.c.person_id),
        )
    else:
        joined = joined.outerjoin(first, first.c.id == figures.c.first_entry_id)
    query = (
        sa.select(
            figures.c.person_id,
            _person.c.email,
            _person.c.first_name,
            segment_of.label("segment"),
            score.label("score"),
            sa.literal(purpose).label("consent_purpose"),
            sa.func.coalesce(current.c.event, NO_CONSENT).label("consent_state"),
            current.c.created_at.label("consent_since"),
            current.c.wording_hash.label("consent_version"),
            contests.label("contests"),
            first.c.source.label("first_source"),
            last_activity.label("last_activity_at"),
        )
        .select_from(joined)
        .order_by(figures.c.person_id)
    )
    if not everyone:  # the persons of the facts: the organizer's, not erased
        query = query.where(_person.c.organizer_id == organizer_id, _person.c.erased_at.is_(None))
    if segment is not None:
        query = query.where(segment_of == segment)
    if deliverable:
        query = query.where(_person.c.undeliverable.is_(False))
    if consent is not None:
        query = query.where(current.c.event == CONFIRMED)
    if consent == PARTNERS and contest_id is not None:  # given on this contest's form
        query = query.where(current.c.entry_id == first.c.id)
    if consent == PARTNERS and partner is not None:  # the wording they agreed to names it
        query = query.where(current.c.wording.contains(partner, autoescape=True))
    if source is not None:
        came = _entry.alias("came")
        query = query.where(
            sa.exists().where(
                came.c.person_id == figures.c.person_id,
                came.c.source == source,
                came.c.contest_id == contest_id
                if contest_id is not None
                else came.c.contest_id.in_(owned),
            )
        )
    if answer is not None:
        answered = _entry.alias("answered")
        chosen = sa.cast(answered.c.answers[(QUESTIONS, answer.question)], sa.Text)
        query = query.where(
            sa.exists().where(
                answered.c.person_id == figures.c.person_id,
                answered.c.contest_id == answer.contest_id,
                answered.c.contest_id.in_(owned),
                chosen.contains(json.dumps(answer.choice), autoescape=True),
            )
        )
    return query


@dataclass(frozen=True)
class LeadPage:
    """A page of leads (:func:`lead_query`'s columns) and how many match in all."""

    rows: list[Any]
    total: int


def lead_page(
    connection: Connection,
    organizer_id: int,
    now: datetime,
    *,
    consent: str,
    segment: str | None = None,
    contest_id: int | None = None,
    source: str | None = None,
    answer: Answer | None = None,
    limit: int = 100,
    offset: int = 0,
) -> LeadPage:
    """The leads who gave ``consent`` (confirmed) and match the filters, ``limit`` from
    ``offset`` in the order of :func:`lead_query`, with the total; the read is audited, as an
    export is (who read which filter, not whom)."""
    query = lead_query(
        organizer_id,
        now=now,
        segment=segment,
        consent=consent,
        contest_id=contest_id,
        source=source,
        answer=answer,
    )
    page = paged(connection, query, limit, offset)
    detail = {"consent": consent, "segment": segment, "source": source, "rows": len(page.rows)}
    audit(connection, organizer_id, "leads.read", detail, now, contest_id=contest_id)
    return page


def paged(connection: Connection, query: sa.Select[Any], limit: int, offset: int) -> LeadPage:
    """``limit`` rows of ``query`` from ``offset``, and how many it has in all."""
    counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    total = int(connection.execute(counted).scalar_one())
    return LeadPage(list(connection.execute(query.limit(limit).offset(offset)).all()), total)


def export_leads(
    engine: Engine,
    organizer_id: int,
    *,
    contest_slug: str | None,
    purpose: str = MARKETING_EMAIL,
    lawful_basis: str | None = None,
    now: datetime,
    links: PreferenceLinks,
    partner: str | None = None,
) -> Iterator[str]:
    """The organizer's leads as CSV text in chunks of ``CHUNK_ROWS`` rows, read as they are sent.

    The first line is a comment (``#``) saying what the file holds and on which basis; then
    ``CSV_COLUMNS``, each row ending with the person's preferences link (``links``), so that
    the mails sent from another tool can carry it. Refuses (LeadExportRefused, before reading
    anything) as the module says: a consent purpose with a lawful basis, another purpose
    without one or without a contest, a partner export without a contest or for a contest
    naming no partners or without one of them (``partner``), a contest that is not the
    organizer's. The export is recorded in the audit log (``leads.exported``), with the
    partner it is for. Cells that a spreadsheet would read as a formula are
    prefixed with ``'``.
    """
    purpose = _clean(purpose)
    basis = _clean(lawful_basis or "")
    by_consent = purpose in CONSENT_PURPOSES
    if not purpose or len(purpose) > 64:
        raise LeadExportRefused(
            "purpose",
            "Indiquez une finalité (64 caractères au plus).",
            "Give a purpose (at most 64 characters).",
        )
    if by_consent and basis:
        raise LeadExportRefused(
            "consent_required",
            f"La finalité {purpose} repose sur le consentement : seules les personnes dont le "
            "consentement est en cours sont exportées, aucune autre base légale ne le remplace.",
            f"The purpose {purpose} rests on consent: only persons whose consent is current "
            "are exported, and no other lawful basis replaces it.",
        )
    if not by_consent and not basis:
        raise LeadExportRefused(
            "basis_required",
            f"Pour exporter tous les participants pour « {purpose} », indiquez la base légale "
            "(par exemple : exécution du règlement, remise des lots).",
            f'To export every participant for "{purpose}", state the lawful basis '
            "(for example: performing the contest rules, delivering the prizes).",
        )
    if len(basis) > 500:
        raise LeadExportRefused(
            "basis_too_long",
            "La base légale tient en 500 caractères au plus.",
            "The lawful basis must fit in 500 characters.",
        )
    if contest_slug is None and (not by_consent or purpose == PARTNERS):
        raise LeadExportRefused(
            "contest_required",
            "Cet export se fait jeu par jeu : indiquez le jeu.",
            "This export is made one contest at a time: name the contest.",
        )
    contest_id = None
    # It reads, then writes the audit line: a write transaction from the start (SQLite).
    with engine.connect().execution_options(**write_options()) as connection, connection.begin():
        if contest_slug is not None:
            contest = connection.execute(
                sa.select(_contest.c.id, _contest.c.partners).where(
                    _contest.c.slug == contest_slug, _contest.c.organizer_id == organizer_id
                )
            ).first()
            if contest is None:
                raise unknown_contest(contest_slug)
            if purpose == PARTNERS and not contest.partners:
                raise LeadExportRefused(
                    "no_partners",
                    f"Le jeu {contest_slug} ne nomme aucun partenaire : rien ne peut leur être "
                    "transmis.",
                    f"The contest {contest_slug} names no partners: nothing can be passed on "
                    "to partners.",
                )
            if purpose == PARTNERS:
                partner = _named_partner(contest_slug, tuple(contest.partners), partner)
            contest_id = contest.id
        detail = {"purpose": purpose, "lawful_basis": basis or None, "contest": contest_slug}
        if purpose == PARTNERS:
            detail["partner"] = partner
        audit(connection, organizer_id, "leads.exported", detail, now, contest_id=contest_id)
    query = lead_query(
        organizer_id,
        now=now,
        consent=purpose if by_consent else None,
        contest_id=contest_id,
        deliverable=by_consent,
        partner=partner if purpose == PARTNERS else None,
    )
    scope = f"contest {contest_slug}" if contest_slug else "all contests"
    if purpose == PARTNERS:
        note = (
            f"# Leads of {scope} for the partner {partner}: only persons whose consent to "
            f"the partners named on the form, this one among them, is current and whose "
            f"address has not bounced; exported {now.isoformat()}"
        )
    elif by_consent:
        note = (
            f"# Leads of {scope} for {purpose}: only persons whose consent is current "
            f"(latest event confirmed) and whose address has not bounced; "
            f"exported {now.isoformat()}"
        )
    else:
        note = (
            f"# Participants of {scope} for {purpose}; lawful basis: {basis}; "
            f"exported {now.isoformat()}"
        )
    # The qualifying answers go with the organizer's own marketing only: neither a partner nor
    # the delivery of prizes needs them (GDPR Art. 5(1)(c)).
    own_marketing = by_consent and purpose != PARTNERS
    answers = _answers_of(organizer_id, contest_id) if own_marketing else None
    # Only what the file shows: the recency (a time per row to convert) is already in the score.
    shown = [c for c in query.selected_columns if c.key != "last_activity_at"]
    query = query.with_only_columns(*shown)
    return _stream(engine, query, note, lambda ids: links.urls(organizer_id, ids), answers)


def _named_partner(slug: str, partners: tuple[str, ...], partner: str | None) -> str:
    """The partner a partner export is for, as the contest names it; refuses none or another
    (each partner gets only the people who agreed to it by name)."""
    wanted = _clean(partner or "").casefold()
    for name in partners:
        if name.casefold() == wanted:
            return name
    names = ", ".join(partners)
    raise LeadExportRefused(
        "partner_required",
        f"Un export pour les partenaires se fait partenaire par partenaire : choisissez l'un "
        f"de ceux que nomme le jeu {slug} ({names}).",
        f"A partners' export is made one partner at a time: choose one of those the contest "
        f"{slug} names ({names}).",
    )


def export_contest_leads(
    engine: Engine,
    slug: str,
    purpose: str,
    lawful_basis: str | None,
    now: datetime,
    links: PreferenceLinks,
    partner: str | None = None,
) -> Iterator[str]:
    """The lead CSV of the contest ``slug``, whoever its organizer (the command line runs on the
    server). Refuses (LeadExportRefused) an unknown contest, and as :func:`export_leads` does."""
    with engine.connect() as connection:
        organizer_id = connection.execute(
            sa.select(_contest.c.organizer_id).where(_contest.c.slug == slug)
        ).scalar()
    if organizer_id is None:
        raise unknown_contest(slug)
    return export_leads(
        engine,
        organizer_id,
        contest_slug=slug,
        purpose=purpose,
        lawful_basis=lawful_basis,
        now=now,
        links=links,
        partner=partner,
    )


def basis_note(lawful_basis: str | None) -> str:
    """How an export says on which basis it was made."""
    return f"lawful basis: {_clean(lawful_basis)}" if lawful_basis else "current consent only"


def unknown_contest(slug: str) -> LeadExportRefused:
    return LeadExportRefused(
        "unknown_contest",
        f"Aucun jeu « {slug} » parmi les vôtres.",
        f'No contest "{slug}" among yours.',
    )


# --- Queries -----------------------------------------------------------------------------


def _figures(
    organizer_id: int, purpose: str, owned: sa.Select[Any], *, everyone: bool
) -> sa.Subquery:
    """One row per person with what the score, the segment and the consent columns need, from
    a single ``GROUP BY`` over the union of the facts: their entries, the confirmed entries
    they brought, their consent records (only those of ``purpose`` or confirmations, the
    others add nothing). With ``everyone``, every person of the organizer (not erased), also
    those without any fact; otherwise the persons of the facts, whom the caller keeps to the
    organizer's persons not erased (fewer rows to group on a large list)."""
    entry, consent = _entry, _consent
    referred, referrer = _entry.alias("referred"), _entry.alias("referrer")
    zero, one = sa.literal_column("0", sa.Integer), sa.literal_column("1", sa.Integer)
    no_id, no_time = sa.cast(sa.null(), sa.Integer), sa.cast(sa.null(), UTCDateTime())
    nothing = [zero] * (len(SCORED_FIELDS) + 2)  # the fields, interest, confirmed

    def given(name: str) -> sa.ColumnElement[int]:
        answer = sa.func.coalesce(entry.c.answers[name].as_string(), "")
        return sa.case((answer != "", 1), else_=0)

    def interested() -> sa.ColumnElement[int]:  # the interest field, or a qualifying question
        answer = sa.func.coalesce(entry.c.answers["interest"].as_string(), "")
        answered = entry.c.answers[QUESTIONS].as_string().is_not(None)
        return sa.case((sa.or_(answer != "", answered), 1), else_=0)

    # (person_id, listed, entries, *fields, interest, confirmed, last_entry_at, entry_id,
    #  referrals, consent_id, confirmed_at)
    persons = sa.select(
        _person.c.id.label("person_id"),
        one.label("listed"),
        zero.label("entries"),
        *(zero.label(name) for name in SCORED_FIELDS),
        zero.label("interest"),
        zero.label("confirmed"),
        no_time.label("last_entry_at"),
        no_id.label("entry_id"),
        zero.label("referrals"),
        no_id.label("consent_id"),
        no_time.label("confirmed_at"),
    ).where(_person.c.organizer_id == organizer_id, _person.c.erased_at.is_(None))
    entries = sa.select(  # labelled too: the first branch when persons are not gathered
        entry.c.person_id.label("person_id"),
        zero.label("listed"),
        one.label("entries"),
        *(given(name).label(name) for name in SCORED_FIELDS),
        interested().label("interest"),
        sa.case((entry.c.status == EntryStatus.CONFIRMED, 1), else_=0).label("confirmed"),
        sa.func.coalesce(entry.c.confirmed_at, entry.c.created_at).label("last_entry_at"),
        entry.c.id.label("entry_id"),
        zero.label("referrals"),
        no_id.label("consent_id"),
        no_time.label("confirmed_at"),
    ).where(entry.c.contest_id.in_(owned))
    flagged = sa.exists().where(
        _referral.c.referred_entry_id == referred.c.id,
        _referral.c.status.in_((ReferralStatus.REVIEW, ReferralStatus.REJECTED)),
    )
    referrals = (
        sa.select(referrer.c.person_id, zero, zero, *nothing, no_time, no_id, one, no_id, no_time)
        .select_from(referred.join(referrer, referrer.c.id == referred.c.referrer_entry_id))
        .where(
            referrer.c.contest_id.in_(owned),
            referred.c.status == EntryStatus.CONFIRMED,
            ~flagged,  # a referral under review or rejected as fraud does not count
        )
    )
    ledger = sa.select(
        consent.c.person_id,
        zero,
        zero,
        *nothing,
        no_time,
        no_id,
        zero,
        sa.case((consent.c.purpose == purpose, consent.c.id)),
        sa.case((consent.c.event == CONFIRMED, consent.c.created_at)),
    ).where(
        consent.c.organizer_id == organizer_id,
        sa.or_(consent.c.purpose == purpose, consent.c.event == CONFIRMED),
    )
    branches = (persons, entries, referrals, ledger) if everyone else (entries, referrals, ledger)
    facts = sa.union_all(*branches).subquery("facts")
    grouped = (
        sa.select(facts.c.person_id)
        .group_by(facts.c.person_id)
        .having(sa.func.max(facts.c.listed) == 1)  # erased persons are left out
        if everyone
        else sa.select(facts.c.person_id).group_by(facts.c.person_id)
    )
    return (
        grouped.add_columns(
            sa.func.sum(facts.c.entries).label("contests"),
            *(sa.func.max(facts.c[name]).label(name) for name in SCORED_FIELDS),
            sa.func.max(facts.c.interest).label("interest"),
            sa.func.max(facts.c.confirmed).label("confirmed"),
            sa.func.max(facts.c.last_entry_at).label("last_entry_at"),
            sa.func.min(facts.c.entry_id).label("first_entry_id"),
            sa.func.sum(facts.c.referrals).label("referrals"),
            # the current consent: the latest record for the purpose
            sa.func.max(facts.c.consent_id).label("latest_id"),
            sa.func.max(facts.c.confirmed_at).label("last_confirmed_at"),
        )
    ).subquery("figures")


def _later(a: sa.ColumnElement[Any], b: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The later of two nullable times (GREATEST, which SQLite lacks)."""
    return sa.case((b.is_(None), a), (a.is_(None), b), (a >= b, a), else_=b)


# --- CSV ---------------------------------------------------------------------------------


# The ``answers`` cells: given a connection, the answered entries' (person_id, contest slug,
# answers) ordered by person, or None when the file leaves the column empty.
AnswersOf = Callable[[Connection], Generator[Any, None, None]] | None


def _stream(
    engine: Engine,
    query: sa.Select[Any],
    note: str,
    links: Callable[[list[int]], list[str]],
    answers: AnswersOf,
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([note])  # one cell, quoted if the organizer's text holds a comma
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    # yield_per streams: a server-side cursor on PostgreSQL, stepwise fetches on SQLite; the
    # answers are streamed alongside on a second connection, in the same person order.
    with engine.connect() as connection, engine.connect() as reader:
        given = answers(reader) if answers is not None else _nothing()
        answered = _Answers(given)
        chunks = _lead_rows(connection, query)
        with closing(given), closing(chunks):  # closed if the reader stops
            for rows, time_text in chunks:
                ids = [row[0] for row in rows]
                writer.writerows(_csv_rows(rows, time_text, links(ids), answered.cells(ids)))
                yield _drain(buffer)


def _lead_rows(
    connection: Connection, query: sa.Select[Any]
) -> Generator[tuple[Sequence[Any], Callable[[Any], str]], None, None]:
    """The rows of ``query`` as tuples, ``CHUNK_ROWS`` at a time, each chunk with the function
    that writes one of its times as ISO text in UTC. Streamed: a server-side cursor on
    PostgreSQL; on SQLite the driver's own rows, stepped through (times as SQLAlchemy stores
    them: naive UTC text), which spares the per-value type processing of a large file."""
    if connection.dialect.name == "sqlite":
        with connection.execute(query) as result:
            cursor = result.cursor
            while rows := cursor.fetchmany(CHUNK_ROWS):
                yield rows, _stored_time_text
        return
    with connection.execution_options(yield_per=CHUNK_ROWS).execute(query) as result:
        for rows in result.partitions():
            yield rows, _time_text


def _stored_time_text(stored: str | None) -> str:
    """A time as SQLite holds it (naive UTC text), as :func:`_time_text` writes it."""
    return "" if stored is None else _time_text(datetime.fromisoformat(stored).replace(tzinfo=UTC))


def _time_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def _nothing() -> Generator[Any, None, None]:
    yield from ()


class _Answers:
    """The ``answers`` cells of successive chunks of persons (in increasing id order), read
    from one stream of answered entries in the same order: what each person answered to the
    qualifying questions, as JSON by contest slug, or empty."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._next = next(rows, None)

    def cells(self, person_ids: list[int]) -> list[str]:
        if self._next is None:  # nobody (left) answered anything
            return [""] * len(person_ids)
        cells = []
        for person_id in person_ids:
            found: dict[str, Any] = {}
            while self._next is not None and self._next[0] <= person_id:
                _, slug, answers = self._next
                if self._next[0] == person_id and isinstance(answers.get(QUESTIONS), dict):
                    found[slug] = answers[QUESTIONS]
                self._next = next(self._rows, None)
            cells.append(json.dumps(found, ensure_ascii=False, sort_keys=True) if found else "")
        return cells


def _answers_of(organizer_id: int, contest_id: int | None) -> AnswersOf:
    """The answered entries of the organizer's contests (of ``contest_id`` only, when given),
    by person then entry: one streamed query for the whole file."""

    def rows(connection: Connection) -> Generator[Any, None, None]:
        query = (
            sa.select(_entry.c.person_id, _contest.c.slug, _entry.c.answers)
            .join(_contest, _contest.c.id == _entry.c.contest_id)
            .where(
                _contest.c.organizer_id == organizer_id,
                _entry.c.answers[QUESTIONS].as_string().is_not(None),
            )
            .order_by(_entry.c.person_id, _entry.c.id)
        )
        if contest_id is not None:
            query = query.where(_entry.c.contest_id == contest_id)
        with connection.execution_options(yield_per=CHUNK_ROWS).execute(query) as result:
            yield from result

    return rows


def _csv_rows(
    rows: Sequence[Any], time_text: Callable[[Any], str], urls: list[str], answers: list[str]
) -> Iterator[list[object]]:
    """The CSV rows of :func:`lead_query`'s rows (without ``last_activity_at``), with each
    person's preferences link and answers."""
    safe = _safe
    for row, url, given in zip(rows, urls, answers, strict=True):
        _, email, first_name, segment, score, purpose, state, since, version, contests, source = row
        yield [
            safe(email),
            safe(first_name),
            segment,
            score,
            safe(purpose),
            state,
            time_text(since),
            version or "",
            safe(source or ""),
            contests,
            url,
            given,
        ]


def _safe(text: str) -> str:
    """``spreadsheet_safe``, at once for the usual cell: one starting with an ASCII letter or
    digit is never read as a formula (nor skipped before one), so it is left as it is."""
    first = text[:1]
    return text if first.isascii() and first.isalnum() else spreadsheet_safe(text)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()
