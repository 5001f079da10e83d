"""Data-subject rights and retention: export, erasure, the retention purge. No HTTP.

EU-RIGHTS-1 (access, portability, erasure, each request logged with its deadline),
EU-RETENTION-1 (contest-only data deleted after the contest; unconfirmed sign-ups deleted when
their link expires), EU-WITHDRAW-1 (an objection outlives erasure as a suppression hash) and
ALL-DRAW-PRIVACY-1 (erasure keeps a published draw verifiable).

**What erasing a person does**, for one organizer (people are per organizer):

- *Person*: the row stays as a tombstone referenced by what is kept. ``email`` becomes
  ``erased-{id}@invalid``, ``email_key`` ``erased:{id}`` (no hash of the address: a keyed hash
  would still let the organizer recognise the address, so a returning participant is a new
  person), ``first_name`` empty, ``undeliverable`` set, ``erased_at`` set.
- *Entries* of a drawn or frozen contest that were in its pool (confirmed, contest with a draw
  record or a pool frozen at its close) are kept: ticket (``public_id``), ``chances``, status
  and dates are what the published pool lists, and it never held personal data, so it still
  verifies. Their ``answers`` (the form's fields and the qualifying questions' answers),
  ``ip_network`` and share code are cleared; referral rows stay (they explain the published
  weights) and their placements stay. Every other entry is
  deleted, with the referral rows on either side, its invitations and its share-link clicks;
  entries it brought lose their ``referrer_entry_id``; the referrer keeps chances already
  credited.
- *Prizes*: awards already claimed or delivered are kept (with the voucher code: proof that
  the announced prize was awarded, accounting). A prize still waiting for its claim is
  renounced: it passes at once to the next alternate (``claims.pass_unclaimed``), with the
  reason ``ERASED``, since nobody could deliver it any more.
- *Consent records* stay (the ledger is append-only and chained): ``wording``,
  ``wording_hash``, purpose, event, language and dates are not personal data once the person is
  gone; ``ip_truncated``, ``user_agent`` and ``page_url`` are blanked, ``entry_id`` cleared when
  the entry is deleted, and ``channel`` set to ``erased``: the ledger check must not recompute
  the hash of such records but still check ``seq`` and ``prev_hash``. A ``withdrawn`` record
  (blank, the request's channel) is appended for every consent still given, as
  EU-CONSENT-PROOF-1 asks for every later change.
- *Suppression*: when the person had objected (the latest record of a marketing purpose is
  ``withdrawn``), the keyed hash of the address goes to ``invitesuppression`` so the objection
  is still honoured; otherwise no hash of the address is kept anywhere.
- *Outbox*: the person's messages (to their address and about their entries, awards or
  consents, CRM events carrying the address, invitations they sent) are deleted while not sent;
  sent ones keep their log line with the recipient, the address-bearing key and the personal
  payload fields blanked.
- *Client row* and its versions (the shop's imports, joined by the identity key) and contact
  events are deleted:
  the organizer must erase the client in the shop too or the next import brings it back.
- A ``datarequest`` (``erasure``) and an ``auditevent`` (``person.erased``, counts only).
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from contest import tables
from contest.contests import load_contest
from contest.leads import crm
from contest.models import AwardStatus, EntryStatus, OutboxStatus, PurgeLog
from contest.prizes import claims
from contest.storage import write_options
from contest.tokens import Purpose
from viral import invitations

RESPONSE_TIME = timedelta(days=30)  # Art. 12(3): one month
LINK_LIFETIME = timedelta(seconds=Purpose.CONFIRM.value[1])  # the confirmation link's expiry
MARKETING = ("marketing_email", "marketing_sms", "partners", "client_contests")
ERASED_CHANNEL = "erased"
ERASED = "the winner's data were erased"
PERSONAL_KEYS = frozenset({"email", "first_name", "referrer_name", "name", "code"})

log = logging.getLogger(__name__)


class PersonNotFound(LookupError):
    """No such person for this organizer."""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did, per table, and the former identity key's SHA-256 (for the CRM
    ``lead.erased`` event; it is returned, never stored). Empty when already erased."""

    person_id: int
    erased_at: datetime
    email_key_hash: str
    deleted: dict[str, int] = field(default_factory=dict)
    blanked: dict[str, int] = field(default_factory=dict)
    suppressed: bool = False


# --- Erasure -------------------------------------------------------------------------------


def erase_person(
    connection: Connection,
    organizer_id: int,
    person_id: int,
    now: datetime,
    channel: str,
    *,
    suppression_key: bytes,
) -> ErasureReport:
    """Erases the person's data for this organizer (see the module docstring for what is
    deleted, blanked and kept) and logs the request as answered. ``suppression_key`` is the
    invitations' address-hash key (``settings.secret_keys[0]``), used only after an objection.

    Refuses (PersonNotFound) a person of another organizer. A person already erased gets an
    empty report and nothing is written.
    """
    person = person_of(connection, organizer_id, person_id)
    if person.erased_at is not None:
        return ErasureReport(person_id, person.erased_at, "")
    report = _erase(connection, person, now, channel, suppression_key)
    # The organizer's CRM erases the lead too: Brevo by the address (kept in the outbox row
    # only until delivered), a webhook by a pseudonym keyed with its secret.
    crm.enqueue_event(
        connection, organizer_id, crm.ERASED, {}, key=str(person_id), now=now,
        recipient=person.email,
    )  # fmt: skip
    log_request(connection, organizer_id, person_id, "erasure", channel, now)
    _audit(
        connection, organizer_id, None, "person.erased", now, person=person_id, **_counts(report)
    )
    return report


def _erase(
    connection: Connection, person: Any, now: datetime, channel: str, key: bytes
) -> ErasureReport:
    deleted: dict[str, int] = defaultdict(int)
    blanked: dict[str, int] = defaultdict(int)
    entry, record = tables.entry, tables.drawrecord
    entries = connection.execute(
        sa.select(entry.c.id, entry.c.contest_id, entry.c.status, entry.c.public_id).where(
            entry.c.person_id == person.id
        )
    ).all()
    ids = [row.id for row in entries]
    contests = sorted({row.contest_id for row in entries})
    freeze = tables.poolfreeze
    drawn = set(  # or frozen: the pool published at the close lists the ticket
        connection.execute(
            sa.select(record.c.contest_id).where(record.c.contest_id.in_(contests))
        ).scalars()
    ) | set(
        connection.execute(
            sa.select(freeze.c.contest_id).where(freeze.c.contest_id.in_(contests))
        ).scalars()
    )
    kept = [r.id for r in entries if r.contest_id in drawn and r.status == EntryStatus.CONFIRMED]
    objected = _objected(connection, person.id)
    _erase_outbox(connection, person, entries, deleted, blanked)
    codes = connection.execute(
        sa.select(entry.c.contest_id, entry.c.referral_code).where(
            entry.c.id.in_(ids), entry.c.referral_code.is_not(None)
        )
    ).all()
    click = tables.linkclick
    for contest_id, code in codes:
        deleted["linkclick"] += connection.execute(
            sa.delete(click).where(
                click.c.contest_id == contest_id, click.c.kind == "referral", click.c.code == code
            )
        ).rowcount
    _delete_entries(connection, [i for i in ids if i not in kept], deleted)
    _anonymise_entries(connection, kept, now, blanked)
    _erase_consents(connection, person, now, channel, blanked)
    contact, client = tables.contactevent, tables.client
    deleted["contactevent"] += connection.execute(
        sa.delete(contact).where(contact.c.person_id == person.id)
    ).rowcount
    recipient = tables.campaignrecipient
    deleted["campaignrecipient"] += connection.execute(
        sa.delete(recipient).where(recipient.c.person_id == person.id)
    ).rowcount
    deleted["client"] += connection.execute(
        sa.delete(client).where(
            client.c.organizer_id == person.organizer_id, client.c.email_key == person.email_key
        )
    ).rowcount
    versions = tables.clientversion
    deleted["clientversion"] += connection.execute(
        sa.delete(versions).where(
            versions.c.organizer_id == person.organizer_id,
            versions.c.email_key == person.email_key,
        )
    ).rowcount
    if objected:
        invitations.suppress(connection, invitations.address_hash(key, person.email_key), now)
    person_t = tables.person
    connection.execute(
        sa.update(person_t)
        .where(person_t.c.id == person.id)
        .values(
            email=f"erased-{person.id}@invalid",
            email_key=f"erased:{person.id}",
            first_name="",
            undeliverable=True,
            last_activity_at=None,
            erased_at=now,
        )
    )
    blanked["person"] += 1
    return ErasureReport(
        person_id=person.id,
        erased_at=now,
        email_key_hash=hashlib.sha256(person.email_key.encode()).hexdigest(),
        deleted={k: v for k, v in deleted.items() if v},
        blanked={k: v for k, v in blanked.items() if v},
        suppressed=objected,
    )


def _objected(connection: Connection, person_id: int) -> bool:
    """Whether the latest record of some marketing purpose is a withdrawal (an objection)."""
    return any(event == "withdrawn" for event in _latest(connection, person_id).values())


def _latest(connection: Connection, person_id: int) -> dict[str, str]:
    consent = tables.consentrecord
    rows = connection.execute(
        sa.select(consent.c.purpose, consent.c.event)
        .where(consent.c.person_id == person_id, consent.c.purpose.in_(MARKETING))
        .order_by(consent.c.id)
    )
    return {purpose: event for purpose, event in rows}


def _erase_outbox(
    connection: Connection,
    person: Any,
    entries: Any,
    deleted: dict[str, int],
    blanked: dict[str, int],
) -> None:
    """The person's messages: deleted while unsent, their personal fields blanked once sent."""
    box, invitation = tables.outboxmessage, tables.invitation
    email, key = person.email.lower(), person.email_key.lower()
    tickets = {row.public_id for row in entries}
    ids = [row.id for row in entries]
    awards = set(
        connection.execute(
            sa.select(tables.prizeaward.c.id).where(tables.prizeaward.c.entry_id.in_(ids))
        ).scalars()
    )
    consents = set(
        connection.execute(
            sa.select(tables.consentrecord.c.id).where(
                tables.consentrecord.c.person_id == person.id
            )
        ).scalars()
    )
    invited = {
        f"invitation:{i}"
        for i in connection.execute(
            sa.select(invitation.c.id).where(invitation.c.referrer_entry_id.in_(ids))
        ).scalars()
    }
    interest = f"interest:{person.organizer_id}:{person.email_key}:"
    rows = connection.execute(
        sa.select(box).where(
            sa.or_(
                sa.func.lower(box.c.recipient) == email,
                box.c.idempotency_key.startswith(interest, autoescape=True),
                box.c.idempotency_key.in_(invited),
                sa.and_(
                    box.c.kind == "crm",
                    sa.func.lower(sa.cast(box.c.payload, sa.Text)).contains(email, autoescape=True),
                ),
            )
        )
    ).all()
    for row in rows:
        payload = row.payload or {}
        ours = (
            row.idempotency_key.startswith(interest)
            or row.idempotency_key in invited
            or payload.get("entry") in tickets
            or payload.get("award") in awards
            or payload.get("consent") in consents
            or payload.get("organizer") == person.organizer_id
        )
        if not ours:  # the same address, but another organizer's participant
            continue
        if row.status in {OutboxStatus.PENDING, OutboxStatus.FAILED}:
            deleted["outboxmessage"] += connection.execute(
                sa.delete(box).where(box.c.id == row.id)
            ).rowcount
            continue
        mine = row.recipient.lower() == email
        leaks = email in row.idempotency_key.lower() or key in row.idempotency_key.lower()
        connection.execute(
            sa.update(box)
            .where(box.c.id == row.id)
            .values(
                recipient="" if mine else row.recipient,
                idempotency_key=f"erased:{row.id}" if leaks else row.idempotency_key,
                payload=_scrub(payload, (email, key)),
            )
        )
        blanked["outboxmessage"] += 1


def _scrub(value: Any, needles: tuple[str, ...], name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, needles, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, str) and (
        name in PERSONAL_KEYS or any(n in value.lower() for n in needles)
    ):
        return ""
    return value


def _delete_entries(connection: Connection, ids: list[int], deleted: dict[str, int]) -> None:
    """Deletes entries with what refers to them. Placements and awards exist only for drawn
    entries, which are kept; they are deleted here only so that no reference can remain."""
    if not ids:
        return
    entry, ref = tables.entry, tables.referral
    connection.execute(
        sa.update(entry).where(entry.c.referrer_entry_id.in_(ids)).values(referrer_entry_id=None)
    )
    deleted["referral"] += connection.execute(
        sa.delete(ref).where(
            sa.or_(ref.c.referrer_entry_id.in_(ids), ref.c.referred_entry_id.in_(ids))
        )
    ).rowcount
    for t, column in (
        (tables.invitation, tables.invitation.c.referrer_entry_id),
        (tables.prizeaward, tables.prizeaward.c.entry_id),
        (tables.drawplacement, tables.drawplacement.c.entry_id),
    ):
        deleted[t.name] += connection.execute(sa.delete(t).where(column.in_(ids))).rowcount
    consent = tables.consentrecord
    connection.execute(sa.update(consent).where(consent.c.entry_id.in_(ids)).values(entry_id=None))
    deleted["entry"] += connection.execute(sa.delete(entry).where(entry.c.id.in_(ids))).rowcount


def _anonymise_entries(
    connection: Connection, ids: list[int], now: datetime, blanked: dict[str, int]
) -> None:
    """Drawn entries keep ticket and weight; a prize still to claim passes to an alternate."""
    if not ids:
        return
    entry, invitation, award = tables.entry, tables.invitation, tables.prizeaward
    blanked["entry"] += connection.execute(
        sa.update(entry)
        .where(entry.c.id.in_(ids))
        .values(answers={}, ip_network="", referral_code=None)
    ).rowcount
    blanked["invitation"] += connection.execute(
        sa.update(invitation)
        .where(invitation.c.referrer_entry_id.in_(ids), invitation.c.ip_network != "")
        .values(ip_network="")
    ).rowcount
    waiting = connection.execute(
        sa.select(award.c.id, award.c.contest_id).where(
            award.c.entry_id.in_(ids), award.c.status == AwardStatus.NOTIFIED
        )
    ).all()
    for award_id, contest_id in waiting:
        connection.execute(
            sa.update(award)
            .where(award.c.id == award_id)
            .values(deadline=now - timedelta(seconds=1))
        )
        slug = connection.execute(
            sa.select(tables.contest.c.slug).where(tables.contest.c.id == contest_id)
        ).scalar_one()
        contest = load_contest(connection, slug, include_drafts=True)
        assert contest is not None
        claims.pass_unclaimed(connection, contest, now)
        connection.execute(sa.update(award).where(award.c.id == award_id).values(reason=ERASED))
        blanked["prizeaward"] += 1


def _erase_consents(
    connection: Connection, person: Any, now: datetime, channel: str, blanked: dict[str, int]
) -> None:
    """Blanks the how of each record (channel ``erased``) and appends the withdrawals."""
    consent = tables.consentrecord
    current = {p for p, event in _latest(connection, person.id).items() if event != "withdrawn"}
    latest = {
        row.purpose: row
        for row in connection.execute(
            sa.select(consent)
            .where(consent.c.person_id == person.id, consent.c.purpose.in_(current))
            .order_by(consent.c.id)
        )
    }
    blanked["consentrecord"] += connection.execute(
        sa.update(consent)
        .where(consent.c.person_id == person.id)
        .values(ip_truncated="", user_agent="", page_url="", channel=ERASED_CHANNEL)
    ).rowcount
    if latest:
        connection.execute(
            sa.insert(consent),
            [
                {
                    "organizer_id": person.organizer_id,
                    "person_id": person.id,
                    "entry_id": None,
                    "purpose": purpose,
                    "event": "withdrawn",
                    "wording": row.wording,
                    "wording_hash": row.wording_hash,
                    "language": row.language,
                    "page_url": "",
                    "channel": channel,
                    "ip_truncated": "",
                    "user_agent": "",
                    "created_at": now,
                }
                for purpose, row in sorted(latest.items())
            ],
        )


# --- Retention ------------------------------------------------------------------------------


def purge_expired(
    engine: Engine, now: datetime, *, suppression_key: bytes, default_months: int = 12
) -> list[PurgeLog]:
    """The scheduled retention purge (EU-RETENTION-1); idempotent, one transaction per contest.

    (d) Pending entries whose confirmation link has expired (``LINK_LIFETIME`` after it was
    last sent) are deleted; a person left with nothing else is erased. (b) Once a contest's end
    (close, or the end of the claim window after the draw date) is older than its
    ``retention_months`` (``default_months`` when unset), its participants are erased unless
    they hold a current marketing consent (the latest record of a marketing purpose is
    ``confirmed``), entered a contest of the organizer still within retention, or had a
    meaningful activity (``last_activity_at``) within that period. Returns the ``purgelog``
    rows written: one per contest where someone was purged, none when there was nothing to do.
    """
    contest, record = tables.contest, tables.drawrecord
    with engine.connect() as connection:
        contests = connection.execute(
            sa.select(
                contest.c.id,
                contest.c.organizer_id,
                contest.c.closes_at,
                contest.c.draw_at,
                contest.c.claim_days,
                contest.c.retention_months,
                record.c.drawn_at,
            )
            .outerjoin(record, record.c.contest_id == contest.c.id)
            .where(contest.c.status != "draft")
            .order_by(contest.c.id)
        ).all()
    ends = {row.id: _retention_end(row, default_months) for row in contests}
    live = [cid for cid, end in ends.items() if end is None or end > now]
    logs = []
    for row in contests:
        with engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                persons = _purge_pending(connection, row.id, now, suppression_key)
                end = ends[row.id]
                if end is not None and end <= now:
                    months = row.retention_months or default_months
                    persons |= _purge_contest(
                        connection, row, live, _add_months(now, -months), now, suppression_key
                    )
                if persons:
                    logs.append(_log_purge(connection, row.organizer_id, row.id, persons, now))
    return logs


class RetentionJob:
    """The worker's maintenance duty: :func:`purge_expired` at most once per ``every`` (the
    maintenance hook runs every minute; the purge opens a write transaction per contest)."""

    def __init__(
        self, engine: Engine, suppression_key: bytes, every: timedelta = timedelta(hours=1)
    ) -> None:
        self.engine, self.suppression_key, self.every = engine, suppression_key, every
        self.last: datetime | None = None

    def __call__(self, now: datetime) -> list[PurgeLog]:
        if self.last is not None and now - self.last < self.every:
            return []
        self.last = now
        return purge_expired(self.engine, now, suppression_key=self.suppression_key)


def _retention_end(row: Any, default_months: int) -> datetime | None:
    if row.closes_at is None:
        return None
    end: datetime = row.closes_at
    drawn = row.drawn_at or row.draw_at
    if drawn is not None and row.claim_days:
        end = max(end, drawn + timedelta(days=row.claim_days))
    return _add_months(end, row.retention_months or default_months)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _purge_pending(connection: Connection, contest_id: int, now: datetime, key: bytes) -> set[int]:
    """Deletes the contest's pending entries whose link expired; returns the persons touched."""
    entry, person_t = tables.entry, tables.person
    sent = sa.func.coalesce(entry.c.confirmation_sent_at, entry.c.created_at)
    expired = connection.execute(
        sa.select(entry.c.id, entry.c.person_id).where(
            entry.c.contest_id == contest_id,
            entry.c.status == EntryStatus.PENDING,
            sent < now - LINK_LIFETIME,
        )
    ).all()
    touched = set()
    for entry_id, person_id in expired:
        others = connection.execute(
            sa.select(sa.func.count()).where(entry.c.person_id == person_id, entry.c.id != entry_id)
        ).scalar_one()
        if others or "confirmed" in _latest(connection, person_id).values():
            deleted: dict[str, int] = defaultdict(int)
            consent = tables.consentrecord
            connection.execute(
                sa.update(consent)
                .where(consent.c.entry_id == entry_id)
                .values(ip_truncated="", user_agent="", page_url="", channel=ERASED_CHANNEL)
            )
            _delete_entries(connection, [entry_id], deleted)
        else:
            person = connection.execute(sa.select(person_t).where(person_t.c.id == person_id)).one()
            _erase(connection, person, now, "retention", key)
        touched.add(person_id)
    return touched


def _purge_contest(
    connection: Connection,
    contest: Any,
    live: list[int],
    since: datetime,
    now: datetime,
    key: bytes,
) -> set[int]:
    """Erases the expired contest's participants who have no reason to be kept."""
    entry, person_t, consent = tables.entry, tables.person, tables.consentrecord
    latest = (
        sa.select(sa.func.max(consent.c.id).label("id"))
        .where(consent.c.organizer_id == contest.organizer_id, consent.c.purpose.in_(MARKETING))
        .group_by(consent.c.person_id, consent.c.purpose)
        .subquery()
    )
    consenting = (
        sa.select(consent.c.person_id)
        .join(latest, latest.c.id == consent.c.id)
        .where(consent.c.event == "confirmed")
    )
    elsewhere = sa.select(entry.c.person_id).where(entry.c.contest_id.in_(live))
    people = connection.execute(
        sa.select(person_t)
        .where(
            person_t.c.id.in_(sa.select(entry.c.person_id).where(entry.c.contest_id == contest.id)),
            person_t.c.erased_at.is_(None),
            person_t.c.id.not_in(consenting),
            person_t.c.id.not_in(elsewhere),
            sa.or_(person_t.c.last_activity_at.is_(None), person_t.c.last_activity_at <= since),
        )
        .order_by(person_t.c.id)
    ).all()
    for person in people:
        _erase(connection, person, now, "retention", key)
    return {person.id for person in people}


def _log_purge(
    connection: Connection, organizer_id: int, contest_id: int, persons: set[int], now: datetime
) -> PurgeLog:
    log = PurgeLog(
        organizer_id=organizer_id, contest_id=contest_id, persons=len(persons), ran_at=now
    )
    inserted = connection.execute(
        sa.insert(tables.purgelog).values(log.model_dump(exclude={"id"}))
    ).inserted_primary_key
    log.id = inserted[0] if inserted else None
    _audit(connection, organizer_id, contest_id, "privacy.purged", now, persons=len(persons))
    return log


# --- Shared ---------------------------------------------------------------------------------


def person_of(connection: Connection, organizer_id: int, person_id: int) -> Any:
    person = tables.person
    row = connection.execute(
        sa.select(person).where(person.c.id == person_id, person.c.organizer_id == organizer_id)
    ).first()
    if row is None:
        raise PersonNotFound(person_id)
    return row


def log_request(
    connection: Connection,
    organizer_id: int,
    person_id: int,
    kind: str,
    channel: str,
    now: datetime,
) -> None:
    connection.execute(
        sa.insert(tables.datarequest).values(
            organizer_id=organizer_id,
            person_id=person_id,
            kind=kind,
            channel=channel,
            requested_at=now,
            deadline=now + RESPONSE_TIME,
            completed_at=now,
        )
    )


def _audit(
    connection: Connection,
    organizer_id: int,
    contest_id: int | None,
    action: str,
    now: datetime,
    **detail: Any,
) -> None:
    connection.execute(
        sa.insert(tables.auditevent).values(
            organizer_id=organizer_id,
            contest_id=contest_id,
            action=action,
            detail=detail,
            created_at=now,
        )
    )


def _counts(report: ErasureReport) -> dict[str, Any]:
    return {"deleted": report.deleted, "blanked": report.blanked, "suppressed": report.suppressed}


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- Proof ----------------------------------------------------------------------------------


def personal_data_scan(connection: Connection, needles: Iterable[str]) -> list[tuple[str, str]]:
    """Every (table, column) of text or JSON whose value contains one of ``needles`` (case
    insensitive): the proof, in tests and audits, that an erasure left nothing behind."""
    wanted = [n.lower() for n in needles if n]
    found = []
    for name, column in _text_columns():
        text = sa.func.lower(sa.cast(column, sa.Text))
        hit = sa.or_(*(text.contains(n, autoescape=True) for n in wanted))
        query = sa.select(sa.literal(1)).select_from(column.table).where(hit).limit(1)
        if wanted and connection.execute(query).first():
            found.append((name, column.name))
    return found


def _text_columns() -> Iterator[tuple[str, sa.Column[Any]]]:
    for t in SQLModel.metadata.sorted_tables:
        for column in t.columns:
            kind = column.type
            if isinstance(kind, sa.types.TypeDecorator):  # SQLModel's AutoString, UTCDateTime
                kind = kind.impl_instance
            if isinstance(kind, sa.String | sa.JSON):
                yield t.name, column
